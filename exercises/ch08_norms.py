# Your copy of the exercises, generated from solutions/ch08_norms.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch08_norms.py` or `python -m grader`.
"""Chapter 8: normalisation layers — BatchNorm from scratch, LayerNorm, InstanceNorm, GroupNorm,
RunningBatchNorm for small batches, and folding a BatchNorm into the convolution before it.

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch08_norms.py`
grades them, and `python -m grader hint ID` gives hints.

Every layer here takes a batch of images `x` of shape `(N, C, H, W)` and returns a tensor of the
same shape. The normalising ones compute a mean and a *biased* variance (divide by the count, not
by count - 1) over some of the axes, then return `(x - mean) / sqrt(var + eps) * mults + adds`.
They differ only in which axes they average over and in what they keep between batches.
"""
from __future__ import annotations

import math
import statistics
import time

import torch
from torch import nn


class BatchNorm(nn.Module):
    """Batch normalisation for `(N, C, H, W)` inputs, written so it behaves exactly like `nn.BatchNorm2d`.

    `BatchNorm(nf, mom=0.1, eps=1e-5)` owns
    - the learnable scale `mults` (ones) and shift `adds` (zeros), `nn.Parameter`s of shape `(nf, 1, 1)`;
    - the running statistics `means` (zeros) and `vars` (ones), *buffers* of shape `(1, nf, 1, 1)`
      registered with `register_buffer`, so that `.to()`, `.double()` and `state_dict()` carry them.

    In training mode (`self.training`), `forward(x)`:
    1. takes the mean and the biased variance of each channel over the axes `(0, 2, 3)`;
    2. returns `(x - mean) / sqrt(var + eps) * mults + adds`, letting gradients flow through the
       mean and variance (that is what makes it match `nn.BatchNorm2d`'s input gradients);
    3. updates the running statistics *without* gradients: `means.lerp_(mean, mom)` and
       `vars.lerp_(unbiased_var, mom)`, where `unbiased_var = var * n / (n - 1)` and
       `n = N * H * W` is the count per channel. `mom` is the weight of the *new* value.
    A training batch with a single value per channel (`n == 1`) raises ValueError, as
    `nn.BatchNorm2d` does. In eval mode the running `means` and `vars` are used instead and
    nothing is updated. Do not call `F.batch_norm` or any other PyTorch normalisation function or
    module: they are the tests' oracle, and the tests check that you do not call them.

    >>> bn = BatchNorm(3)
    >>> y = bn(torch.randn(8, 3, 5, 5) * 4 + 2)
    >>> y.shape, round(y.mean().item(), 4) == 0, round(y.std(correction=0).item(), 3)
    (torch.Size([8, 3, 5, 5]), True, 1.0)
    >>> bn.means.shape, sorted(bn.state_dict())
    (torch.Size([1, 3, 1, 1]), ['adds', 'means', 'mults', 'vars'])

    Book: chapter 8, "BatchNorm from scratch".
    """

    def __init__(self, nf: int, mom: float = 0.1, eps: float = 1e-5):
        """Store `mom` and `eps`; create the parameters `mults`, `adds` and the buffers `means`, `vars`."""
        super().__init__()
        raise NotImplementedError('Exercise ch08.BatchNorm: Store `mom` and `eps`; create the parameters `mults`, `adds` and the buffers `means`, `vars`.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise `x` with the batch statistics (training) or the running ones (eval)."""
        raise NotImplementedError('Exercise ch08.BatchNorm: Normalise `x` with the batch statistics (training) or the running ones (eval).')

    def extra_repr(self) -> str:
        return f"{self.mults.shape[0]}, mom={self.mom}, eps={self.eps}"


class LayerNorm(nn.Module):
    """Layer normalisation: each image is normalised over all its channels and pixels at once.

    `LayerNorm(eps=1e-5)` has two learnable *scalars*, `mult` (shape `(1,)`, ones) and `add`
    (shape `(1,)`, zeros). `forward(x)` takes, for each item of the batch, the mean and the biased
    variance over the axes `(1, 2, 3)` and returns `(x - mean) / sqrt(var + eps) * mult + add`.
    No running statistics: training and eval behave the same, and items never affect each other.
    Do not call `F.layer_norm` (the tests' oracle) or any other PyTorch normalisation function.

    >>> ln = LayerNorm()
    >>> y = ln(torch.randn(4, 3, 5, 5) * 4 + 2)
    >>> y.shape, round(y[0].mean().item(), 4) == 0, round(y[0].std(correction=0).item(), 3)
    (torch.Size([4, 3, 5, 5]), True, 1.0)

    Book: chapter 8, "LayerNorm, InstanceNorm and GroupNorm".
    """

    def __init__(self, eps: float = 1e-5):
        """Store `eps`; create the scalar parameters `mult` (one) and `add` (zero)."""
        super().__init__()
        raise NotImplementedError('Exercise ch08.LayerNorm: Store `eps`; create the scalar parameters `mult` (one) and `add` (zero).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each item of the batch over its channels and pixels (axes 1, 2, 3)."""
        raise NotImplementedError('Exercise ch08.LayerNorm: Normalise each item of the batch over its channels and pixels (axes 1, 2, 3).')


class InstanceNorm(nn.Module):
    """Instance normalisation: each channel of each image is normalised over its own pixels.

    `InstanceNorm(nf, eps=1e-5)` has per-channel parameters `mults` (ones) and `adds` (zeros) of
    shape `(nf, 1, 1)`. `forward(x)` takes the mean and the biased variance over the axes `(2, 3)`
    and returns `(x - mean) / sqrt(var + eps) * mults + adds`, in training and eval alike.
    Do not call `F.instance_norm` (the tests' oracle) or any other PyTorch normalisation function.

    >>> inorm = InstanceNorm(3)
    >>> y = inorm(torch.randn(4, 3, 5, 5) * 4 + 2)
    >>> y.shape, round(y[1, 2].mean().item(), 4) == 0, round(y[1, 2].std(correction=0).item(), 3)
    (torch.Size([4, 3, 5, 5]), True, 1.0)

    Book: chapter 8, "LayerNorm, InstanceNorm and GroupNorm".
    """

    def __init__(self, nf: int, eps: float = 1e-5):
        """Store `eps`; create the parameters `mults` (ones) and `adds` (zeros) of shape `(nf, 1, 1)`."""
        super().__init__()
        raise NotImplementedError('Exercise ch08.InstanceNorm: Store `eps`; create the parameters `mults` (ones) and `adds` (zeros) of shape `(nf, 1, 1)`.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each channel of each image over its pixels (axes 2, 3)."""
        raise NotImplementedError('Exercise ch08.InstanceNorm: Normalise each channel of each image over its pixels (axes 2, 3).')


class GroupNorm(nn.Module):
    """Group normalisation: the channels of each image are split into `groups` groups of
    `nf // groups` consecutive channels, and each group is normalised over its channels and pixels.

    `GroupNorm(groups, nf, eps=1e-5)` (the argument order of `nn.GroupNorm(num_groups,
    num_channels)`) raises ValueError unless `groups` divides `nf`. It has per-channel parameters
    `mults` (ones) and `adds` (zeros) of shape `(nf, 1, 1)`. `forward(x)` views `x` as
    `(N, groups, nf // groups, H, W)`, takes the mean and the biased variance over the axes
    `(2, 3, 4)` of that view, normalises, views the result back as `(N, nf, H, W)` and returns
    `normalised * mults + adds`. `groups=1` is LayerNorm with per-channel parameters;
    `groups=nf` is InstanceNorm. Do not call `F.group_norm` or `nn.GroupNorm` (the tests' oracle) or
    any other PyTorch normalisation function.

    >>> gn = GroupNorm(2, 4)
    >>> y = gn(torch.randn(3, 4, 5, 5) * 4 + 2)
    >>> y.shape, round(y[0, :2].std(correction=0).item(), 3), round(y[0, 2:].std(correction=0).item(), 3)
    (torch.Size([3, 4, 5, 5]), 1.0, 1.0)

    Book: chapter 8, "LayerNorm, InstanceNorm and GroupNorm".
    """

    def __init__(self, groups: int, nf: int, eps: float = 1e-5):
        """Check that `groups` divides `nf`; store `groups` and `eps`; create `mults` and `adds`."""
        super().__init__()
        raise NotImplementedError('Exercise ch08.GroupNorm: Check that `groups` divides `nf`; store `groups` and `eps`; create `mults` and `adds`.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each group of channels of each image over its channels and pixels."""
        raise NotImplementedError('Exercise ch08.GroupNorm: Normalise each group of channels of each image over its channels and pixels.')


def norm_axes(kind: str, ndim: int = 4) -> tuple[int, ...]:
    """The axes a normalisation layer averages over, for an input of `ndim` dimensions `(N, C, *spatial)`.

    `kind` is one of
    - `"batch"`: every axis but the channels, `(0, 2, 3, ..., ndim - 1)`;
    - `"layer"`: every axis but the batch, `(1, 2, ..., ndim - 1)`;
    - `"instance"`: the spatial axes only, `(2, ..., ndim - 1)` (needs `ndim >= 3`);
    - `"group"`: the axes of the input *viewed* as `(N, G, C // G, *spatial)`, which has one more
      dimension: `(2, 3, ..., ndim)`.
    Taking `x.mean(axes, keepdim=True)` and `x.var(axes, keepdim=True, correction=0)` over these
    axes gives the statistics of `F.batch_norm` (training), `F.layer_norm` over `x.shape[1:]`,
    `F.instance_norm` and `F.group_norm`. Raise ValueError for an unknown `kind`, for `ndim < 2`,
    and for `"instance"` with `ndim < 3` (there are no pixels to average over).

    >>> norm_axes("batch"), norm_axes("layer", 3), norm_axes("group")
    ((0, 2, 3), (1, 2), (2, 3, 4))

    Book: chapter 8, "LayerNorm, InstanceNorm and GroupNorm" (beyond the chapter: any number of
    spatial dimensions).
    """
    raise NotImplementedError('Exercise ch08.norm_axes: The axes a normalisation layer averages over, for an input of `ndim` dimensions `(N, C, *spatial)`.')


def conv_norm_layer(ni: int, nf: int, ks: int = 3, stride: int = 2, norm=BatchNorm, act=nn.ReLU) -> nn.Sequential:
    """A convolution, then a normalisation layer, then an activation, as one `nn.Sequential`.

    - `nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2, bias=...)`: the convolution has *no
      bias* when a normalisation follows (its bias would be subtracted again with the mean), and a
      bias when `norm` is None;
    - `norm(nf)`, left out when `norm` is None;
    - `act()`.
    `norm` and `act` are callables that build a module, so `functools.partial` and classes both work.

    >>> conv_norm_layer(1, 8, ks=5)
    Sequential(
      (0): Conv2d(1, 8, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), bias=False)
      (1): BatchNorm(8, mom=0.1, eps=1e-05)
      (2): ReLU()
    )

    Book: chapter 8, "A CNN with BatchNorm".
    """
    raise NotImplementedError('Exercise ch08.conv_norm_layer: A convolution, then a normalisation layer, then an activation, as one `nn.Sequential`.')


class RunningBatchNorm(nn.Module):
    """BatchNorm that normalises with running statistics in training too, so it works with tiny batches.

    `RunningBatchNorm(nf, mom=0.1, eps=1e-5)` has the parameters `mults` (ones) and `adds` (zeros)
    of shape `(nf, 1, 1)` and four buffers: `sums` and `sqrs` (zeros, shape `(1, nf, 1, 1)`),
    `count` (a zero of shape `(1,)`), and `batch`, the number of samples seen (an int64 zero of shape `()`).

    In training mode, for a batch of `bs` images with `n = bs * H * W` values per channel:
    1. `mom1 = 1 - (1 - mom) / sqrt(bs - 1)` (just `mom` when `bs == 1`): bigger batches weigh more;
    2. the per-channel sum `s` and sum of squares `ss` over the axes `(0, 2, 3)` are mixed into the
       running ones: `sums = sums.lerp(s, mom1)`, `sqrs = sqrs.lerp(ss, mom1)`,
       `count = count.lerp(n, mom1)`, and `batch += bs`. The buffers keep detached copies; the
       normalisation below uses the mixed values *with* their gradient through `s` and `ss`.
    In both modes, from the running values:
    3. `mean = sums / count`, `var = sqrs / count - mean**2` (no debiasing is needed: the start
       from zero biases `sums`, `sqrs` and `count` by the same factor, which cancels);
    4. `var` is clamped below at 0.01 while `batch < 20` (a few samples give a wild estimate),
       and at 0 afterwards (rounding can make `E[x^2] - E[x]^2` slightly negative);
    5. `factor = mults / sqrt(var + eps)`, `offset = adds - mean * factor`; return `x * factor + offset`.
    In eval mode before any training batch has been seen (`batch == 0`), it returns `x * mults + adds`
    (mean 0 and variance 1, like a fresh `nn.BatchNorm2d`). `state_dict()` holds everything needed to
    resume: loading it into a fresh layer restores its behaviour exactly, in training and eval.

    >>> rbn = RunningBatchNorm(3)
    >>> y = rbn(torch.randn(2, 3, 4, 4))
    >>> y.shape, bool(y.isfinite().all()), int(rbn.batch), sorted(rbn.state_dict())
    (torch.Size([2, 3, 4, 4]), True, 2, ['adds', 'batch', 'count', 'mults', 'sqrs', 'sums'])

    Book: chapter 8, "RunningBatchNorm" (beyond the chapter: a version that survives `state_dict`).
    """

    def __init__(self, nf: int, mom: float = 0.1, eps: float = 1e-5):
        """Store `mom` and `eps`; create `mults`, `adds` and the buffers `sums`, `sqrs`, `count`, `batch`."""
        super().__init__()
        raise NotImplementedError('Exercise ch08.RunningBatchNorm: Store `mom` and `eps`; create `mults`, `adds` and the buffers `sums`, `sqrs`, `count`, `batch`.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Update the running sums in training; normalise with the running mean and variance."""
        raise NotImplementedError('Exercise ch08.RunningBatchNorm: Update the running sums in training; normalise with the running mean and variance.')

    def extra_repr(self) -> str:
        return f"{self.mults.shape[0]}, mom={self.mom}, eps={self.eps}"


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new `nn.Conv2d` whose output equals `bn(conv(x))` with `bn` in eval mode: BatchNorm folded away.

    In eval mode a BatchNorm is a per-channel affine map `y = x * factor + offset` with
    `factor = weight / sqrt(running_var + eps)` and `offset = bias - running_mean * factor`, and a
    convolution followed by an affine map per output channel is again a convolution:
    - new weight = `conv.weight * factor` (one factor per output channel, shape `(out, 1, 1, 1)`);
    - new bias = `conv_bias * factor + offset`, with `conv_bias` zero when `conv.bias` is None.
    The result has the same in/out channels, kernel size, stride, padding, padding mode, dilation and
    groups as `conv`, the dtype and device of `conv.weight`, always has a bias, and shares no storage
    with `conv` or `bn`, which are left unchanged.
    Deployed models do this: one kernel instead of two. Do not call `torch.nn.utils.fuse_conv_bn_eval`
    or `fuse_conv_bn_weights`: they do the whole exercise, and the tests check that you do not.

    >>> conv, bn = nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2).eval()
    >>> x = torch.randn(1, 1, 4, 4)
    >>> torch.allclose(fold_batchnorm(conv, bn)(x), bn(conv(x)), atol=1e-6)
    True

    Book: chapter 8, "BatchNorm at inference time" (beyond the chapter: fold it into the conv).
    """
    raise NotImplementedError('Exercise ch08.fold_batchnorm: A new `nn.Conv2d` whose output equals `bn(conv(x))` with `bn` in eval mode: BatchNorm folded away.')


# --- Timing: support code for the book's "Speed" section and benchmarks/bench_norms.py (not graded) ---

TIMING_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def step_time(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor, clock=time.perf_counter) -> float:
    """Seconds (by `clock`) for one forward and backward pass of `layer` on `x`."""
    if x.grad is not None:
        x.grad = None
    if x.is_cuda:
        torch.cuda.synchronize()
    start = clock()
    layer(x).backward(grad)
    if x.is_cuda:
        torch.cuda.synchronize()
    return clock() - start


def paired_times(ours: nn.Module, theirs: nn.Module, shape, repeats: int, warmup: int, device,
                 clock=time.perf_counter) -> list[tuple[float, float]]:
    """Per-round forward+backward seconds of both layers, timed back to back (in alternating order)
    so that each round's two timings see the same machine load."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(shape, generator=gen) * 2 + 1).to(device).requires_grad_()
    grad = torch.randn(shape, generator=gen).to(device)
    for _ in range(warmup):
        step_time(ours, x, grad), step_time(theirs, x, grad)
    rounds = []
    for i in range(repeats):
        if i % 2:
            t_theirs = step_time(theirs, x, grad, clock)
            t_ours = step_time(ours, x, grad, clock)
        else:
            t_ours = step_time(ours, x, grad, clock)
            t_theirs = step_time(theirs, x, grad, clock)
        rounds.append((t_ours, t_theirs))
    return rounds


def _summarise_rounds(rounds) -> dict:
    """Median ratio over the rounds (with its minimum and maximum), and the median time of each layer."""
    ratios = [o / t for o, t in rounds]
    return {"ratio": statistics.median(ratios), "spread": (min(ratios), max(ratios)), "ratios": ratios,
            "ours": statistics.median(o for o, _ in rounds), "nn": statistics.median(t for _, t in rounds)}


def batchnorm_speed_ratios(shape=(128, 32, 14, 14), repeats: int = 40, warmup: int = 3, compiled: bool = True,
                           device=None, clock: str = "wall") -> dict:
    """Median time ratios of this chapter's `BatchNorm` to `nn.BatchNorm2d`, forward and backward in training mode.

    Returns `{'eager': r, 'compiled': r or None, 'spread': {mode: (min, max)}, 'ratios': {mode: [...]},
    'times': {...}}`: each ratio is the median over rounds of (our time / nn.BatchNorm2d's time) within a round,
    `ratios` those per-round ratios and `spread` their smallest and largest; `compiled` runs our layer under `torch.compile` (on
    the CPU that needs a C++ compiler) against `nn.BatchNorm2d` as PyTorch ships it, one fused kernel each
    way: the gap that compiling closes. `device` defaults to CUDA when available. `clock` is "wall"
    (elapsed time) or "cpu" (CPU time of this process, CPU only: on a CPU shared with other programs it does
    not count the time spent waiting for a core; use it with one thread).
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if clock == "cpu" and device.type != "cpu":
        raise ValueError("the cpu clock only measures work done on the CPU")
    tick = TIMING_CLOCKS[clock]
    nf = shape[1]
    eager = _summarise_rounds(paired_times(BatchNorm(nf).to(device), nn.BatchNorm2d(nf).to(device),
                                           shape, repeats, warmup, device, tick))
    result = {"eager": eager["ratio"], "compiled": None, "spread": {"eager": eager["spread"]},
              "ratios": {"eager": eager["ratios"]}, "times": {"eager_ours": eager["ours"], "eager_nn": eager["nn"]}}
    if compiled:
        torch._dynamo.reset()
        comp = _summarise_rounds(paired_times(torch.compile(BatchNorm(nf).to(device)),
                                              nn.BatchNorm2d(nf).to(device), shape, repeats, warmup, device, tick))
        result["compiled"] = comp["ratio"]
        result["spread"]["compiled"] = comp["spread"]
        result["ratios"]["compiled"] = comp["ratios"]
        result["times"].update(compiled_ours=comp["ours"], nn_same_rounds=comp["nn"])
    return result
