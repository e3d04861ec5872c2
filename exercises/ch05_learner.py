# Your copy of the exercises, generated from solutions/ch05_learner.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch05_learner.py` or `python -m grader`.
"""Chapter 5: a training loop you can talk to — callbacks, exceptions as control flow, the LR finder.

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch05_learner.py`
grades them, and `python -m grader hint ID` gives hints.

Later chapters train with this module: `Runner`, the callbacks, the schedulers and the LR finder.
"""
from __future__ import annotations

import bisect
import copy
import math
import re
from functools import partial
from itertools import accumulate

import torch
from torch import nn, optim
from torch.utils.data import DataLoader

from solutions.ch02_datamodel import camel2snake, listify

#: Every event a `Runner` fires, in the order a fit without cancellations fires them.
EVENTS = ("begin_fit", "begin_epoch", "begin_batch", "after_pred", "after_loss", "after_backward",
          "after_step", "after_batch", "begin_validate", "after_epoch", "after_fit",
          "after_cancel_batch", "after_cancel_epoch", "after_cancel_train")


# --------------------------------------------------------------------------------------------
# Data and the learner: plain containers
# --------------------------------------------------------------------------------------------

class Dataset:
    """Pairs of (input, target): `ds[i]` is `(x[i], y[i])`, `len(ds)` is `len(x)`."""

    def __init__(self, x, y):
        if len(x) != len(y):
            raise ValueError(f"Dataset: {len(x)} inputs but {len(y)} targets")
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def get_dls(train_ds, valid_ds, bs: int, **kwargs):
    """Return `(train_dl, valid_dl)`: training batches of `bs`, shuffled; validation batches of `2*bs`.

    Validation needs no gradients, so twice the batch fits in the same memory.
    """
    return (DataLoader(train_ds, batch_size=bs, shuffle=True, **kwargs),
            DataLoader(valid_ds, batch_size=bs * 2, **kwargs))


class DataBunch:
    """The training and validation loaders, and `c_out`, the number of outputs the model needs."""

    def __init__(self, train_dl, valid_dl, c_out: int | None = None):
        self.train_dl, self.valid_dl, self.c_out = train_dl, valid_dl, c_out

    @property
    def train_ds(self):
        return self.train_dl.dataset

    @property
    def valid_ds(self):
        return self.valid_dl.dataset


class Learner:
    """What a fit needs, in one object: the model, the optimiser, the loss function and the data."""

    def __init__(self, model, opt, loss_func, data):
        self.model, self.opt, self.loss_func, self.data = model, opt, loss_func, data


def get_model(data, lr: float = 0.5, nh: int = 50):
    """The chapter's small model for `data` (784 -> nh -> ReLU -> c_out) and an SGD optimiser."""
    n_in = data.train_ds.x.shape[1]
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, data.c_out))
    return model, optim.SGD(model.parameters(), lr=lr)


def create_learner(model_func, loss_func, data) -> Learner:
    """`Learner(*model_func(data), loss_func, data)`."""
    return Learner(*model_func(data), loss_func, data)


# --------------------------------------------------------------------------------------------
# Callbacks and the runner
# --------------------------------------------------------------------------------------------

class CancelTrainException(Exception):
    """Raise from a callback to stop the whole fit (`after_cancel_train`, then `after_fit`, run)."""


class CancelEpochException(Exception):
    """Raise from a callback to end the current pass over a loader (`after_cancel_epoch` runs)."""


class CancelBatchException(Exception):
    """Raise from a callback to skip the rest of this batch (`after_cancel_batch`, then `after_batch`, run)."""


class Callback:
    """Base class of everything that takes part in a fit.

    - `_order`: callbacks run sorted by it, lowest first (ties keep the order they were given in);
    - `set_runner(run)` keeps the runner in `self.run`;
    - an attribute a callback does not have is looked up on its runner, so a callback writes
      `self.model` and `self.n_iter` instead of `self.run.model` (reading only: an assignment
      `self.x = ...` sets the callback's own attribute, so write `self.run.x = ...`). Before
      `set_runner` there is no runner, and a look-up raises AttributeError instead of recursing;
    - `name`: the class name without a trailing "Callback", in snake_case;
    - `cb(event)` calls the method named `event` if the callback has one and returns True only if
      that method returned something truthy.

    >>> class TimerCallback(Callback):
    ...     def begin_fit(self): return True
    >>> cb = TimerCallback(); cb.name, cb("begin_fit"), cb("after_fit")
    ('timer', True, False)

    Book: chapter 5, "Callbacks".
    """

    _order = 0

    def set_runner(self, run) -> None:
        self.run = run

    def __getattr__(self, k):
        """Look up attribute `k` on the runner; raise AttributeError if there is no runner yet."""
        raise NotImplementedError('Exercise ch05.Callback: Look up attribute `k` on the runner; raise AttributeError if there is no runner yet.')

    @property
    def name(self) -> str:
        """The class name without a trailing 'Callback', in snake_case ('callback' for Callback itself)."""
        raise NotImplementedError("Exercise ch05.Callback: The class name without a trailing 'Callback', in snake_case ('callback' for Callback itself).")

    def __call__(self, cb_name: str) -> bool:
        """Call the method named `cb_name` if there is one; True only if it returned something truthy."""
        raise NotImplementedError('Exercise ch05.Callback: Call the method named `cb_name` if there is one; True only if it returned something truthy.')


def defines(cb, event: str) -> bool:
    """Whether calling `cb(event)` can do anything: False only for a callback that dispatches with
    `Callback.__call__` and has no method `event` (on its class, or set on the object itself).

    A callback that handles events in a `__call__` of its own, or a plain callable that is not a
    `Callback`, must see every event, so it always counts as defining it.
    """
    if isinstance(cb, Callback) and type(cb).__call__ is Callback.__call__:
        return event in vars(cb) or callable(getattr(type(cb), event, None))
    return True


class TrainEvalCallback(Callback):
    """Switches the model between train and eval mode and counts progress.

    `run.n_epochs` is the (fractional) number of epochs done; `run.n_iter` the number of training
    batches done. Every `Runner` has one.
    """

    def begin_fit(self):
        self.run.n_epochs = 0.
        self.run.n_iter = 0

    def begin_epoch(self):
        self.run.n_epochs = float(self.epoch)
        self.model.train()
        self.run.in_train = True

    def after_batch(self):
        run = self.run  # one look-up: this runs on every batch
        if not run.in_train:
            return
        run.n_epochs += 1. / run.iters
        run.n_iter += 1

    def begin_validate(self):
        self.model.eval()
        self.run.in_train = False


class Runner:
    """The training loop, firing an event at every step so that callbacks can watch and steer it.

    `Runner(cbs=None, cb_funcs=None)`: `cbs` are callback instances; each of `cb_funcs` is called
    with no arguments to make one, which is then also reachable as `run.<its name>`
    (`run.recorder`, `run.avg_stats`). A `TrainEvalCallback` is always added first.

    `fit(epochs, learn)` trains `learn.model` on `learn.data`. For each epoch it fires
    `begin_epoch`, then for each training batch `begin_batch`, (forward) `after_pred`, (loss)
    `after_loss`, (backward) `after_backward`, (step) `after_step`, (zero the gradients)
    `after_batch`; then, without gradients, `begin_validate` and the same events for each
    validation batch up to `after_loss`, then `after_batch`; then `after_epoch`. `begin_fit` and
    `after_fit` open and close the fit.

    - If any callback returns True from `begin_epoch` (or `begin_validate`), the training (or
      validation) pass of that epoch is skipped. Results combine with `or`: every callback is called
      and one True is enough.
    - `CancelBatchException` ends the batch: `after_cancel_batch`, then `after_batch` (always).
    - `CancelEpochException` ends the pass over the current loader: `after_cancel_epoch`.
    - `CancelTrainException` ends the fit: `after_cancel_train`, then `after_fit` (always).
    - `CancelEpochException` is caught only around the batches of a pass: raised from `begin_epoch`,
      `begin_validate` or `after_epoch` it is not, and escapes `fit()` (after `after_fit` has run).
    - Callbacks run sorted by `_order` (stable). Sort them once per fit and remember, per event, which
      callbacks can handle it (`defines`): `run(event)` is called about ten times per batch and must not
      re-sort or re-scan them. That must not change what runs: a callback with its own `__call__` sees
      every event, and callbacks added to `run.cbs` during a fit are sorted in and seen at once. (A
      method attached to a callback object during a fit is seen from the first event it handles after
      the fit has started; one attached after that event first fired is seen from the next fit.)

    Attributes a callback can read: `model, opt, loss_func, data` (from the learner), `xb, yb, pred,
    loss` (the current batch), `in_train, epochs, epoch, n_epochs, n_iter, iters, iter, dl`.

    >>> import torch.nn.functional as F
    >>> x, y = torch.randn(32, 3), torch.randn(32, 1)
    >>> data = DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), bs=8))
    >>> model = nn.Linear(3, 1)
    >>> run = Runner(cb_funcs=Recorder)
    >>> run.fit(2, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.mse_loss, data))
    >>> len(run.recorder.losses), run.n_iter, run.n_epochs
    (8, 8, 2.0)

    Book: chapter 5, "The Runner and its events" and "Stopping with exceptions".
    """

    def __init__(self, cbs=None, cb_funcs=None):
        self.in_train = False
        self.learn = None
        self.logger = print
        cbs = listify(cbs)
        for cb_func in listify(cb_funcs):
            cb = cb_func()
            setattr(self, cb.name, cb)
            cbs.append(cb)
        self.cbs = [TrainEvalCallback()] + cbs
        self._sorted, self._handlers = None, {}

    @property
    def model(self):
        return self.learn.model

    @property
    def opt(self):
        return self.learn.opt

    @property
    def loss_func(self):
        return self.learn.loss_func

    @property
    def data(self):
        return self.learn.data

    def one_batch(self, xb, yb) -> None:
        """Run one batch: forward, loss and, when training, backward, step and zero_grad, with its events."""
        raise NotImplementedError('Exercise ch05.Runner: Run one batch: forward, loss and, when training, backward, step and zero_grad, with its events.')

    def all_batches(self, dl) -> None:
        """Run every batch of `dl`, setting `dl`, `iters` and `iter`; CancelEpochException ends the pass."""
        raise NotImplementedError('Exercise ch05.Runner: Run every batch of `dl`, setting `dl`, `iters` and `iter`; CancelEpochException ends the pass.')

    def fit(self, epochs: int, learn) -> None:
        """Train `learn` for `epochs` epochs, firing every event; a CancelTrainException ends the fit."""
        raise NotImplementedError('Exercise ch05.Runner: Train `learn` for `epochs` epochs, firing every event; a CancelTrainException ends the fit.')

    def __call__(self, cb_name: str) -> bool:
        """Fire event `cb_name` on every callback that defines it, in `_order`; True if any returned True."""
        raise NotImplementedError('Exercise ch05.Runner: Fire event `cb_name` on every callback that defines it, in `_order`; True if any returned True.')


# --------------------------------------------------------------------------------------------
# Statistics and recording
# --------------------------------------------------------------------------------------------

def accuracy(out, yb):
    """The fraction of rows of `out` (n, c) whose largest entry is at the target index `yb` (n,)."""
    return (out.argmax(dim=1) == yb).float().mean()


class AvgStats:
    """The loss and metrics of one pass (training or validation), averaged over the samples seen.

    `AvgStats(metrics, in_train)`: `metrics` is a list of functions `m(pred, yb)` returning the mean
    over a batch (such as `accuracy`). `accumulate(run)` adds one batch: it reads `run.xb` (its
    first dimension is the batch size `bn`), `run.loss`, `run.pred` and `run.yb`, and adds
    `bn * loss` and `bn * m(pred, yb)` to the totals (detached from the graph), so that the average
    is over samples even when the last batch is smaller:

    $$\\bar L = \\frac{\\sum_b n_b L_b}{\\sum_b n_b}.$$

    `reset()` zeroes the totals and the count; `avg_stats` is `[mean loss, mean metric, ...]` as
    floats; `all_stats` the totals; `count` the number of samples.

    >>> class Batch: pass
    >>> run = Batch(); stats = AvgStats([], in_train=True); stats.reset()
    >>> for n, loss in [(4, 1.0), (1, 6.0)]:
    ...     run.xb, run.loss = torch.zeros(n, 2), torch.tensor(loss)
    ...     stats.accumulate(run)
    >>> stats.avg_stats, stats.count
    ([2.0], 5)

    Book: chapter 5, "Averaging the statistics".
    """

    def __init__(self, metrics, in_train: bool):
        self.metrics, self.in_train = listify(metrics), in_train
        self.reset()

    def reset(self) -> None:
        """Zero the running totals and the sample count."""
        raise NotImplementedError('Exercise ch05.AvgStats: Zero the running totals and the sample count.')

    @property
    def all_stats(self):
        return [self.tot_loss] + self.tot_mets

    @property
    def avg_stats(self):
        """The totals divided by the number of samples, as floats (NaN before any batch)."""
        raise NotImplementedError('Exercise ch05.AvgStats: The totals divided by the number of samples, as floats (NaN before any batch).')

    def accumulate(self, run) -> None:
        """Add one batch, detached: `bn * loss` and `bn * m(pred, yb)` to the totals, `bn` to the count."""
        raise NotImplementedError('Exercise ch05.AvgStats: Add one batch, detached: `bn * loss` and `bn * m(pred, yb)` to the totals, `bn` to the count.')

    def __repr__(self):
        names = ["loss"] + [getattr(m, "__name__", type(m).__name__) for m in self.metrics]
        shown = ", ".join(f"{n} {v:.4f}" for n, v in zip(names, self.avg_stats))
        return f"{'train' if self.in_train else 'valid'}: {shown}"


class AvgStatsCallback(Callback):
    """Averages the loss and `metrics` over each epoch's training and validation batches.

    Keeps `train_stats` and `valid_stats` (two `AvgStats`) and logs one line per epoch through
    `run.logger` (`print` unless a `ProgressCallback` redirects it). `history` keeps, for every epoch
    of the last fit, the pair `(train averages, valid averages)`, each `[loss, *metrics]`: the
    validation accuracy after each epoch is `[valid[1] for _, valid in cb.history]`.
    """

    def __init__(self, metrics):
        self.train_stats = AvgStats(metrics, True)
        self.valid_stats = AvgStats(metrics, False)
        self.history = []

    def begin_fit(self):
        self.history = []

    def valid_metric(self, i: int = 1) -> list[float]:
        """The validation average of stat `i` (0: the loss, 1: the first metric) after each epoch."""
        return [valid[i] for _, valid in self.history]

    def begin_epoch(self):
        self.train_stats.reset()
        self.valid_stats.reset()

    def after_loss(self):
        run = self.run
        with torch.no_grad():
            (self.train_stats if run.in_train else self.valid_stats).accumulate(run)

    def after_epoch(self):
        self.history.append((self.train_stats.avg_stats, self.valid_stats.avg_stats))
        self.logger(f"epoch {self.epoch + 1}  {self.train_stats}  |  {self.valid_stats}")


class Recorder(Callback):
    """Records, for every training batch, each parameter group's learning rate and the loss.

    `lrs[pgid]` is the list of learning rates of parameter group `pgid`, `losses` the list of losses
    (floats). `plot_lr`, `plot_loss` and `plot` (loss against learning rate, log x axis) draw them.
    """

    def begin_fit(self):
        self.lrs = [[] for _ in self.opt.param_groups]
        self.losses = []

    def after_batch(self):
        run = self.run
        if not run.in_train:
            return
        for pg, lrs in zip(run.opt.param_groups, self.lrs):
            lrs.append(pg["lr"])
        self.losses.append(run.loss.detach().item())

    def plot_lr(self, pgid: int = -1, ax=None):
        ax = ax or _new_axes()
        ax.plot(self.lrs[pgid])
        ax.set(xlabel="training batch", ylabel="learning rate")
        return ax

    def plot_loss(self, skip_last: int = 0, ax=None):
        ax = ax or _new_axes()
        ax.plot(self.losses[:len(self.losses) - skip_last])
        ax.set(xlabel="training batch", ylabel="loss")
        return ax

    def plot(self, skip_last: int = 0, pgid: int = -1, ax=None):
        ax = ax or _new_axes()
        n = len(self.losses) - skip_last
        ax.plot(self.lrs[pgid][:n], self.losses[:n])
        ax.set(xscale="log", xlabel="learning rate (log scale)", ylabel="loss")
        return ax


def _new_axes():
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 3.5))[1]


class ProgressCallback(Callback):
    """A fastprogress bar over the epochs and, under it, one over the batches of the current pass.

    Works in notebooks (HTML widgets) and in a terminal (text bars). While it runs, `run.logger`
    writes under the bar, so `AvgStatsCallback`'s lines appear there.
    """

    _order = -1

    def begin_fit(self):
        from fastprogress.fastprogress import master_bar

        self.mbar = master_bar(range(self.epochs))
        self._print, self.run.logger = self.run.logger, self.mbar.write

    def begin_epoch(self):
        self.mbar.update(self.epoch)
        self._new_bar()

    def begin_validate(self):
        self._new_bar()

    def after_batch(self):
        self.pb.update(self.iter + 1)

    def after_fit(self):
        self.mbar.on_iter_end()  # in a notebook: replace the bars by the lines written under them
        self.run.logger = self._print

    def _new_bar(self):
        from fastprogress.fastprogress import progress_bar

        self.pb = progress_bar(range(len(self.dl)), parent=self.mbar)
        self.pb.update(0)


# --------------------------------------------------------------------------------------------
# Scheduling hyper-parameters
# --------------------------------------------------------------------------------------------

def annealer(f):
    """Turn `f(start, end, pos)` into `f(start, end)` returning a schedule `pos -> value`."""
    def _inner(start, end):
        return partial(f, start, end)

    _inner.__name__, _inner.__doc__ = f.__name__, f.__doc__
    return _inner


@annealer
def sched_lin(start, end, pos):
    """Straight line: start + pos * (end - start)."""
    return start + pos * (end - start)


@annealer
def sched_cos(start, end, pos):
    """Half a cosine: start + (1 + cos(pi * (1 - pos))) * (end - start) / 2."""
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


@annealer
def sched_no(start, end, pos):
    """Constant: start."""
    return start


@annealer
def sched_exp(start, end, pos):
    """Geometric: start * (end / start) ** pos."""
    return start * (end / start) ** pos


def cos_1cycle_anneal(start, high, end):
    """The two cosine phases of a one-cycle schedule: start -> high, then high -> end."""
    return [sched_cos(start, high), sched_cos(high, end)]


def combine_scheds(pcts, scheds):
    """Join schedules into one: phase i takes the fraction `pcts[i]` of training and runs `scheds[i]`.

    `pcts` and `scheds` have the same length (any number of phases); the fractions are >= 0 and sum
    to 1 up to floating-point error (|sum - 1| <= 1e-6), else ValueError. The result maps
    `pos` in [0, 1] to `scheds[i](local)`, where phase i covers [start_i, start_i + pcts[i]) and
    `local = (pos - start_i) / pcts[i]` (never above 1). `pos == 1.0` gives `scheds[-1](1.0)`
    (the last phase that is not empty); empty phases (`pcts[i] == 0`) are never used.

    >>> f = combine_scheds([0.25, 0.75], [sched_lin(0, 1), sched_lin(1, 0)])
    >>> f(0.0), f(0.125), f(0.25), f(0.625), f(1.0)
    (0.0, 0.5, 1.0, 0.5, 0.0)

    Book: chapter 5, "Scheduling the learning rate".
    """
    raise NotImplementedError('Exercise ch05.combine_scheds: Join schedules into one: phase i takes the fraction `pcts[i]` of training and runs `scheds[i]`.')


class ParamScheduler(Callback):
    """Sets hyper-parameter `pname` of every parameter group before each training batch.

    `sched_funcs` is one schedule (used for every group) or a list with one per group; each is
    called with `n_epochs / epochs`, the fraction of training done, in [0, 1).
    """

    _order = 1

    def __init__(self, pname: str, sched_funcs):
        self.pname, self.sched_funcs = pname, sched_funcs

    def begin_fit(self):
        funcs = self.sched_funcs
        if not isinstance(funcs, (list, tuple)):
            funcs = [funcs] * len(self.opt.param_groups)
        if len(funcs) != len(self.opt.param_groups):
            raise ValueError(f"ParamScheduler: {len(funcs)} schedules for "
                             f"{len(self.opt.param_groups)} parameter groups")
        self.funcs = funcs

    def begin_batch(self):
        run = self.run
        if not run.in_train:
            return
        pos = run.n_epochs / run.epochs
        for pg, f in zip(run.opt.param_groups, self.funcs):
            pg[self.pname] = f(pos)


# --------------------------------------------------------------------------------------------
# Finding a learning rate, stopping early
# --------------------------------------------------------------------------------------------

class LRFinder(Callback):
    """The learning-rate finder: train with a learning rate that grows exponentially, and stop.

    `LRFinder(max_iter=100, min_lr=1e-6, max_lr=10)`. Before training batch number `n_iter`
    (0, 1, 2, ...) every parameter group gets

    $$\\text{lr} = \\text{min\\_lr}\\,(\\text{max\\_lr}/\\text{min\\_lr})^{n_{iter}/\\text{max\\_iter}},$$

    so batch 0 uses `min_lr` and batch `max_iter` uses `max_lr`. After each step it raises
    `CancelTrainException` when `n_iter >= max_iter`, when the loss exceeds 10 times the best loss
    so far (kept in `best_loss`, which starts at infinity), or when it is NaN (which no comparison
    would catch); otherwise it updates `best_loss`.
    Validation is skipped (`begin_validate` returns True). At the end of the fit it restores the
    model's weights and the optimiser's state (momentum buffers and learning rates) to what they
    were at `begin_fit`: finding a learning rate must not train the model.

    Use it with a `Recorder` and read the curve with `recorder.plot()`.

    >>> import torch.nn.functional as F
    >>> x = torch.randn(64, 3); y = x @ torch.ones(3, 1)
    >>> data = DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), bs=8))
    >>> model = nn.Linear(3, 1); before = model.weight.clone()
    >>> run = Runner(cb_funcs=[partial(LRFinder, max_iter=20), Recorder])
    >>> run.fit(10, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.mse_loss, data))
    >>> len(run.recorder.lrs[0]) <= 21, torch.equal(model.weight, before)
    (True, True)

    Book: chapter 5, "The learning-rate finder".
    """

    _order = 1

    def __init__(self, max_iter: int = 100, min_lr: float = 1e-6, max_lr: float = 10):
        self.max_iter, self.min_lr, self.max_lr = max_iter, min_lr, max_lr

    def begin_fit(self):
        """Remember the model's and the optimiser's state; reset `best_loss` to infinity."""
        raise NotImplementedError("Exercise ch05.LRFinder: Remember the model's and the optimiser's state; reset `best_loss` to infinity.")

    def begin_batch(self):
        """Set every parameter group's learning rate from the exponential schedule."""
        raise NotImplementedError("Exercise ch05.LRFinder: Set every parameter group's learning rate from the exponential schedule.")

    def after_step(self):
        """Stop at `max_iter` or when the loss is above 10x the best; else track the best loss."""
        raise NotImplementedError('Exercise ch05.LRFinder: Stop at `max_iter` or when the loss is above 10x the best; else track the best loss.')

    def begin_validate(self):
        """Skip validation."""
        raise NotImplementedError('Exercise ch05.LRFinder: Skip validation.')

    def after_fit(self):
        """Put the model's weights and the optimiser's state back as they were at begin_fit."""
        raise NotImplementedError("Exercise ch05.LRFinder: Put the model's weights and the optimiser's state back as they were at begin_fit.")


def suggest_lr(lrs, losses, mom: float = 0.1, divisor: float = 10.):
    """A learning rate read off an LR-finder curve: where the smoothed loss is lowest, divided by 10.

    The rule: smooth the losses with chapter 3's debiased exponentially weighted moving average, `mom`
    being the weight of the new value (`avg = avg.lerp(loss, mom)`, i.e. `avg + mom * (loss - avg)`,
    and `smooth = avg / (1 - (1 - mom)**n)` after the n-th finite loss; `mom=1` means no smoothing),
    ignoring points whose loss is NaN or infinite; find the learning rate at which the smoothed loss is
    lowest; return it divided by `divisor`. At the minimum the loss has stopped falling and is about to
    blow up, so the rule backs off by a safe factor.

    `lrs` and `losses` are equal-length sequences of floats (as in `recorder.lrs[0]` and
    `recorder.losses`); ValueError if they differ in length or hold no finite loss.

    >>> suggest_lr([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.5, 0.5, 0.9, 8.0], mom=1)
    0.001

    Book: chapter 5, "Reading a learning rate off the curve".
    """
    raise NotImplementedError('Exercise ch05.suggest_lr: A learning rate read off an LR-finder curve: where the smoothed loss is lowest, divided by 10.')


class EarlyStoppingCallback(Callback):
    """Stops training when the validation loss has not improved for `patience` epochs.

    `EarlyStoppingCallback(patience=3, min_delta=0.0)`. It averages the loss over each epoch's
    validation batches itself (weighted by batch size, like `AvgStats`). After each epoch, an epoch
    whose validation loss is below `best - min_delta` is an improvement: it becomes `best`
    (`best_epoch` its index) and the count of epochs without improvement, `wait`, returns to 0;
    otherwise `wait` grows by one, and when it reaches `patience` the callback raises
    `CancelTrainException`. `stopped_epoch` is the epoch it stopped after (None if it never did).
    An epoch with no validation batches changes nothing.

    >>> cb = EarlyStoppingCallback(patience=2); cb.patience, cb.min_delta, cb.stopped_epoch
    (2, 0.0, None)

    Book: chapter 5, "Exercises" (beyond the chapter: early stopping).
    """

    _order = 2

    def __init__(self, patience: int = 3, min_delta: float = 0.0):
        """Keep the settings; `best` starts at infinity, `wait` at 0, `best_epoch` and `stopped_epoch` at None."""
        raise NotImplementedError('Exercise ch05.EarlyStoppingCallback: Keep the settings; `best` starts at infinity, `wait` at 0, `best_epoch` and `stopped_epoch` at None.')

    def begin_fit(self):
        """Reset `best`, `wait`, `best_epoch` and `stopped_epoch`."""
        raise NotImplementedError('Exercise ch05.EarlyStoppingCallback: Reset `best`, `wait`, `best_epoch` and `stopped_epoch`.')

    def begin_epoch(self):
        """Zero this epoch's validation totals."""
        raise NotImplementedError("Exercise ch05.EarlyStoppingCallback: Zero this epoch's validation totals.")

    def after_loss(self):
        """Add a validation batch's loss, weighted by its size."""
        raise NotImplementedError("Exercise ch05.EarlyStoppingCallback: Add a validation batch's loss, weighted by its size.")

    def after_epoch(self):
        """Compare the epoch's validation loss with the best; stop when `wait` reaches `patience`."""
        raise NotImplementedError("Exercise ch05.EarlyStoppingCallback: Compare the epoch's validation loss with the best; stop when `wait` reaches `patience`.")


class GradClipCallback(Callback):
    """Clips the gradient before every optimiser step so that its total norm is at most `max_norm`.

    The total norm treats all of the model's gradients as one long vector,
    $\\lVert g \\rVert = \\sqrt{\\sum_p \\sum_i g_{p,i}^2}$. After `backward`, if `max_norm / (norm + 1e-6)`
    is below 1, every gradient is multiplied by that factor; otherwise nothing changes. The norm
    before clipping is appended to `norms` (a list of floats, one per training batch, emptied at
    `begin_fit`). Parameters without a gradient are skipped. Do not call `clip_grad_norm_` (the oracle).

    >>> cb = GradClipCallback(max_norm=1.0); cb.max_norm, cb.name
    (1.0, 'grad_clip')

    Book: chapter 5, "Exercises" (beyond the chapter: clipping gradients).
    """

    _order = 1

    def __init__(self, max_norm: float):
        self.max_norm = max_norm
        self.norms = []

    def begin_fit(self):
        self.norms = []

    def after_backward(self):
        """Record the total gradient norm and scale all gradients down to `max_norm` if it is larger."""
        raise NotImplementedError('Exercise ch05.GradClipCallback: Record the total gradient norm and scale all gradients down to `max_norm` if it is larger.')
