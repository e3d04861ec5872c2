# Your copy of the exercises, generated from solutions/ch07_hooks.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch07_hooks.py` or `python -m grader`.
"""Chapter 7: hooks — looking inside the model while it trains.

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch07_hooks.py`
grades them, and `python -m grader hint ID` gives hints.

Later chapters use `conv_layer`, `GeneralRelu`, `init_cnn`, `Hook`, `Hooks`, `append_stats`,
`get_hist`, `get_min`, `get_learn_run` and `StatsCallback` from here.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from solutions.ch02_datamodel import ListContainer
from solutions.ch05_learner import Callback
from solutions.ch06_cnn import get_cnn_model, get_runner

CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


# --------------------------------------------------------------------------------------------
# Telemetry by hand
# --------------------------------------------------------------------------------------------

class SequentialModel(nn.Module):
    """`nn.Sequential` that also records the mean and std of each layer's output on every training batch.

    `act_means[i]` and `act_stds[i]` are lists of floats, one per training forward pass, for
    layer `i`. Nothing is recorded in eval mode, so validation batches do not mix into the plots.

    >>> model = SequentialModel(nn.Linear(3, 4), nn.ReLU())
    >>> _ = model(torch.randn(8, 3)); _ = model(torch.randn(8, 3))
    >>> len(model.act_means), len(model.act_means[0])
    (2, 2)

    Book: chapter 7, "Recording statistics by hand".
    """

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.act_means = [[] for _ in layers]
        self.act_stds = [[] for _ in layers]

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.training:
                acts = x.detach()
                self.act_means[i].append(acts.mean().item())
                self.act_stds[i].append(acts.std().item())
        return x

    def __iter__(self):
        return iter(self.layers)


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------

class Hook:
    """A forward hook on module `m` that calls `f(hook, module, input, output)` after each forward pass.

    `Hook(m, f)` registers `partial(f, self)` with `m.register_forward_hook` and keeps the handle
    it returns in `self.hook`, so `f` receives the `Hook` first and can store what it records on
    it (`hook.stats = ...`). `remove()` unregisters it; removing twice is harmless. A `Hook` is also
    a context manager that removes itself when the `with` block ends, even by an exception.

    The module holds `partial(f, self)`, so as long as the hook is registered the module keeps the
    `Hook` alive: deleting your last reference does not remove it, and `__del__` would never run.
    Remove hooks explicitly, or with `with`.

    >>> seen = []
    >>> layer = nn.Linear(2, 3)
    >>> with Hook(layer, lambda hook, mod, inp, outp: seen.append(outp.shape)):
    ...     _ = layer(torch.zeros(5, 2))
    >>> _ = layer(torch.zeros(5, 2))   # removed: not recorded
    >>> seen, len(layer._forward_hooks)
    ([torch.Size([5, 3])], 0)

    Book: chapter 7, "PyTorch hooks" and "A Hook class".
    """

    def __init__(self, m: nn.Module, f):
        """Register `partial(f, self)` as a forward hook of `m`; keep the handle in `self.hook`."""
        raise NotImplementedError('Exercise ch07.Hook: Register `partial(f, self)` as a forward hook of `m`; keep the handle in `self.hook`.')

    def remove(self) -> None:
        """Unregister the hook (through the handle in `self.hook`)."""
        raise NotImplementedError('Exercise ch07.Hook: Unregister the hook (through the handle in `self.hook`).')

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class Hooks(ListContainer):
    """One `Hook(m, f)` for each module in `ms`, kept in a `ListContainer`; a context manager.

    `ms` is any iterable of modules (an `nn.Sequential` iterates over its layers). `hooks[i]` is the
    `Hook` of the `i`-th module. `remove()` removes them all; `del hooks[i]` removes hook `i` before
    dropping it. Used in a `with` block, every hook is removed when the block ends, also when it
    ends by an exception, which still propagates (`__exit__` must not swallow it).

    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    >>> with Hooks(model, lambda hook, mod, inp, outp: None) as hooks:
    ...     print(len(hooks), [len(m._forward_hooks) for m in model])
    2 [1, 1]
    >>> [len(m._forward_hooks) for m in model]
    [0, 0]

    Book: chapter 7, "Hooks: many hooks in one object".
    """

    def __init__(self, ms, f):
        """Make a `Hook(m, f)` for each module `m` in `ms` and keep them as the container's items."""
        raise NotImplementedError("Exercise ch07.Hooks: Make a `Hook(m, f)` for each module `m` in `ms` and keep them as the container's items.")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        """Remove every hook; return nothing, so an exception raised in the block propagates."""
        raise NotImplementedError('Exercise ch07.Hooks: Remove every hook; return nothing, so an exception raised in the block propagates.')

    def __delitem__(self, i):
        """Remove the hook (or, for a slice, the hooks) at `i`, then drop it from the container."""
        raise NotImplementedError('Exercise ch07.Hooks: Remove the hook (or, for a slice, the hooks) at `i`, then drop it from the container.')

    def remove(self) -> None:
        """Remove every hook in the container."""
        raise NotImplementedError('Exercise ch07.Hooks: Remove every hook in the container.')


_NUMPY_FLOAT = {torch.float32: np.float32, torch.float64: np.float64}


def fast_histc(x: torch.Tensor, bins: int = 40, lo: float = 0, hi: float = 10) -> torch.Tensor:
    r"""The counts `x.histc(bins, lo, hi)` gives, computed about three times faster on the CPU.

    `histc` stores `lo` and `hi` in `x`'s precision, skips values outside $[lo, hi]$ and puts value
    $v$ in bin $\lfloor (v - lo) \cdot \text{bins} / (hi - lo) \rfloor$, three roundings in that
    precision and in that order, with the values this sends to `bins` (`hi`, and values a rounding
    below it) in the last bin. Here the same three operations run on the whole tensor at once; the
    results are cut to whole numbers (they are all >= 0, so cutting rounds down) and stored in one
    byte each. `bincount` then counts them two at a time: read as 16-bit numbers, two neighbouring
    bytes $b_0, b_1$ make the number $b_0 + 256\,b_1$, so one pass over half as many numbers counts
    every pair, and the table of pairs, summed along either side, gives the counts of the bytes.

    That needs every value inside $[lo, hi]$, which `amin` and `amax` check first; when one is not
    (or is NaN), `histc` itself does the counting. So it does for tensors under 16,384 values,
    where its single call costs less than the handful of operations here, for more than 127 bins,
    and for any tensor that is not float32 or float64 on the CPU. Whichever way, the counts are
    `histc`'s.

    >>> x = torch.cat([torch.tensor([0.0, 0.2, 0.3, 9.9, 10.0]), torch.rand(20000) * 10])
    >>> torch.equal(fast_histc(x, 40, 0, 10), x.histc(40, 0, 10))
    True

    Book: chapter 7, "What looking costs".
    """
    to_numpy = _NUMPY_FLOAT.get(x.dtype)
    if (x.numel() < 16384 or to_numpy is None or x.device.type != "cpu" or not 0 < bins < 128
            or not -math.inf < lo < hi < math.inf):
        return x.histc(bins, lo, hi)
    flat = x.detach().reshape(-1)
    left, right, n_bins = to_numpy(lo), to_numpy(hi), to_numpy(bins)  # as histc stores them
    width = right - left  # computed in x's precision, as histc does
    smallest, largest = flat.amin().item(), flat.amax().item()
    if not (left <= smallest and largest <= right):  # False for NaN too
        return x.histc(bins, lo, hi)
    pos = (flat - float(left)).mul_(bins).div_(float(width))  # exact: both numbers are in x's precision
    if (to_numpy(largest) - left) * n_bins / width >= bins:  # the largest position; the others are <= it
        pos.clamp_(max=bins - 1)  # hi itself, and values a rounding below it, go in the last bin
    byte = pos.to(torch.int8)  # cuts to whole numbers, 0 to bins - 1
    even = flat.numel() // 2 * 2
    pairs = torch.bincount(byte[:even].view(torch.int16), minlength=256 * bins).view(bins, 256)[:, :bins]
    counts = pairs.sum(0, dtype=x.dtype) + pairs.sum(1, dtype=x.dtype)
    if even < flat.numel():
        counts[int(byte[-1])] += 1
    return counts


def mean_std(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""`(x.mean(), x.std())`, the unbiased std, in fewer passes over `x` than `x.std()` takes on the CPU.

    The two-pass formula of chapter 3: the mean $\bar x$ first, then
    $\sigma = \sqrt{\sum_i (x_i - \bar x)^2 / (N - 1)}$, the sum of squares as one dot product
    of the deviations with themselves. Subtracting the mean first keeps it accurate in float32.
    Both are detached from the graph.

    >>> x = torch.tensor([1.0, 2.0, 4.0, 9.0])
    >>> [round(v.item(), 4) for v in mean_std(x)], round(x.std().item(), 4)
    ([4.0, 3.559], 3.559)

    Book: chapter 7, "What looking costs".
    """
    flat = x.detach().reshape(-1)
    mean = flat.mean()
    if flat.numel() < 2:
        return mean, flat.std()  # NaN, as x.std() gives
    dev = flat - mean
    return mean, dev.dot(dev).div_(flat.numel() - 1).sqrt_()


def append_stats(hook, mod, inp, outp, bins: int = 40, lo: float = 0, hi: float = 10) -> None:
    """A hook function: on each *training* forward pass, record the output's mean, std and histogram.

    `hook.stats` is created on the first call as three lists `(means, stds, hists)`. When
    `mod.training` is True, one entry is appended to each: `outp.mean()` and `outp.std()`
    (0-d float tensors; `std` is PyTorch's default, the unbiased one) and the histogram
    `outp.histc(bins, lo, hi)`, a float tensor of `bins` counts of the values in `[lo, hi]` (in
    equal bins; values outside the range are *not counted*). `mean_std(acts)` and
    `fast_histc(acts, bins, lo, hi)` give the same numbers faster; either way will do. All three
    are detached from the graph and on the CPU (the histogram is computed there, where it is exact), so recording never keeps a
    training graph or GPU memory alive. In eval mode nothing is appended.

    Register it with `Hooks(model, append_stats)`, or `partial(append_stats, bins=40, lo=-7, hi=7)`
    for activations that go below zero.

    >>> layer = nn.ReLU()
    >>> with Hook(layer, append_stats) as hook:
    ...     _ = layer(torch.tensor([-1.0, 0.2, 0.3, 9.9]))
    >>> means, stds, hists = hook.stats
    >>> round(means[0].item(), 3), hists[0].shape, hists[0][:2].tolist()
    (2.6, torch.Size([40]), [2.0, 1.0])

    Book: chapter 7, "`Hooks`: many hooks in one object" and "The colorful dimension: histograms over time".
    """
    raise NotImplementedError("Exercise ch07.append_stats: A hook function: on each *training* forward pass, record the output's mean, std and histogram.")


class HooksCallback(Callback):
    """Hooks that live exactly as long as a fit: registered at `begin_fit`, removed at `after_fit`.

    `HooksCallback(hook_func, modules=None)` keeps both arguments. At `begin_fit` it makes
    `self.hooks = Hooks(ms, hook_func)`, where `ms` is `modules` or, when that is None, the
    children of the runner's model (`run.model.children()`). At `after_fit` it removes them.
    The `Runner` fires `after_fit` in a `finally`, so the hooks go away even when the fit is
    cancelled or crashes; what they recorded stays readable in `self.hooks` afterwards. Give it to
    a runner as `cb_funcs=partial(HooksCallback, append_stats)`; it is then `run.hooks`.

    >>> cb = HooksCallback(append_stats)
    >>> cb.name, cb.modules is None
    ('hooks', True)

    Book: chapter 7, "Exercises" (beyond the chapter: hooks as a callback).
    """

    def __init__(self, hook_func, modules=None):
        self.hook_func, self.modules = hook_func, modules

    def begin_fit(self):
        """Register `Hooks` on `self.modules` (default: the model's children) as `self.hooks`."""
        raise NotImplementedError("Exercise ch07.HooksCallback: Register `Hooks` on `self.modules` (default: the model's children) as `self.hooks`.")

    def after_fit(self):
        """Remove every hook registered at `begin_fit`."""
        raise NotImplementedError('Exercise ch07.HooksCallback: Remove every hook registered at `begin_fit`.')


def update_to_data_ratio(params_before, params_after) -> torch.Tensor:
    r"""How big an optimiser step was, relative to the weights it changed: one number per parameter.

    For each pair of tensors `(before, after)` (the same parameter just before and just after
    `opt.step()`), the ratio is

    $$\log_{10} \frac{\operatorname{std}(\text{after} - \text{before})}{\operatorname{std}(\text{before})},$$

    both standard deviations unbiased (over all the tensor's elements, divided by N - 1). About -3,
    a step that moves each weight by a thousandth of the weights' spread, is the healthy level that
    Karpathy's "Building makemore, part 3" reads off a plot of it: much lower and the layer barely
    learns, much higher and it is thrown around. With plain SGD the update is `lr * grad`; with
    momentum or weight decay it is not, which is why the ratio is computed from the weights
    themselves. Returns a float64 tensor of shape `(len(params_before),)`, on the device of the
    parameters (so that a training loop on a GPU need not wait for it); `inf` for a parameter whose
    spread was 0 (a bias that starts at zero) and that moved, `nan` when it did not move either.
    `params_before` and `params_after` are sequences of tensors of matching shapes, else ValueError.

    >>> before = [torch.tensor([1.0, -1.0, 1.0, -1.0])]
    >>> after = [torch.tensor([1.001, -1.001, 1.001, -1.001])]
    >>> update_to_data_ratio(before, after)
    tensor([-3.0000], dtype=torch.float64)

    Book: chapter 7, "Reading a training run" (beyond the chapter: the update:data ratio).
    """
    raise NotImplementedError('Exercise ch07.update_to_data_ratio: How big an optimiser step was, relative to the weights it changed: one number per parameter.')


class StatsCallback(Callback):
    r"""Look inside a model while it trains, at a cost you choose: statistics of chosen modules,
    every `every`-th training batch, kept on the model's device until the fit ends.

    `StatsCallback(modules=None, every=1, bins=40, lo=0., hi=10., floor=0., width=0.5,
    saturation=None, grads=False, updates=False)`.

    *Which batches.* A training batch is recorded when `n_iter % every == 0`: the first, then every
    `every`-th (validation batches never). The forward hooks are registered at `begin_batch` of a
    recorded batch and removed at its `after_batch`, so the batches in between run with no hook at
    all, and no hook outlives the fit, even a cancelled one.

    *Which modules.* `modules`, or by default the children of the model that have parameters. A
    module's statistics describe its *output* (for chapter 7's `conv_layer`s, the activations after
    the ReLU).

    *What, per recorded batch and module*, from the output `x` of N numbers (each a row of a tensor,
    one column per module):
    - `mean`: the mean of `x`; `std`: its standard deviation, unbiased (divided by N - 1);
    - `hist`: `histc(x, bins, lo, hi)`, the counts of `bins` equal bins of `[lo, hi]` (values outside
      the range are not counted);
    - `near_floor`: the share of *all N values* (not only those the histogram counted) that lie in the
      bins overlapping `[floor, floor + width)`: for a ReLU with the defaults, bins 0 and 1, the values
      in `[0, 0.5)`;
    - with `saturation=t`: `saturated`, the share of the N values with `|x| >= t` (for `tanh`, whose
      outputs are in `[-1, 1]`, 0.97 is a usual choice: a unit there passes almost no gradient).

    With `grads=True`, a hook on each module's output tensor (`Tensor.register_hook`, which the
    backward pass calls with the gradient) records, from the gradient `g` of the loss with respect to
    the module's output, `grad_mean`, `grad_std` (unbiased) and `grad_hist`, the histogram of
    `log10 |g|` over `[-10, 0]` in `bins` bins (a gradient of exactly 0 is not counted).
    With `updates=True`, for each parameter of the modules: `grad_ratio`, `std(grad) / std(param)` at
    `after_backward`, and `update_ratio`, `update_to_data_ratio` of the parameter just before and
    just after `opt.step()` (a copy of each parameter is taken at `after_backward`, on recorded batches
    only). `param_names` names their columns.

    *Where.* Everything is written into tensors made at `begin_fit` on the model's device, one row per
    recorded batch, without a `.item()` or `.cpu()` per batch: on a GPU nothing waits for the GPU.
    `after_fit` copies them to the CPU once, into `self.stats` (a dict of tensors, as many rows as
    batches were recorded), with `self.iters`, the `n_iter` of each row.

    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    >>> from solutions.ch05_learner import DataBunch, Dataset, get_dls
    >>> data = DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), bs=8), c_out=2)
    >>> learn, run = get_runner(model, data, lr=0.1, cbs=partial(StatsCallback, every=3))
    >>> run.logger = lambda line: None
    >>> run.fit(2, learn)
    >>> run.stats.iters, tuple(run.stats.stats["mean"].shape)
    ([0, 3, 6, 9, 12, 15], (6, 2))

    Book: chapter 7, "Looking at almost no cost".
    """

    _order = 3  # after a DeviceCallback (0) and a batch transform (2): the hooks see what the model sees

    def __init__(self, modules=None, every: int = 1, bins: int = 40, lo: float = 0., hi: float = 10.,
                 floor: float = 0., width: float = 0.5, saturation: float | None = None, grads: bool = False,
                 updates: bool = False):
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.modules, self.every, self.bins, self.lo, self.hi = modules, every, bins, lo, hi
        self.floor, self.width, self.saturation, self.grads, self.updates = floor, width, saturation, grads, updates
        bin_width = (hi - lo) / bins
        self._floor_bins = slice(max(math.floor((floor - lo) / bin_width + 1e-9), 0),
                                 min(math.ceil((floor + width - lo) / bin_width - 1e-9), bins))
        self.handles = []

    # --- set-up and clean-up ---------------------------------------------------------------

    def begin_fit(self):
        self.mods = list(self.modules) if self.modules is not None else [
            m for m in self.model.children() if any(True for _ in m.parameters())]
        self.params = [(f"{i}.{name}", p) for i, m in enumerate(self.mods) for name, p in m.named_parameters()]
        self.param_names = [name for name, _ in self.params]
        device = next(self.model.parameters()).device
        rows = max(1, math.ceil(self.epochs * len(self.data.train_dl) / self.every))
        n = len(self.mods)
        shapes = {"mean": (n,), "std": (n,), "near_floor": (n,), "hist": (n, self.bins)}
        if self.saturation is not None:
            shapes["saturated"] = (n,)
        if self.grads:
            shapes.update(grad_mean=(n,), grad_std=(n,), grad_hist=(n, self.bins))
        if self.updates:
            shapes.update(grad_ratio=(len(self.params),), update_ratio=(len(self.params),))
        self._store = {key: torch.full((rows, *shape), math.nan, device=device) for key, shape in shapes.items()}
        self.iters, self.row, self.handles = [], -1, []

    def after_fit(self):
        self._remove()
        used = len(self.iters)
        self.stats = {key: value[:used].cpu() for key, value in self._store.items()}  # the one copy to the CPU
        del self._store

    # --- which batches -------------------------------------------------------------------------

    def begin_batch(self):
        """On a recorded training batch (`n_iter % every == 0`), register the hooks; else do nothing."""
        raise NotImplementedError('Exercise ch07.StatsCallback: On a recorded training batch (`n_iter % every == 0`), register the hooks; else do nothing.')

    def after_batch(self):
        """Remove whatever hooks `begin_batch` registered, so that the next batches run without them."""
        raise NotImplementedError('Exercise ch07.StatsCallback: Remove whatever hooks `begin_batch` registered, so that the next batches run without them.')

    def _remove(self):
        while self.handles:
            self.handles.pop().remove()

    # --- what is recorded ----------------------------------------------------------------------

    def _forward(self, j, module, inp, outp):
        x = outp.detach()
        store, row = self._store, self.row
        store["mean"][row, j], store["std"][row, j] = mean_std(x)
        hist = self._histogram(x.float(), self.lo, self.hi)
        store["hist"][row, j] = hist
        store["near_floor"][row, j] = hist[self._floor_bins].sum() / x.numel()
        if self.saturation is not None:
            store["saturated"][row, j] = (x.abs() >= self.saturation).sum() / x.numel()
        if self.grads and outp.requires_grad:
            outp.register_hook(partial(self._gradient, j, row))

    def _gradient(self, j, row, g):
        g = g.detach()
        store = self._store
        store["grad_mean"][row, j], store["grad_std"][row, j] = mean_std(g)
        store["grad_hist"][row, j] = self._histogram(g.abs().float().log10(), -10., 0.)

    def _histogram(self, x, lo, hi):
        return fast_histc(x, self.bins, lo, hi) if x.device.type == "cpu" else x.histc(self.bins, lo, hi)

    def after_backward(self):
        if not self.updates or not self.in_train or self.row < 0 or self.iters[-1] != self.n_iter:
            return
        grad_ratio = self._store["grad_ratio"][self.row]
        for k, (_, p) in enumerate(self.params):
            if p.grad is not None:
                grad_ratio[k] = p.grad.std() / p.detach().std()
        self._before = [p.detach().clone() for _, p in self.params]

    def after_step(self):
        if not self.updates or not getattr(self, "_before", None):
            return
        self._store["update_ratio"][self.row] = update_to_data_ratio(self._before, [p for _, p in self.params])
        self._before = None

def get_hist(h) -> torch.Tensor:
    """The histograms a hook recorded, as an image: `log1p` of the counts, shape `(bins, n_batches)`.

    `h.stats[2]` is a list of `n_batches` histograms of `bins` counts each. Stack them so that
    column `j` is batch `j` and row `i` is bin `i` (low values in row 0, so draw it with
    `plt.imshow(..., origin="lower")`), as float, and take `log(1 + count)`: a few huge counts
    would otherwise hide everything else, and an empty bin stays 0.

    >>> from types import SimpleNamespace
    >>> h = SimpleNamespace(stats=([], [], [torch.tensor([0., 1., 3.]), torch.tensor([7., 0., 0.])]))
    >>> get_hist(h)
    tensor([[0.0000, 2.0794],
            [0.6931, 0.0000],
            [1.3863, 0.0000]])

    Book: chapter 7, "The colorful dimension: histograms over time".
    """
    raise NotImplementedError('Exercise ch07.get_hist: The histograms a hook recorded, as an image: `log1p` of the counts, shape `(bins, n_batches)`.')


def get_min(h, lo: float = 0, hi: float = 10, floor: float = 0.0, width: float = 0.5) -> torch.Tensor:
    """Per batch, the fraction of the histogram's activations that lie near the activation's floor.

    `h.stats[2]` holds `n_batches` histograms recorded with `histc(bins, lo, hi)`: bin `i` counts
    the values in `[lo + i*w, lo + (i+1)*w)`, `w = (hi - lo) / bins`. "Near the floor" means the
    bins that overlap `[floor, floor + width)`: from the bin that *contains* `floor` up to the bin
    that contains the last value below `floor + width`. For a ReLU the floor is 0 (defaults: with
    40 bins over [0, 10], bins 0 and 1); for `GeneralRelu(sub=s)` it is `-s`, and the bin holding
    `-s` must be counted, since that is where the dead activations pile up.

    The fraction divides by the number of activations *the histogram counted*, i.e. those inside
    `[lo, hi]`: `histc` drops the rest. Returns a float tensor of shape `(n_batches,)`.

    >>> from types import SimpleNamespace
    >>> h = SimpleNamespace(stats=([], [], [torch.tensor([6., 2., 1., 1.]), torch.tensor([0., 0., 5., 5.])]))
    >>> get_min(h, lo=0, hi=4, floor=0.0, width=1.5)
    tensor([0.8000, 0.0000])

    Book: chapter 7, "How many activations are dead?".
    """
    raise NotImplementedError("Exercise ch07.get_min: Per batch, the fraction of the histogram's activations that lie near the activation's floor.")


def collapses(stds, awake: float = 0.5, fraction: float = 0.1) -> int:
    """How many times a layer's activations collapsed during training: falls of `stds` (one number per batch)
    to below `fraction` of the highest value reached so far, counted once that has passed `awake`.

    A fall counts once however long it lasts; the std must rise above `fraction` of its high again before
    the next fall counts.

    >>> collapses([0.01, 0.8, 1.2, 0.05, 0.04, 1.0, 0.1, 1.1])
    2

    Book: chapter 7, "Recording statistics by hand".
    """
    count, down, top = 0, False, 0.0
    for s in stds:
        s = float(s)
        top = max(top, s)
        low = top > awake and s < fraction * top
        count += low and not down
        down = low
    return count


def dead_channels(acts, floor: float = 0.0) -> torch.Tensor:
    """Which channels of a batch of activations never rise above `floor`: a bool tensor of shape `(c,)`.

    `acts` has shape `(n, c)` or `(n, c, *spatial)` (e.g. `(n, c, h, w)` after a convolution).
    Channel `j` is dead when *every* one of its activations, over all `n` items and all positions,
    is `<= floor` (0 for a ReLU, whose dead outputs are exactly 0; `-sub` for `GeneralRelu` without a
    leak). A dead channel passes no gradient to the weights that feed it, so it stays dead. A dead
    *activation* (what `get_min` counts) is common and harmless; a dead *channel* is a filter lost.

    >>> acts = torch.tensor([[0., 1., 0.], [0., 0., 2.]])
    >>> dead_channels(acts)
    tensor([ True, False, False])

    Book: chapter 7, "How many activations are dead?" (beyond the chapter: dead channels).
    """
    raise NotImplementedError('Exercise ch07.dead_channels: Which channels of a batch of activations never rise above `floor`: a bool tensor of shape `(c,)`.')


# --------------------------------------------------------------------------------------------
# A better activation and a better initialisation
# --------------------------------------------------------------------------------------------

class GeneralRelu(nn.Module):
    """A ReLU with three optional knobs: a leak, a shift down, and a ceiling.

    $$\\mathrm{GeneralRelu}(x) = \\min\\big(\\max(x, \\mathrm{leak}\\cdot x) - \\mathrm{sub},\\ \\mathrm{maxv}\\big)$$

    - `leak` (a float in [0, 1) or None): slope for negative inputs, `F.leaky_relu(x, leak)`;
      None gives `F.relu(x)`;
    - `sub` (or None): subtracted afterwards, so the mean of the output moves back towards 0;
    - `maxv` (or None): the output is clamped to at most `maxv`.

    Every step must be out of place (`x - sub`, `x.clamp_max(maxv)`, never `sub_` or
    `clamp_max_`): `F.relu` saves its *output* for the backward pass, so changing that output in
    place makes `backward()` fail. The input is never modified. Keep the three arguments in
    `self.leak`, `self.sub` and `self.maxv`.

    >>> GeneralRelu(leak=0.1, sub=0.4, maxv=6.)(torch.tensor([-2., 0., 1., 10.]))
    tensor([-0.6000, -0.4000,  0.6000,  6.0000])

    Book: chapter 7, "A general ReLU".
    """

    def __init__(self, leak: float | None = None, sub: float | None = None, maxv: float | None = None):
        """Initialise the module and keep `leak`, `sub` and `maxv` as attributes."""
        raise NotImplementedError('Exercise ch07.GeneralRelu: Initialise the module and keep `leak`, `sub` and `maxv` as attributes.')

    def forward(self, x):
        """(Leaky) ReLU, then subtract `sub`, then clamp at `maxv`, each only when given; out of place."""
        raise NotImplementedError('Exercise ch07.GeneralRelu: (Leaky) ReLU, then subtract `sub`, then clamp at `maxv`, each only when given; out of place.')

    def extra_repr(self) -> str:
        return f"leak={self.leak}, sub={self.sub}, maxv={self.maxv}"


def init_cnn(m: nn.Module, uniform: bool = False, a: float = 0.0) -> nn.Module:
    """Kaiming-initialise every convolution in `m` (at any depth) and zero its bias; return `m`.

    Each `nn.Conv1d/2d/3d` weight gets `nn.init.kaiming_normal_(w, a=a)` (or `kaiming_uniform_`
    when `uniform`): mean 0 and standard deviation

    $$\\sigma = \\frac{\\text{gain}}{\\sqrt{\\text{fan\\_in}}},\\qquad \\text{gain} = \\sqrt{\\frac{2}{1 + a^2}},$$

    where `fan_in = in_channels * kernel elements` and `a` is the negative slope of the leaky
    ReLU that follows (0 for a plain ReLU). A bias, when the layer has one (`bias=False` layers
    have `bias is None`), is set to zero. Other layers (linear, norms) are left alone.

    >>> m = init_cnn(nn.Sequential(nn.Conv2d(8, 16, 3), nn.Sequential(nn.Conv2d(16, 32, 3, bias=False))))
    >>> round(m[0].bias.abs().max().item(), 6), m[1][0].bias is None
    (0.0, True)

    Book: chapter 7, "Kaiming initialisation".
    """
    raise NotImplementedError('Exercise ch07.init_cnn: Kaiming-initialise every convolution in `m` (at any depth) and zero its bias; return `m`.')
    return m


def conv_layer(ni: int, nf: int, ks: int = 3, stride: int = 2, **kwargs) -> nn.Sequential:
    """A convolution (padding `ks // 2`) followed by `GeneralRelu(**kwargs)`.

    Book: chapter 7, "Three runs, trained the same way".
    """
    return nn.Sequential(nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride), GeneralRelu(**kwargs))


def get_learn_run(nfs, data, lr: float, layer, cbs=None, opt_func=None, uniform: bool = False, **kwargs):
    """The chapter's CNN built from `layer(ni, nf, ks, **kwargs)`, Kaiming-initialised; returns `(learn, run)`.

    `init_cnn` uses `a = kwargs["leak"]` when a leak is given (the slope of the activation that
    follows each convolution), else 0.

    Book: chapter 7, "Three runs, trained the same way".
    """
    model = init_cnn(get_cnn_model(data, nfs, layer, **kwargs), uniform=uniform, a=kwargs.get("leak") or 0.0)
    return get_runner(model, data, lr=lr, cbs=cbs, opt_func=opt_func)


# --------------------------------------------------------------------------------------------
# Beyond the chapter
# --------------------------------------------------------------------------------------------

class GradStatsHook:
    """Record, at every backward pass, the L2 norm of the gradient of the loss w.r.t. each module's output.

    `GradStatsHook(ms)` registers one *full backward hook* (`register_full_backward_hook`) per module
    in `ms` (any iterable of modules). The hook of module `i` is called as
    `(module, grad_input, grad_output)`; append `grad_output[0].norm()` as a Python float to
    `self.norms[i]` (each module has its own list). `remove()` removes every hook; the object is a
    context manager that removes them on exit. (A full backward hook on the first layer, whose
    input needs no gradient, still fires; PyTorch warns about it once.)

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    >>> with GradStatsHook(model) as grads:
    ...     model(torch.randn(2, 3)).sum().backward()
    >>> [len(n) for n in grads.norms], round(grads.norms[1][0], 4)
    ([1, 1], 1.4142)

    Book: chapter 7, "Exercises" (beyond the chapter: backward hooks).
    """

    def __init__(self, ms):
        """Make one empty list per module in `self.norms` and register a full backward hook on each."""
        raise NotImplementedError('Exercise ch07.GradStatsHook: Make one empty list per module in `self.norms` and register a full backward hook on each.')

    def record(self, i: int, module, grad_input, grad_output) -> None:
        """Append the norm of `grad_output[0]` (a float) to `self.norms[i]`."""
        raise NotImplementedError('Exercise ch07.GradStatsHook: Append the norm of `grad_output[0]` (a float) to `self.norms[i]`.')

    def remove(self) -> None:
        """Remove every backward hook this object registered."""
        raise NotImplementedError('Exercise ch07.GradStatsHook: Remove every backward hook this object registered.')

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


@torch.no_grad()
def lsuv_init(model: nn.Module, m: nn.Module, m_in: nn.Module, xb, tol: float = 1e-3, max_iter: int = 50):
    """Layer-sequential unit-variance init: adjust `m_in` until `m`'s output on `xb` has mean 0, std 1.

    Hook module `m` (for example the activation after the convolution `m_in`), then repeat: run
    `model(xb)`, read the mean and std of `m`'s output (over all its elements); if both are within
    `tol` of 0 and 1, stop; otherwise `m_in.bias -= mean` and `m_in.weight /= std` (in place, so
    the optimiser's references stay valid). At most `max_iter` adjustments. Remove the hook before
    returning, also on an error. Returns the `(mean, std)` floats of `m`'s output measured last,
    after the last adjustment. `m_in` must have a bias; run it on each layer in order, from the
    input to the output.

    >>> _ = torch.manual_seed(0)
    >>> conv = nn.Conv2d(1, 8, 3); act = GeneralRelu(leak=0.1, sub=0.4)
    >>> model = nn.Sequential(conv, act)
    >>> mean, std = lsuv_init(model, act, conv, torch.randn(64, 1, 8, 8))
    >>> abs(mean) < 1e-3, abs(std - 1) < 1e-3
    (True, True)

    Book: chapter 7, "Exercises" (beyond the chapter: LSUV, Mishkin and Matas 2015).
    """
    raise NotImplementedError("Exercise ch07.lsuv_init: Layer-sequential unit-variance init: adjust `m_in` until `m`'s output on `xb` has mean 0, std 1.")
