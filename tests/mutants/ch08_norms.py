"""Plausible wrong versions of chapter 8's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # BatchNorm
    Mutant("ch08.BatchNorm", "momentum inverted: 0.1 taken as the weight of the old value, as in SGD momentum",
           old="                self.means.lerp_(mean, self.mom)\n                self.vars.lerp_(var * n / (n - 1), self.mom)",
           new="                self.means.lerp_(mean, 1 - self.mom)\n                self.vars.lerp_(var * n / (n - 1), 1 - self.mom)"),
    Mutant("ch08.BatchNorm", "normalises with the unbiased variance (torch's default .var())",
           old="            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            var = x.var((0, 2, 3), keepdim=True)"),
    Mutant("ch08.BatchNorm", "statistics over the wrong axes (per image and channel, not over the batch)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            mean = x.mean((2, 3), keepdim=True)\n            centred = x - mean\n"
               "            var = (centred * centred).mean((2, 3), keepdim=True)"),
    Mutant("ch08.BatchNorm", "statistics over the wrong axes (forgets the pixels: only over the batch)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            mean = x.mean(0, keepdim=True)\n            centred = x - mean\n"
               "            var = (centred * centred).mean(0, keepdim=True)"),
    Mutant("ch08.BatchNorm", "eval mode still uses (and updates) the batch statistics",
           old="        if self.training:\n            n = x.numel() // x.shape[1]",
           new="        if True:\n            n = x.numel() // x.shape[1]"),
    Mutant("ch08.BatchNorm", "running statistics computed with gradients attached",
           old="            with torch.no_grad():\n                self.means.lerp_(mean, self.mom)",
           new="            if True:\n                self.means.lerp_(mean, self.mom)"),
    Mutant("ch08.BatchNorm", "batch statistics computed under no_grad, so no gradient flows through them (the lesson's version)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            with torch.no_grad():\n                mean = x.mean((0, 2, 3), keepdim=True)\n"
               "                var = ((x - mean) ** 2).mean((0, 2, 3), keepdim=True)\n            centred = x - mean"),
    Mutant("ch08.BatchNorm", "stores the biased variance in the running estimate",
           old="self.vars.lerp_(var * n / (n - 1), self.mom)", new="self.vars.lerp_(var, self.mom)"),
    Mutant("ch08.BatchNorm", "running statistics kept as plain attributes instead of buffers",
           old='        self.register_buffer("means", torch.zeros(1, nf, 1, 1))\n'
               '        self.register_buffer("vars", torch.ones(1, nf, 1, 1))',
           new="        self.means = torch.zeros(1, nf, 1, 1)\n        self.vars = torch.ones(1, nf, 1, 1)"),
    # LayerNorm
    Mutant("ch08.LayerNorm", "normalises each channel separately (axes 2, 3: that is InstanceNorm)",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        centred = x - x.mean((2, 3), keepdim=True)\n        var = (centred * centred).mean((2, 3), keepdim=True)"),
    Mutant("ch08.LayerNorm", "divides by sqrt(std + eps) instead of sqrt(var + eps) (the lesson's first version)",
           old="        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        var = (centred * centred).mean((1, 2, 3), keepdim=True).sqrt()"),
    Mutant("ch08.LayerNorm", "eps added outside the square root",
           old="        return centred / (var + self.eps).sqrt() * self.mult + self.add",
           new="        return centred / (var.sqrt() + self.eps) * self.mult + self.add"),
    Mutant("ch08.LayerNorm", "statistics over the batch (axes 0, 2, 3: that is BatchNorm)",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        centred = x - x.mean((0, 2, 3), keepdim=True)\n        var = (centred * centred).mean((0, 2, 3), keepdim=True)"),
    # InstanceNorm
    Mutant("ch08.InstanceNorm", "statistics over channels and pixels (axes 1, 2, 3: that is LayerNorm)",
           old="        centred = x - x.mean((2, 3), keepdim=True)\n        var = (centred * centred).mean((2, 3), keepdim=True)",
           new="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)"),
    Mutant("ch08.InstanceNorm", "normalises with the unbiased variance",
           old="        var = (centred * centred).mean((2, 3), keepdim=True)",
           new="        var = x.var((2, 3), keepdim=True)"),
    Mutant("ch08.InstanceNorm", "one scale and shift for all channels",
           old="        self.eps = eps\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))",
           new="        self.eps = eps\n        self.mults = nn.Parameter(torch.ones(1))\n"
               "        self.adds = nn.Parameter(torch.zeros(1))"),
    # GroupNorm
    Mutant("ch08.GroupNorm", "groups interleaved channels (reshaped as (N, C // G, G, H, W))",
           old="        grouped = x.reshape(n, self.groups, c // self.groups, h, w)",
           new="        grouped = x.reshape(n, c // self.groups, self.groups, h, w)"),
    Mutant("ch08.GroupNorm", "statistics over the pixels only, not over the channels of a group",
           old="        centred = grouped - grouped.mean((2, 3, 4), keepdim=True)\n"
               "        var = (centred * centred).mean((2, 3, 4), keepdim=True)",
           new="        centred = grouped - grouped.mean((3, 4), keepdim=True)\n"
               "        var = (centred * centred).mean((3, 4), keepdim=True)"),
    Mutant("ch08.GroupNorm", "accepts a number of groups that does not divide the channels",
           old="        if groups < 1 or nf % groups:\n",
           new="        if False:\n"),
    # norm_axes
    Mutant("ch08.norm_axes", "group axes of the input instead of the grouped view (forgets the extra axis)",
           old="        return tuple(range(2, ndim + 1))", new="        return tuple(range(2, ndim))"),
    Mutant("ch08.norm_axes", "batch axes hard-coded for images",
           old="        return (0, *spatial)", new="        return (0, 2, 3)"),
    Mutant("ch08.norm_axes", "instance axes include the channels",
           old="        return spatial\n", new="        return (1, *spatial)\n"),
    Mutant("ch08.norm_axes", "an unknown kind silently gives no axes",
           old="    raise ValueError(f\"norm_axes: unknown kind", new="    return ()\n    raise ValueError(f\"norm_axes: unknown kind"),
    # conv_norm_layer
    Mutant("ch08.conv_norm_layer", "keeps the convolution's bias in front of a normalisation",
           old="bias=norm is None)]", new="bias=True)]"),
    Mutant("ch08.conv_norm_layer", "activation before the normalisation",
           old="    if norm is not None:\n        layers.append(norm(nf))\n    layers.append(act())",
           new="    layers.append(act())\n    if norm is not None:\n        layers.append(norm(nf))"),
    Mutant("ch08.conv_norm_layer", "no padding, so the images shrink",
           old="stride=stride, padding=ks // 2, bias=norm is None", new="stride=stride, padding=0, bias=norm is None"),
    # RunningBatchNorm
    Mutant("ch08.RunningBatchNorm", "no early variance clamp",
           old="clamp_min(0.01 if self.batch < 20 else 0.0)", new="clamp_min(0.0)"),
    Mutant("ch08.RunningBatchNorm", "counts samples in a plain attribute, lost by state_dict",
           old='        self.register_buffer("batch", torch.tensor(0))', new="        self.batch = 0"),
    Mutant("ch08.RunningBatchNorm", "momentum does not depend on the batch size",
           old="            mom1 = 1 - (1 - self.mom) / math.sqrt(bs - 1) if bs > 1 else self.mom",
           new="            mom1 = self.mom"),
    Mutant("ch08.RunningBatchNorm", "count not averaged like the sums, so the start-at-zero bias does not cancel",
           old="            count = self.count.lerp(self.count.new_tensor([x.numel() / x.shape[1]]), mom1)",
           new="            count = self.count.new_tensor([x.numel() / x.shape[1]])"),
    Mutant("ch08.RunningBatchNorm", "keeps the running sums with their autograd graph",
           old="            self.sums.copy_(sums.detach())\n            self.sqrs.copy_(sqrs.detach())",
           new="            self.sums = sums\n            self.sqrs = sqrs"),
    Mutant("ch08.RunningBatchNorm", "updates the running statistics in eval mode too",
           old="        if self.training:\n            bs = x.shape[0]", new="        if True:\n            bs = x.shape[0]"),
    # fold_batchnorm
    Mutant("ch08.fold_batchnorm", "forgets eps", old="factor = bn.weight / (bn.running_var + bn.eps).sqrt()",
           new="factor = bn.weight / bn.running_var.sqrt()"),
    Mutant("ch08.fold_batchnorm", "drops the convolution's own bias",
           old="        fused.bias.copy_(conv_bias * factor + offset)", new="        fused.bias.copy_(offset)"),
    Mutant("ch08.fold_batchnorm", "subtracts the mean without scaling it",
           old="        offset = bn.bias - bn.running_mean * factor", new="        offset = bn.bias - bn.running_mean"),
    Mutant("ch08.fold_batchnorm", "scales the original convolution's weight in place",
           old="fused.weight.copy_(conv.weight * factor.reshape(-1, 1, 1, 1))",
           new="fused.weight.copy_(conv.weight.mul_(factor.reshape(-1, 1, 1, 1)))"),
    Mutant("ch08.fold_batchnorm", "loses the stride", old="conv.kernel_size, stride=conv.stride,",
           new="conv.kernel_size,"),
    # shortcuts through the built-ins the tests use as oracles
    Mutant("ch08.BatchNorm", "calls F.batch_norm with the buffers instead of writing it",
           old="        if self.training:\n            n = x.numel() // x.shape[1]",
           new="        return torch.nn.functional.batch_norm(x, self.means.view(-1), self.vars.view(-1), self.mults.view(-1),\n"
               "                                              self.adds.view(-1), self.training, self.mom, self.eps)\n"
               "        if self.training:\n            n = x.numel() // x.shape[1]"),
    Mutant("ch08.LayerNorm", "calls F.layer_norm instead of writing it",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.layer_norm(x, x.shape[1:], eps=self.eps) * self.mult + self.add\n"),
    Mutant("ch08.LayerNorm", "calls F.group_norm with one group instead of writing it",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.group_norm(x, 1, eps=self.eps) * self.mult + self.add\n"),
    Mutant("ch08.InstanceNorm", "calls F.instance_norm instead of writing it",
           old="        centred = x - x.mean((2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.instance_norm(x, weight=self.mults.view(-1), bias=self.adds.view(-1),\n"
               "                                                 eps=self.eps)\n"),
    Mutant("ch08.GroupNorm", "calls F.group_norm instead of writing it",
           old="        n, c, h, w = x.shape\n",
           new="        return torch.nn.functional.group_norm(x, self.groups, self.mults.view(-1), self.adds.view(-1), self.eps)\n"),
    Mutant("ch08.fold_batchnorm", "calls torch.nn.utils.fuse_conv_bn_eval on a copy of the conv",
           old="    with torch.no_grad():\n        factor = bn.weight",
           new="    import copy\n    return torch.nn.utils.fuse_conv_bn_eval(copy.deepcopy(conv).eval(), bn)\n"
               "    with torch.no_grad():\n        factor = bn.weight"),
    # eps and gradients
    Mutant("ch08.BatchNorm", "eps added outside the square root",
           old="        return centred * (self.mults / (var + self.eps).sqrt()) + self.adds",
           new="        return centred * (self.mults / (var.sqrt() + self.eps)) + self.adds"),
    Mutant("ch08.BatchNorm", "ignores the eps argument (always 1e-5)",
           old="        self.mom, self.eps = mom, eps\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))\n        self.register_buffer(\"means\"",
           new="        self.mom, self.eps = mom, 1e-5\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))\n        self.register_buffer(\"means\""),
    Mutant("ch08.GroupNorm", "eps added outside the square root",
           old="        normalised = centred / (var + self.eps).sqrt()",
           new="        normalised = centred / (var.sqrt() + self.eps)"),
    Mutant("ch08.RunningBatchNorm", "mixes the batch in without gradient, so the batch statistics are constants backwards",
           old="            sums = self.sums.lerp(x.sum((0, 2, 3), keepdim=True), mom1)\n"
               "            sqrs = self.sqrs.lerp((x * x).sum((0, 2, 3), keepdim=True), mom1)",
           new="            with torch.no_grad():\n                sums = self.sums.lerp(x.sum((0, 2, 3), keepdim=True), mom1)\n"
               "                sqrs = self.sqrs.lerp((x * x).sum((0, 2, 3), keepdim=True), mom1)"),
]
