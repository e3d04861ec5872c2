"""Plausible wrong versions of chapter 8's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # BatchNorm
    Mutant("ch08.BatchNorm", "momentum inverted: 0.1 taken as the weight of the old value, as in SGD momentum",
           old="                self.means.lerp_(mean, self.mom)\n                self.vars.lerp_(var * n / (n - 1), self.mom)",
           new="                self.means.lerp_(mean, 1 - self.mom)\n                self.vars.lerp_(var * n / (n - 1), 1 - self.mom)",
           learner="You use mom as the weight of the old running value; as in nn.BatchNorm2d's momentum, mom is the "
                   "weight of the new batch statistic.",
           section="\"Momentum\" is a `lerp` weight"),
    Mutant("ch08.BatchNorm", "normalises with the unbiased variance (torch's default .var())",
           old="            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            var = x.var((0, 2, 3), keepdim=True)",
           learner="You normalise with the unbiased variance (dividing by n - 1, the default of `var()`); BatchNorm "
                   "normalises with the biased one, dividing by n, and keeps the unbiased one for the running "
                   "estimate.",
           section="Checking against `nn.BatchNorm2d`"),
    Mutant("ch08.BatchNorm", "statistics over the wrong axes (per image and channel, not over the batch)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            mean = x.mean((2, 3), keepdim=True)\n            centred = x - mean\n"
               "            var = (centred * centred).mean((2, 3), keepdim=True)",
           learner="You take the statistics of each image's channels over their pixels only; BatchNorm takes each "
                   "channel's mean and variance over the batch and the pixels together.",
           section="BatchNorm from scratch"),
    Mutant("ch08.BatchNorm", "statistics over the wrong axes (forgets the pixels: only over the batch)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            mean = x.mean(0, keepdim=True)\n            centred = x - mean\n"
               "            var = (centred * centred).mean(0, keepdim=True)",
           learner="You take the statistics over the batch axis only, one per channel and pixel; BatchNorm takes "
                   "each channel's mean and variance over the batch and the pixels together.",
           section="BatchNorm from scratch"),
    Mutant("ch08.BatchNorm", "eval mode still uses (and updates) the batch statistics",
           old="        if self.training:\n            n = x.numel() // x.shape[1]",
           new="        if True:\n            n = x.numel() // x.shape[1]",
           learner="In eval mode you still normalise with (and update) the batch statistics; eval mode uses the "
                   "running means and variances and changes nothing.",
           section="BatchNorm from scratch"),
    Mutant("ch08.BatchNorm", "running statistics computed with gradients attached",
           old="            with torch.no_grad():\n                self.means.lerp_(mean, self.mom)",
           new="            if True:\n                self.means.lerp_(mean, self.mom)",
           learner="You update the running statistics with gradients attached, so they drag the autograd graph from "
                   "batch to batch; update them under `torch.no_grad()`.",
           section="Checking against `nn.BatchNorm2d`"),
    Mutant("ch08.BatchNorm", "batch statistics computed under no_grad, so no gradient flows through them (the lesson's version)",
           old="            mean = x.sum((0, 2, 3), keepdim=True) / n\n            centred = x - mean\n"
               "            var = (centred * centred).sum((0, 2, 3), keepdim=True) / n",
           new="            with torch.no_grad():\n                mean = x.mean((0, 2, 3), keepdim=True)\n"
               "                var = ((x - mean) ** 2).mean((0, 2, 3), keepdim=True)\n            centred = x - mean",
           learner="You compute the batch mean and variance under `torch.no_grad()`, so backward treats them as "
                   "constants and the input gradient is wrong; let gradients flow through the batch statistics, and "
                   "keep only the running averages out of the graph.",
           section="Checking against `nn.BatchNorm2d`"),
    Mutant("ch08.BatchNorm", "stores the biased variance in the running estimate",
           old="self.vars.lerp_(var * n / (n - 1), self.mom)", new="self.vars.lerp_(var, self.mom)",
           learner="You store the biased variance in the running estimate; the running variance, used on new data "
                   "later, is the unbiased one, var * n / (n - 1).",
           section="Checking against `nn.BatchNorm2d`"),
    Mutant("ch08.BatchNorm", "running statistics kept as plain attributes instead of buffers",
           old='        self.register_buffer("means", torch.zeros(1, nf, 1, 1))\n'
               '        self.register_buffer("vars", torch.ones(1, nf, 1, 1))',
           new="        self.means = torch.zeros(1, nf, 1, 1)\n        self.vars = torch.ones(1, nf, 1, 1)",
           learner="You keep the running statistics as plain tensor attributes, so `state_dict()`, `.to()` and "
                   "`.double()` leave them behind; register them as buffers.",
           section="Buffers, not attributes"),
    # LayerNorm
    Mutant("ch08.LayerNorm", "normalises each channel separately (axes 2, 3: that is InstanceNorm)",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        centred = x - x.mean((2, 3), keepdim=True)\n        var = (centred * centred).mean((2, 3), keepdim=True)",
           learner="You normalise each channel separately over its pixels (that is InstanceNorm); LayerNorm takes "
                   "one mean and variance per image, over all its channels and pixels.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.LayerNorm", "divides by sqrt(std + eps) instead of sqrt(var + eps) (the lesson's first version)",
           old="        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        var = (centred * centred).mean((1, 2, 3), keepdim=True).sqrt()",
           learner="You divide by sqrt(std + eps) instead of sqrt(var + eps), as the lesson's first version did; "
                   "normalise with the variance.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.LayerNorm", "eps added outside the square root",
           old="        return centred / (var + self.eps).sqrt() * self.mult + self.add",
           new="        return centred / (var.sqrt() + self.eps) * self.mult + self.add",
           learner="You add eps outside the square root, dividing by std + eps; it belongs inside, sqrt(var + eps).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.LayerNorm", "statistics over the batch (axes 0, 2, 3: that is BatchNorm)",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        centred = x - x.mean((0, 2, 3), keepdim=True)\n        var = (centred * centred).mean((0, 2, 3), keepdim=True)",
           learner="You take the statistics over the batch (that is BatchNorm); LayerNorm takes one mean and "
                   "variance per image, over its channels and pixels, so items never affect each other.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    # InstanceNorm
    Mutant("ch08.InstanceNorm", "statistics over channels and pixels (axes 1, 2, 3: that is LayerNorm)",
           old="        centred = x - x.mean((2, 3), keepdim=True)\n        var = (centred * centred).mean((2, 3), keepdim=True)",
           new="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           learner="You take the statistics over all the channels and pixels of an image (that is LayerNorm); "
                   "InstanceNorm normalises each channel of each image over its own pixels.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.InstanceNorm", "normalises with the unbiased variance",
           old="        var = (centred * centred).mean((2, 3), keepdim=True)",
           new="        var = x.var((2, 3), keepdim=True)",
           learner="You normalise with the unbiased variance (dividing by n - 1); the normalisation layers use the "
                   "biased one, dividing by n.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.InstanceNorm", "one scale and shift for all channels",
           old="        self.eps = eps\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))",
           new="        self.eps = eps\n        self.mults = nn.Parameter(torch.ones(1))\n"
               "        self.adds = nn.Parameter(torch.zeros(1))",
           learner="You give all the channels one scale and one shift; InstanceNorm has a scale and a shift per "
                   "channel, of shape (nf, 1, 1).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    # GroupNorm
    Mutant("ch08.GroupNorm", "groups interleaved channels (reshaped as (N, C // G, G, H, W))",
           old="        grouped = x.reshape(n, self.groups, c // self.groups, h, w)",
           new="        grouped = x.reshape(n, c // self.groups, self.groups, h, w)",
           learner="You group interleaved channels, viewing the input as (N, C // G, G, H, W); a group is C // G "
                   "consecutive channels, so view it as (N, G, C // G, H, W).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.GroupNorm", "statistics over the pixels only, not over the channels of a group",
           old="        centred = grouped - grouped.mean((2, 3, 4), keepdim=True)\n"
               "        var = (centred * centred).mean((2, 3, 4), keepdim=True)",
           new="        centred = grouped - grouped.mean((3, 4), keepdim=True)\n"
               "        var = (centred * centred).mean((3, 4), keepdim=True)",
           learner="You take the statistics over the pixels only, one per channel; a group is normalised over all "
                   "its channels and pixels together.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.GroupNorm", "accepts a number of groups that does not divide the channels",
           old="        if groups < 1 or nf % groups:\n",
           new="        if False:\n",
           learner="You accept a number of groups that does not divide the number of channels; raise ValueError "
                   "then.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    # norm_axes
    Mutant("ch08.norm_axes", "group axes of the input instead of the grouped view (forgets the extra axis)",
           old="        return tuple(range(2, ndim + 1))", new="        return tuple(range(2, ndim))",
           learner="For 'group' you give axes of the input instead of the grouped view, which has one more "
                   "dimension; the group axes run from 2 to ndim.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.norm_axes", "batch axes hard-coded for images",
           old="        return (0, *spatial)", new="        return (0, 2, 3)",
           learner="You hard-code the batch axes as (0, 2, 3), which is right only for images; use every axis but "
                   "the channels, for any ndim.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.norm_axes", "instance axes include the channels",
           old="        return spatial\n", new="        return (1, *spatial)\n",
           learner="Your instance axes include the channel axis; instance norm averages over the spatial axes only.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.norm_axes", "an unknown kind silently gives no axes",
           old="    raise ValueError(f\"norm_axes: unknown kind", new="    return ()\n    raise ValueError(f\"norm_axes: unknown kind",
           learner="For an unknown kind you return no axes instead of raising ValueError.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    # conv_norm_layer
    Mutant("ch08.conv_norm_layer", "keeps the convolution's bias in front of a normalisation",
           old="bias=norm is None)]", new="bias=True)]",
           learner="You keep the convolution's bias in front of a normalisation, which subtracts it again with the "
                   "mean; give the convolution a bias only when there is no normalisation.",
           section="A CNN with BatchNorm"),
    Mutant("ch08.conv_norm_layer", "activation before the normalisation",
           old="    if norm is not None:\n        layers.append(norm(nf))\n    layers.append(act())",
           new="    layers.append(act())\n    if norm is not None:\n        layers.append(norm(nf))",
           learner="You put the activation before the normalisation; the order is convolution, normalisation, then "
                   "activation.",
           section="A CNN with BatchNorm"),
    Mutant("ch08.conv_norm_layer", "no padding, so the images shrink",
           old="stride=stride, padding=ks // 2, bias=norm is None", new="stride=stride, padding=0, bias=norm is None",
           learner="You use no padding, so the images shrink more than the stride alone would make them; pad by ks "
                   "// 2.",
           section="A CNN with BatchNorm"),
    # RunningBatchNorm
    Mutant("ch08.RunningBatchNorm", "no early variance clamp",
           old="clamp_min(0.01 if self.batch < 20 else 0.0)", new="clamp_min(0.0)",
           learner="You do not clamp the variance at 0.01 while fewer than 20 samples have been seen, so the wild "
                   "early estimates blow the output up; clamp at 0.01 early and at 0 afterwards.",
           section="Debiasing, done right"),
    Mutant("ch08.RunningBatchNorm", "counts samples in a plain attribute, lost by state_dict",
           old='        self.register_buffer("batch", torch.tensor(0))', new="        self.batch = 0",
           learner="You count the samples seen in a plain attribute, so `state_dict()` loses it and a reloaded "
                   "layer does not resume exactly; keep it in a buffer.",
           section="RunningBatchNorm"),
    Mutant("ch08.RunningBatchNorm", "momentum does not depend on the batch size",
           old="            mom1 = 1 - (1 - self.mom) / math.sqrt(bs - 1) if bs > 1 else self.mom",
           new="            mom1 = self.mom",
           learner="Your momentum does not depend on the batch size; a batch of bs images gets the weight 1 - (1 - "
                   "mom) / sqrt(bs - 1), so a bigger batch weighs more.",
           section="RunningBatchNorm"),
    Mutant("ch08.RunningBatchNorm", "count not averaged like the sums, so the start-at-zero bias does not cancel",
           old="            count = self.count.lerp(self.count.new_tensor([x.numel() / x.shape[1]]), mom1)",
           new="            count = self.count.new_tensor([x.numel() / x.shape[1]])",
           learner="You set the count to this batch's count instead of mixing it in like the sums, so the "
                   "start-from-zero bias of the sums no longer cancels; average the count with the same weight.",
           section="Debiasing, done right"),
    Mutant("ch08.RunningBatchNorm", "keeps the running sums with their autograd graph",
           old="            self.sums.copy_(sums.detach())\n            self.sqrs.copy_(sqrs.detach())",
           new="            self.sums = sums\n            self.sqrs = sqrs",
           learner="You keep the running sums with their autograd graph, so each batch's graph stays alive in the "
                   "next one; store detached copies in the buffers.",
           section="RunningBatchNorm"),
    Mutant("ch08.RunningBatchNorm", "updates the running statistics in eval mode too",
           old="        if self.training:\n            bs = x.shape[0]", new="        if True:\n            bs = x.shape[0]",
           learner="You update the running statistics in eval mode too; only training batches are mixed in, and "
                   "eval mode just uses them.",
           section="RunningBatchNorm"),
    # fold_batchnorm
    Mutant("ch08.fold_batchnorm", "forgets eps", old="factor = bn.weight / (bn.running_var + bn.eps).sqrt()",
           new="factor = bn.weight / bn.running_var.sqrt()",
           learner="You leave eps out of the factor; the BatchNorm divides by sqrt(running_var + eps).",
           section="BatchNorm at inference time"),
    Mutant("ch08.fold_batchnorm", "drops the convolution's own bias",
           old="        fused.bias.copy_(conv_bias * factor + offset)", new="        fused.bias.copy_(offset)",
           learner="You drop the convolution's own bias from the new bias; it passes through the BatchNorm too, "
                   "scaled by the factor, before the offset is added.",
           section="BatchNorm at inference time"),
    Mutant("ch08.fold_batchnorm", "subtracts the mean without scaling it",
           old="        offset = bn.bias - bn.running_mean * factor", new="        offset = bn.bias - bn.running_mean",
           learner="You subtract the running mean without scaling it; the offset is bias - running_mean * factor.",
           section="BatchNorm at inference time"),
    Mutant("ch08.fold_batchnorm", "scales the original convolution's weight in place",
           old="fused.weight.copy_(conv.weight * factor.reshape(-1, 1, 1, 1))",
           new="fused.weight.copy_(conv.weight.mul_(factor.reshape(-1, 1, 1, 1)))",
           learner="You scale the original convolution's weight in place, changing `conv`; compute the new weight "
                   "out of place and leave `conv` as it was.",
           section="BatchNorm at inference time"),
    Mutant("ch08.fold_batchnorm", "loses the stride", old="conv.kernel_size, stride=conv.stride,",
           new="conv.kernel_size,",
           learner="The new convolution loses the stride; copy every setting of `conv` (stride, padding, dilation, "
                   "groups) to it.",
           section="BatchNorm at inference time"),
    # shortcuts through the built-ins the tests use as oracles
    Mutant("ch08.BatchNorm", "calls F.batch_norm with the buffers instead of writing it",
           old="        if self.training:\n            n = x.numel() // x.shape[1]",
           new="        return torch.nn.functional.batch_norm(x, self.means.view(-1), self.vars.view(-1), self.mults.view(-1),\n"
               "                                              self.adds.view(-1), self.training, self.mom, self.eps)\n"
               "        if self.training:\n            n = x.numel() // x.shape[1]",
           learner="You call `F.batch_norm`, which the exercise asks you not to use; compute the statistics and the "
                   "normalisation yourself.",
           section="BatchNorm from scratch"),
    Mutant("ch08.LayerNorm", "calls F.layer_norm instead of writing it",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.layer_norm(x, x.shape[1:], eps=self.eps) * self.mult + self.add\n",
           learner="You call `F.layer_norm`, which the exercise asks you not to use; compute the mean and variance "
                   "yourself.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.LayerNorm", "calls F.group_norm with one group instead of writing it",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.group_norm(x, 1, eps=self.eps) * self.mult + self.add\n",
           learner="You call `F.group_norm` (with one group), which the exercise asks you not to use; compute the "
                   "mean and variance yourself.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.InstanceNorm", "calls F.instance_norm instead of writing it",
           old="        centred = x - x.mean((2, 3), keepdim=True)\n",
           new="        return torch.nn.functional.instance_norm(x, weight=self.mults.view(-1), bias=self.adds.view(-1),\n"
               "                                                 eps=self.eps)\n",
           learner="You call `F.instance_norm`, which the exercise asks you not to use; compute the mean and "
                   "variance yourself.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.GroupNorm", "calls F.group_norm instead of writing it",
           old="        n, c, h, w = x.shape\n",
           new="        return torch.nn.functional.group_norm(x, self.groups, self.mults.view(-1), self.adds.view(-1), self.eps)\n",
           learner="You call `F.group_norm`, which the exercise asks you not to use; compute each group's mean and "
                   "variance yourself.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.fold_batchnorm", "calls torch.nn.utils.fuse_conv_bn_eval on a copy of the conv",
           old="    with torch.no_grad():\n        factor = bn.weight",
           new="    import copy\n    return torch.nn.utils.fuse_conv_bn_eval(copy.deepcopy(conv).eval(), bn)\n"
               "    with torch.no_grad():\n        factor = bn.weight",
           learner="You call `torch.nn.utils.fuse_conv_bn_eval`, which the exercise asks you not to use; work out "
                   "the new weight and bias yourself.",
           section="BatchNorm at inference time"),
    # eps and gradients
    Mutant("ch08.BatchNorm", "eps added outside the square root",
           old="        return centred * (self.mults / (var + self.eps).sqrt()) + self.adds",
           new="        return centred * (self.mults / (var.sqrt() + self.eps)) + self.adds",
           learner="You add eps outside the square root, dividing by std + eps; it belongs inside, sqrt(var + eps).",
           section="BatchNorm from scratch"),
    Mutant("ch08.BatchNorm", "ignores the eps argument (always 1e-5)",
           old="        self.mom, self.eps = mom, eps\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))\n        self.register_buffer(\"means\"",
           new="        self.mom, self.eps = mom, 1e-5\n        self.mults = nn.Parameter(torch.ones(nf, 1, 1))\n"
               "        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))\n        self.register_buffer(\"means\"",
           learner="You ignore the `eps` argument and always use 1e-5; keep the eps you were given.",
           section="BatchNorm from scratch"),
    Mutant("ch08.GroupNorm", "eps added outside the square root",
           old="        normalised = centred / (var + self.eps).sqrt()",
           new="        normalised = centred / (var.sqrt() + self.eps)",
           learner="You add eps outside the square root, dividing by std + eps; it belongs inside, sqrt(var + eps).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.RunningBatchNorm", "mixes the batch in without gradient, so the batch statistics are constants backwards",
           old="            sums = self.sums.lerp(x.sum((0, 2, 3), keepdim=True), mom1)\n"
               "            sqrs = self.sqrs.lerp((x * x).sum((0, 2, 3), keepdim=True), mom1)",
           new="            with torch.no_grad():\n                sums = self.sums.lerp(x.sum((0, 2, 3), keepdim=True), mom1)\n"
               "                sqrs = self.sqrs.lerp((x * x).sum((0, 2, 3), keepdim=True), mom1)",
           learner="You mix the batch into the running sums under `torch.no_grad()`, so backward treats the batch's "
                   "statistics as constants; let the gradient flow through the batch's sums and store only detached "
                   "copies.",
           section="RunningBatchNorm"),

    # edges: a batch of one image, memory layouts, float64 and devices, the clamp's threshold, padding modes
    Mutant("ch08.BatchNorm", "refuses a batch of one image in training, though it has H * W values per channel",
           old="            if n < 2:", new="            if x.shape[0] < 2:",
           learner="You refuse a batch of one image in training; what BatchNorm needs is more than one value per "
                   "channel, and one image of H x W pixels has H * W of them, so check N * H * W instead.",
           section="BatchNorm from scratch"),
    Mutant("ch08.LayerNorm", "flattens each image with view, which fails on channels-last or transposed inputs",
           old="        centred = x - x.mean((1, 2, 3), keepdim=True)\n        var = (centred * centred).mean((1, 2, 3), keepdim=True)",
           new="        centred = x - x.view(x.shape[0], -1).mean(1).view(-1, 1, 1, 1)\n"
               "        var = (centred * centred).view(x.shape[0], -1).mean(1).view(-1, 1, 1, 1)",
           learner="You flatten each image with `view`, which fails on a channels-last or transposed input; take "
                   "the mean over the axes (1, 2, 3) directly (or use `reshape`).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.InstanceNorm", "flattens the pixels with view, which fails on transposed inputs",
           old="        centred = x - x.mean((2, 3), keepdim=True)\n        var = (centred * centred).mean((2, 3), keepdim=True)",
           new="        centred = x - x.view(x.shape[0], x.shape[1], -1).mean(2)[:, :, None, None]\n"
               "        var = (centred * centred).view(x.shape[0], x.shape[1], -1).mean(2)[:, :, None, None]",
           learner="You flatten the pixels with `view`, which fails on a non-contiguous (say transposed) input; take "
                   "the mean over the axes (2, 3) directly (or use `reshape`).",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.GroupNorm", "views the input as (N, G, -1), which fails on channels-last or transposed inputs",
           old="        grouped = x.reshape(n, self.groups, c // self.groups, h, w)\n"
               "        centred = grouped - grouped.mean((2, 3, 4), keepdim=True)\n"
               "        var = (centred * centred).mean((2, 3, 4), keepdim=True)",
           new="        grouped = x.view(n, self.groups, -1)\n"
               "        centred = grouped - grouped.mean(2, keepdim=True)\n"
               "        var = (centred * centred).mean(2, keepdim=True)",
           learner="You view the input as (N, G, -1) with `view`, which fails on a channels-last or transposed "
                   "input; use `reshape`, which copies when it must.",
           section="LayerNorm, InstanceNorm and GroupNorm"),
    Mutant("ch08.RunningBatchNorm", "makes the batch's count with torch.tensor, float32 on the CPU whatever the buffers are",
           old="            count = self.count.lerp(self.count.new_tensor([x.numel() / x.shape[1]]), mom1)",
           new="            count = self.count.lerp(torch.tensor([x.numel() / x.shape[1]]), mom1)",
           learner="You make the batch's count with `torch.tensor`, which is float32 on the CPU, so a layer moved "
                   "with `.double()` or `.to(device)` fails; make it like the buffer, with `self.count.new_tensor`.",
           section="RunningBatchNorm"),
    Mutant("ch08.RunningBatchNorm", "clamps the variance up to 20 samples included (<= 20 instead of < 20)",
           old="clamp_min(0.01 if self.batch < 20 else 0.0)", new="clamp_min(0.01 if self.batch <= 20 else 0.0)",
           learner="You still clamp the variance at 0.01 when exactly 20 samples have been seen; the floor applies "
                   "while `batch < 20`.",
           section="Debiasing, done right"),
    Mutant("ch08.fold_batchnorm", "the new conv is made float32 on the CPU, not like conv's weight",
           old="padding_mode=conv.padding_mode).to(conv.weight)", new="padding_mode=conv.padding_mode)",
           learner="Your new convolution is float32 on the CPU whatever `conv` is, so a float64 or GPU model gets "
                   "a folded layer of the wrong kind; move it with `.to(conv.weight)` (dtype and device).",
           section="BatchNorm at inference time"),
    Mutant("ch08.fold_batchnorm", "loses the padding mode (reflect padding becomes zeros)",
           old=", bias=True,\n                          padding_mode=conv.padding_mode)", new=", bias=True)",
           learner="The new convolution loses the padding mode, so a 'reflect' convolution pads with zeros and its "
                   "border pixels change; copy `padding_mode` too.",
           section="BatchNorm at inference time"),
    Mutant("ch08.RunningBatchNorm", "counts the samples in a float32 buffer",
           old='        self.register_buffer("batch", torch.tensor(0))', new='        self.register_buffer("batch", torch.tensor(0.0))',
           learner="You count the samples seen in a float32 buffer, which stops counting exactly past 2**24 samples "
                   "(and `.double()` converts it); make `batch` an int64 zero, `torch.tensor(0)`.",
           section="RunningBatchNorm"),
]
