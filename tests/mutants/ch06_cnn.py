"""Plausible wrong versions of chapter 6's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

# Two ways to leave the runner's batch where it was: from outside they do the same, so they share one text.
BATCH_NOT_MOVED = ("After `begin_batch` the runner's batch is still on the CPU, so the model gets inputs on the wrong "
                   "device: move `xb` and `yb` and assign them to `self.run.xb` and `self.run.yb` (`self.xb = ...` "
                   "only sets an attribute of the callback).")

MUTANTS = [
    # normalize_to
    Mutant("ch06.normalize_to", "normalises the validation set with its own statistics",
           old="    return normalize(train, mean, std), normalize(valid, mean, std)",
           new="    return normalize(train, mean, std), normalize(valid, valid.mean(), valid.std())",
           learner="You normalise the validation set with its own statistics; use the training set's mean and std "
                   "for both, since at prediction time the model has only those.",
           section="Normalising with the training statistics"),
    Mutant("ch06.normalize_to", "divides by the variance instead of the standard deviation",
           old="    mean, std = train.mean(), train.std()",
           new="    mean, std = train.mean(), train.var()",
           learner="You divide by the variance instead of the standard deviation.",
           section="Normalising with the training statistics"),
    Mutant("ch06.normalize_to", "normalises in place, changing the caller's tensors",
           old="    return normalize(train, mean, std), normalize(valid, mean, std)",
           new="    return train.sub_(mean).div_(std), valid.sub_(mean).div_(std)",
           learner="You normalise in place, changing the caller's tensors; return new tensors and leave the inputs "
                   "as they were.",
           section="Normalising with the training statistics"),
    Mutant("ch06.normalize_to", "divides by the biased (population) std, not train.std()",
           old="    mean, std = train.mean(), train.std()",
           new="    mean = train.mean()\n    std = ((train - mean) ** 2).mean().sqrt()",
           learner="You divide by the population standard deviation (dividing by n); use the training set's "
                   "`std()`, PyTorch's default, which divides by n - 1.",
           section="Normalising with the training statistics"),
    Mutant("ch06.normalize_to", "computes the statistics on train and valid together",
           old="    mean, std = train.mean(), train.std()",
           new="    both = torch.cat([train.flatten(), valid.flatten()])\n    mean, std = both.mean(), both.std()",
           learner="You compute the statistics on the training and validation sets together; the validation set "
                   "must not contribute to its own statistics.",
           section="Normalising with the training statistics"),
    # Lambda
    Mutant("ch06.Lambda", "forward ignores the function",
           old="        return self.func(x)", new="        return x",
           learner="Your `forward` returns its input unchanged instead of applying the function.",
           section="Functions as layers: `Lambda`"),
    Mutant("ch06.Lambda", "wraps the function in a lambda, so the model can no longer be saved",
           old="        self.func = func", new="        self.func = lambda x: func(x)",
           learner="You keep the function wrapped in a `lambda`, which pickle cannot save, so the model can no "
                   "longer be saved; store the function itself.",
           section="Why a `lambda` inside `Lambda` cannot be saved"),
    Mutant("ch06.Lambda", "forgets to initialise nn.Module",
           old="        super().__init__()\n        self.func = func", new="        self.func = func",
           learner="Your `__init__` does not call `super().__init__()`, so nn.Module is never set up and using the "
                   "layer fails; call it first.",
           section="Functions as layers: `Lambda`"),
    # flatten
    Mutant("ch06.flatten", "flattens over the batch dimension too",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.reshape(-1)",
           learner="You flatten the batch dimension too, giving one long vector; keep the first dimension and "
                   "flatten the rest.",
           section="Functions as layers: `Lambda`"),
    Mutant("ch06.flatten", "squeezes, which drops the batch dimension of a batch of one",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.squeeze()",
           learner="You squeeze instead of flattening, which drops the batch dimension of a batch of one; keep the "
                   "first dimension and flatten the rest.",
           section="Functions as layers: `Lambda`"),
    Mutant("ch06.flatten", "uses view, which refuses non-contiguous tensors",
           old="    return x.reshape(x.shape[0], -1)", new="    return x.view(x.shape[0], -1)",
           learner="You use `view`, which refuses a non-contiguous tensor (a transposed or permuted one); `reshape` "
                   "copies when it has to.",
           section="Functions as layers: `Lambda`"),
    # view_tfm
    Mutant("ch06.view_tfm", "forgets the batch dimension",
           old="        return x.view(-1, *size)", new="        return x.view(*size)",
           learner="Your transform views each batch as exactly `size`, with no room for the batch dimension; put -1 "
                   "in front so that the batch size is inferred.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.view_tfm", "forgets to unpack the size tuple",
           old="        return x.view(-1, *size)", new="        return x.view(-1, size)",
           learner="You pass the size tuple to `view` as one argument instead of unpacking it into separate "
                   "dimensions.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.view_tfm", "hard-codes the MNIST image size",
           old="        return x.view(-1, *size)", new="        return x.view(-1, 1, 28, 28)",
           learner="You always view the batch as (-1, 1, 28, 28), whatever size the transform was made with; use "
                   "the size it was given.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.view_tfm", "takes the batch size from x.shape[0] instead of leaving it to view",
           old="        return x.view(-1, *size)", new="        return x.view(x.shape[0], *size)",
           learner="You take the first dimension from `x.shape[0]`, which is right only when `x` is already a batch "
                   "of flat rows; leave it to `view` with -1, so that any `x` with the right number of elements "
                   "(one flat digit of shape (784,), say) is viewed as `(-1, *size)`.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    # conv_out_size
    Mutant("ch06.conv_out_size", "forgets the dilation",
           old="    span = dilation * (ks - 1) + 1", new="    span = ks",
           learner="You take the kernel's span to be `ks` whatever the dilation; a dilated kernel spans dilation * "
                   "(ks - 1) + 1 pixels.",
           section="The lesson's CNN"),
    Mutant("ch06.conv_out_size", "pads one side only",
           old="    return (size + 2 * padding - span) // stride + 1",
           new="    return (size + padding - span) // stride + 1",
           learner="You add the padding once; it is added on each side, 2 * padding in all.",
           section="The lesson's CNN"),
    Mutant("ch06.conv_out_size", "rounds up instead of down",
           old="    return (size + 2 * padding - span) // stride + 1",
           new="    return -(-(size + 2 * padding - span) // stride) + 1",
           learner="You round the division by the stride up; a kernel position that would run past the padded edge "
                   "does not count, so round down.",
           section="The lesson's CNN"),
    Mutant("ch06.conv_out_size", "never says the kernel does not fit",
           old="    if size + 2 * padding < span:\n        raise ValueError(",
           new="    if False:\n        raise ValueError(",
           learner="You never raise ValueError when the kernel does not fit in the padded input; when size + 2 * "
                   "padding is smaller than the kernel's span, raise it instead of returning a size.",
           section="The lesson's CNN"),
    Mutant("ch06.conv_out_size", "runs a real convolution and reads the size off its output",
           old="    span = dilation * (ks - 1) + 1\n",
           new="    try:\n"
               "        x, w = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, ks, 1)\n"
               "        return F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]\n"
               "    except RuntimeError as error:\n"
               "        raise ValueError(str(error)) from None\n"
               "    span = dilation * (ks - 1) + 1\n",
           learner="You run a real convolution and read the size off its output; compute the size from the formula "
                   "instead.",
           section="The lesson's CNN"),
    Mutant("ch06.conv_out_size", "refuses a kernel that exactly fits the padded input",
           old="    if size + 2 * padding < span:", new="    if size + 2 * padding <= span:",
           learner="You raise ValueError when the kernel exactly fills the padded input, where it fits once (an "
                   "output of size 1); raise only when size + 2 * padding is smaller than the kernel's span.",
           section="The lesson's CNN"),
    # receptive_field
    Mutant("ch06.receptive_field", "forgets that earlier strides spread the kernel out",
           old="        field += dilation * (ks - 1) * jump", new="        field += dilation * (ks - 1)",
           learner="You add each layer's (ks - 1) in input pixels, forgetting that the earlier layers' strides "
                   "spread its kernel out; multiply it by the product of the strides before it.",
           section="The lesson's CNN"),
    Mutant("ch06.receptive_field", "multiplies in the layer's own stride before adding its kernel",
           old="        field += dilation * (ks - 1) * jump\n        jump *= stride",
           new="        jump *= stride\n        field += dilation * (ks - 1) * jump",
           learner="You multiply in a layer's own stride before adding its kernel; a layer's kernel is spread out "
                   "only by the strides of the layers before it.",
           section="The lesson's CNN"),
    Mutant("ch06.receptive_field", "ignores the dilation",
           old="        field += dilation * (ks - 1) * jump", new="        field += (ks - 1) * jump",
           learner="You ignore the dilation; a dilated kernel spans dilation * (ks - 1) + 1 pixels of its input.",
           section="The lesson's CNN"),
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
               "    field, jump = 1, 1\n",
           learner="You build a stack of real convolutions and measure the field with autograd; compute it from the "
                   "formula, layer by layer.",
           section="The lesson's CNN"),
    # conv2d
    Mutant("ch06.conv2d", "pads by ks instead of ks // 2",
           old="nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride)", new="nn.Conv2d(ni, nf, ks, padding=ks, stride=stride)",
           learner="You pad by `ks` instead of `ks // 2`, so each layer's output is larger than 'same' padding "
                   "gives.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.conv2d", "forgets the ReLU",
           old="    return nn.Sequential(nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride), nn.ReLU())",
           new="    return nn.Sequential(nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride))",
           learner="Your `conv2d` has no ReLU after the convolution; each convolution is followed by a ReLU.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.conv2d", "forgets the stride",
           old="nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride)", new="nn.Conv2d(ni, nf, ks, padding=ks // 2)",
           learner="You do not pass `stride` to the convolution, so it uses stride 1 and the image does not shrink.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    # get_cnn_layers
    Mutant("ch06.get_cnn_layers", "uses a 3x3 kernel for the first layer too",
           old="5 if i == 0 else 3", new="3",
           learner="You use a 3x3 kernel for the first layer too; the first layer has a 5x5 kernel, the others 3x3.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.get_cnn_layers", "forgets the single input channel",
           old="    nfs = [1] + list(nfs)\n    convs = [layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs) for i in range(len(nfs) - 1)]",
           new="    nfs = list(nfs)\n    convs = [layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs) for i in range(len(nfs) - 1)]",
           learner="You do not start the channels at 1, the single channel of an MNIST image, so the first layer "
                   "expects `nfs[0]` channels and there is one layer too few.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.get_cnn_layers", "hard-codes 10 classes",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], 10)]',
           learner="You hard-code 10 classes in the last layer; take the number of outputs from `data.c_out`.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.get_cnn_layers", "does not pass **kwargs on to layer",
           old="layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3, **kwargs)", new="layer(nfs[i], nfs[i + 1], 5 if i == 0 else 3)",
           learner="You do not pass `**kwargs` on to `layer`, so options such as the stride never reach it.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.get_cnn_layers", "flattens with a lambda, so the model cannot be saved",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.reshape(x.shape[0], -1)), nn.Linear(nfs[-1], data.c_out)]',
           learner="You flatten with a `lambda` inside `Lambda`, which pickle cannot save, so the model cannot be "
                   "saved; use the module-level `flatten` function.",
           section="Why a `lambda` inside `Lambda` cannot be saved"),
    Mutant("ch06.get_cnn_layers", "max-pools instead of averaging",
           old='    return convs + [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           new='    return convs + [nn.AdaptiveMaxPool2d(1), Lambda(flatten), nn.Linear(nfs[-1], data.c_out)]',
           learner="You max-pool at the end; the model averages each channel over what is left of the image.",
           section="The lesson's CNN"),
    # DeviceCallback
    Mutant("ch06.DeviceCallback", "does not move the batches",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        pass",
           learner=BATCH_NOT_MOVED,
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "stores the moved batch on the callback instead of the runner",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        self.xb, self.yb = self.xb.to(self.device), self.yb.to(self.device)",
           learner=BATCH_NOT_MOVED,
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "moves the inputs but not the targets",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        self.run.xb = self.xb.to(self.device)",
           learner="You move the inputs but not the targets, so the loss compares tensors on two devices; move "
                   "both.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "moves the batches only while training",
           old="        self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           new="        if self.in_train:\n"
               "            self.run.xb, self.run.yb = self.xb.to(self.device), self.yb.to(self.device)",
           learner="You move the batches only while training, so validation batches stay on the CPU; move every "
                   "batch.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "hard-codes CUDA",
           old="        self.model.to(self.device)", new="        self.model.cuda()",
           learner="You move the model with `.cuda()` whatever device the callback was given; move it to the "
                   "callback's device.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "keeps the device as given (a string stays a string)",
           old="        self.device = torch.device(device)", new="        self.device = device",
           learner="You keep the device as it was given, so a string such as 'cpu' stays a string; turn it into a "
                   "`torch.device`.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.DeviceCallback", "rebinds a loop variable, which moves nothing",
           old="        self.model.to(self.device)", new="        for p in self.model.parameters():\n            p = p.to(self.device)",
           learner="You rebind a loop variable to each moved parameter, which leaves the model where it was; move "
                   "the model itself with `.to(device)`.",
           section="Moving to the GPU with a callback"),
    # to_device
    Mutant("ch06.to_device", "turns tuples into lists",
           old="        return tuple(to_device(o, device) for o in batch)", new="        return [to_device(o, device) for o in batch]",
           learner="You turn tuples into lists; keep each container's type, so a tuple stays a tuple.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.to_device", "leaves the tensors in a dict behind",
           old="        return {key: to_device(value, device) for key, value in batch.items()}", new="        return dict(batch)",
           learner="You copy a dict without moving the tensors in it; move each of its values.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.to_device", "moves only the top level",
           old="        return [to_device(o, device) for o in batch]",
           new="        return [o.to(device) if isinstance(o, torch.Tensor) else o for o in batch]",
           learner="You move only the tensors at the top level of a list, so tensors in nested containers stay "
                   "behind; move the elements recursively.",
           section="Moving to the GPU with a callback"),
    Mutant("ch06.to_device", "moves a list's elements in place instead of building a new list",
           old="        return [to_device(o, device) for o in batch]",
           new="        for i, o in enumerate(batch):\n            batch[i] = to_device(o, device)\n        return batch",
           learner="You move a list's elements in place, so the caller's list now holds the moved tensors; build a "
                   "new list and leave the input as it was.",
           section="Moving to the GPU with a callback"),
    # BatchTransformXCallback
    Mutant("ch06.BatchTransformXCallback", "stores the transformed batch on the callback instead of the runner",
           old="        self.run.xb = self.tfm(self.xb)", new="        self.xb = self.tfm(self.xb)",
           learner="You assign the transformed batch to the callback's own attribute, so the runner still uses the "
                   "untransformed one; write it to `self.run.xb`.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.BatchTransformXCallback", "transforms only the training batches",
           old="        self.run.xb = self.tfm(self.xb)", new="        if self.in_train:\n            self.run.xb = self.tfm(self.xb)",
           learner="You transform only the training batches; the validation batches need the same transform.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
    Mutant("ch06.BatchTransformXCallback", "transforms the targets too",
           old="        self.run.xb = self.tfm(self.xb)", new="        self.run.xb, self.run.yb = self.tfm(self.xb), self.tfm(self.yb)",
           learner="You transform the targets too; the transform is for the inputs only.",
           section="Refactoring: batch transforms, `conv2d` and `get_cnn_layers`"),
]
