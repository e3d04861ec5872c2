"""Plausible wrong versions of chapter 6's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # normalize_to
    Mutant("ch06.normalize_to", "normalises the validation set with its own statistics",
           old="    return normalize(train, mean, std), normalize(valid, mean, std)",
           new="    return normalize(train, mean, std), normalize(valid, valid.mean(), valid.std())"),
    Mutant("ch06.normalize_to", "divides by the variance instead of the standard deviation",
           old="    mean, std = train.mean(), train.std()",
           new="    mean, std = train.mean(), train.var()"),
    Mutant("ch06.normalize_to", "normalises in place, changing the caller's tensors",
           old="    return normalize(train, mean, std), normalize(valid, mean, std)",
           new="    return train.sub_(mean).div_(std), valid.sub_(mean).div_(std)"),
    Mutant("ch06.normalize_to", "divides by the biased (population) std, not train.std()",
           old="    mean, std = train.mean(), train.std()",
           new="    mean = train.mean()\n    std = ((train - mean) ** 2).mean().sqrt()"),
    Mutant("ch06.normalize_to", "computes the statistics on train and valid together",
           old="    mean, std = train.mean(), train.std()",
           new="    both = torch.cat([train.flatten(), valid.flatten()])\n    mean, std = both.mean(), both.std()"),
    # Lambda
    Mutant("ch06.Lambda", "forward ignores the function",
           old="        return self.func(x)", new="        return x"),
    Mutant("ch06.Lambda", "wraps the function in a lambda, so the model can no longer be saved",
           old="        self.func = func", new="        self.func = lambda x: func(x)"),
    Mutant("ch06.Lambda", "forgets to initialise nn.Module",
           old="        super().__init__()\n        self.func = func", new="        self.func = func"),
    # flatten
    Mutant("ch06.flatten", "flattens over the batch dimension too",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.reshape(-1)"),
    Mutant("ch06.flatten", "squeezes, which drops the batch dimension of a batch of one",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.squeeze()"),
    Mutant("ch06.flatten", "uses view, which refuses non-contiguous tensors",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.view(x.shape[0], -1)"),
    # view_tfm
    Mutant("ch06.view_tfm", "forgets the batch dimension",
           old="        return x.view(-1, *size)", new="        return x.view(*size)"),
    Mutant("ch06.view_tfm", "forgets to unpack the size tuple",
           old="        return x.view(-1, *size)", new="        return x.view(-1, size)"),
    Mutant("ch06.view_tfm", "hard-codes the MNIST image size",
           old="        return x.view(-1, *size)", new="        return x.view(-1, 1, 28, 28)"),
    # conv_out_size
    Mutant("ch06.conv_out_size", "forgets the dilation",
           old="    span = dilation * (ks - 1) + 1", new="    span = ks"),
    Mutant("ch06.conv_out_size", "pads one side only",
           old="    return (size + 2 * padding - span) // stride + 1",
           new="    return (size + padding - span) // stride + 1"),
    Mutant("ch06.conv_out_size", "rounds up instead of down",
           old="    return (size + 2 * padding - span) // stride + 1",
           new="    return -(-(size + 2 * padding - span) // stride) + 1"),
    Mutant("ch06.conv_out_size", "never says the kernel does not fit",
           old="    if size + 2 * padding < span:\n        raise ValueError(",
           new="    if False:\n        raise ValueError("),
    Mutant("ch06.conv_out_size", "runs a real convolution and reads the size off its output",
           old="    span = dilation * (ks - 1) + 1\n",
           new="    try:\n"
               "        x, w = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, ks, 1)\n"
               "        return F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]\n"
               "    except RuntimeError as error:\n"
               "        raise ValueError(str(error)) from None\n"
               "    span = dilation * (ks - 1) + 1\n"),
    # receptive_field
    Mutant("ch06.receptive_field", "forgets that earlier strides spread the kernel out",
           old="        field += dilation * (ks - 1) * jump", new="        field += dilation * (ks - 1)"),
    Mutant("ch06.receptive_field", "multiplies in the layer's own stride before adding its kernel",
           old="        field += dilation * (ks - 1) * jump\n        jump *= stride",
           new="        jump *= stride\n        field += dilation * (ks - 1) * jump"),
    Mutant("ch06.receptive_field", "ignores the dilation",
           old="        field += dilation * (ks - 1) * jump", new="        field += (ks - 1) * jump"),
    Mutant("ch06.receptive_field", "builds a Conv1d stack and measures the field with autograd",
           old="    field, jump = 1, 1\n",
           new="    layers = [nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False)\n"
               "              for k, s, d in zip(kernel_sizes, strides, dilations)]\n"
               "    for conv in layers:\n"
               "        nn.init.ones_(conv.weight)\n"
               "    x = torch.zeros(1, 1, 512, requires_grad=True)\n"
               "    (nn.Sequential(*layers)(x) if layers else x)[0, 0, 0].backward()\n"
               "    used = x.grad[0, 0].nonzero()\n"
               "    return int(used.max() - used.min() + 1)\n"
               "    field, jump = 1, 1\n"),
    # conv2d
    Mutant("ch06.conv2d", "pads by ks instead of ks // 2",
           old="nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride)", new="nn.Conv2d(ni, nf, ks, padding=ks, stride=stride)"),
    Mutant("ch06.conv2d", "forgets the ReLU",
           old="    return nn.Sequential(nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride), nn.ReLU())",
           new="    return nn.Sequential(nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride))"),
    Mutant("ch06.conv2d", "forgets the stride",
           old="nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride)", new="nn.Conv2d(ni, nf, ks, padding=ks // 2)"),
    # get_cnn_layers
    Mutant("ch06.get_cnn_layers", "uses a 3x3 kernel for the first layer too",
           old="5 if i == 0 else 3", new="3"),
    Mutant("ch06.get_cnn_layers", "forgets the single input channel",
           old="    nfs = [1] + list(nfs)\n    convs = [layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs) for i in range(len(nfs) - 1)]",
           new="    nfs = list(nfs)\n    convs = [layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs) for i in range(len(nfs) - 1)]"),
    Mutant("ch06.get_cnn_layers", "hard-codes 10 classes",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], 10)]'),
    Mutant("ch06.get_cnn_layers", "does not pass **kwargs on to layer",
           old="layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs)", new="layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3)"),
    Mutant("ch06.get_cnn_layers", "flattens with a lambda, so the model cannot be saved",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.reshape(x.shape[0], -1)), nn.Linear(nfs[-1], data.c_out)]'),
    Mutant("ch06.get_cnn_layers", "max-pools instead of averaging",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveMaxPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]'),
    # DeviceCallback
    Mutant("ch06.DeviceCallback", "does not move the batches",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        pass"),
    Mutant("ch06.DeviceCallback", "stores the moved batch on the callback instead of the runner",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        self.xb, self.yb = self.xb.to(self.device), self.yb.to(self.device)"),
    Mutant("ch06.DeviceCallback", "moves the inputs but not the targets",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        self.run.xb = self.xb.to(self.device)"),
    Mutant("ch06.DeviceCallback", "moves the batches only while training",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        if self.in_train:\n"
               "            self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)"),
    Mutant("ch06.DeviceCallback", "hard-codes CUDA",
           old="        self.model.to(self.device)", new="        self.model.cuda()"),
    Mutant("ch06.DeviceCallback", "keeps the device as given (a string stays a string)",
           old="        self.device = torch.device(device)", new="        self.device = device"),
    Mutant("ch06.DeviceCallback", "rebinds a loop variable, which moves nothing",
           old="        self.model.to(self.device)", new="        for p in self.model.parameters():\n            p = p.to(self.device)"),
    # to_device
    Mutant("ch06.to_device", "turns tuples into lists",
           old="        return tuple(to_device(o, device) for o in batch)", new="        return [to_device(o, device) for o in batch]"),
    Mutant("ch06.to_device", "leaves the tensors in a dict behind",
           old="        return {key: to_device(value, device) for key, value in batch.items()}", new="        return dict(batch)"),
    Mutant("ch06.to_device", "moves only the top level",
           old="        return [to_device(o, device) for o in batch]",
           new="        return [o.to(device) if isinstance(o, torch.Tensor) else o for o in batch]"),
    # BatchTransformXCallback
    Mutant("ch06.BatchTransformXCallback", "stores the transformed batch on the callback instead of the runner",
           old="        self.run.xb = self.tfm(self.xb)", new="        self.xb = self.tfm(self.xb)"),
    Mutant("ch06.BatchTransformXCallback", "transforms only the training batches",
           old="        self.run.xb = self.tfm(self.xb)", new="        if self.in_train:\n            self.run.xb = self.tfm(self.xb)"),
    Mutant("ch06.BatchTransformXCallback", "transforms the targets too",
           old="        self.run.xb = self.tfm(self.xb)", new="        self.run.xb, self.run.yb = self.tfm(self.xb), self.tfm(self.yb)"),
]
