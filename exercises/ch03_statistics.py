# Your copy of the exercises, generated from solutions/ch03_statistics.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch03_statistics.py` or `python -m grader`.
"""Chapter 3: variance, covariance, correlation — and floating point.

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch03_statistics.py`
grades them, and `python -m grader hint ID` gives hints.

Every reduction takes `dim` like PyTorch's: `None` (all elements), an int, or a tuple of ints; and
`keepdim`, which keeps the reduced dimensions with size 1 so the result broadcasts against the input.

`RunningStats` (Welford/Chan) and `ewma` (PyTorch's `lerp` momentum convention, optional bias
correction) are reused by later chapters.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

Dim = int | tuple[int, ...] | None


def count_along(x: Tensor, dim: Dim = None) -> int:
    """How many elements a reduction of `x` over `dim` combines (all of them when `dim` is None).

    >>> count_along(torch.zeros(2, 3, 4), dim=(0, 2))
    8
    """
    if dim is None:
        return x.numel()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return math.prod(x.shape[d] for d in dims)


def variance(x: Tensor, dim: Dim = None, keepdim: bool = False, correction: int = 0) -> Tensor:
    """Variance of `x` over `dim`: the sum of squared deviations from the mean, over `n - correction`.

    Two passes: first the mean, then the mean of squared deviations from it,
    `((x - mean)**2).sum() / (n - correction)`. `x` is a floating-point tensor of any shape; `n` is the
    number of elements reduced (see `count_along`). The default `correction=0` is the *population*
    variance (divide by n); `correction=1` is Bessel's *sample* variance (divide by n - 1), which is
    what `torch.var` computes unless told otherwise. The result has the shape of `x.sum(dim,
    keepdim=keepdim)` and the dtype of `x`. With `correction=0` the variance of a single number is 0
    (with `correction=1` it is 0/0, nan).

    Write it with means and sums: `torch.var`/`torch.std` are what the tests compare with, so the
    tests check that you do not call them.

    >>> variance(torch.tensor([1., 2., 4., 18.]))
    tensor(47.1875)
    >>> variance(torch.tensor([[1., 3.], [5., 5.]]), dim=1, keepdim=True)
    tensor([[1.],
            [0.]])

    Book: chapter 3, "Variance and standard deviation" and "Population or sample?".
    """
    raise NotImplementedError('Exercise ch03.variance: Variance of `x` over `dim`: the sum of squared deviations from the mean, over `n - correction`.')


def variance_one_pass(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Population variance of `x` over `dim` in one pass: E[X^2] - E[X]^2.

    Mathematically equal to `variance(x, dim, keepdim)`; it needs only the sums of `x` and of `x*x`,
    which is why running statistics like it, but in float32 it loses every significant digit when
    the mean is large compared with the spread (chapter 3, "When the formula fails"). Same shapes and
    dtype as `variance`.

    Do not call `torch.var`/`torch.std`: they are the tests' oracle.

    >>> variance_one_pass(torch.tensor([1., 2., 4., 18.]))
    tensor(47.1875)

    Book: chapter 3, "A second formula for the variance".
    """
    raise NotImplementedError('Exercise ch03.variance_one_pass: Population variance of `x` over `dim` in one pass: E[X^2] - E[X]^2.')


def mean_abs_dev(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Mean absolute deviation of `x` over `dim`: the mean of |x - mean(x)|.

    The deviations are taken from the mean over the same `dim`. Same shapes and dtype as `variance`.
    Both it and the standard deviation grow linearly with a far outlier's distance a, but the
    standard deviation like a / sqrt(n) and the mean absolute deviation only like 2a / n: one outlier
    moves it much less.

    >>> mean_abs_dev(torch.tensor([1., 2., 4., 18.]))
    tensor(5.8750)

    Book: chapter 3, "Mean absolute deviation".
    """
    raise NotImplementedError('Exercise ch03.mean_abs_dev: Mean absolute deviation of `x` over `dim`: the mean of |x - mean(x)|.')


def covariance(x: Tensor, y: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Population covariance of `x` and `y` over `dim`: the mean of (x - mean(x)) * (y - mean(y)).

    `x` and `y` are floating-point tensors of the same shape; element `i` of `x` is paired with
    element `i` of `y`. Compute it from the deviations (two passes), not as E[XY] - E[X]E[Y],
    which cancels catastrophically in float32 when the means are large. `covariance(x, x)` is the
    population variance. Same result shape as `variance`.

    Do not call `torch.cov`/`torch.var`: they are the tests' oracle.

    >>> covariance(torch.tensor([1., 2., 3.]), torch.tensor([2., 4., 6.]))
    tensor(1.3333)

    Book: chapter 3, "Covariance".
    """
    raise NotImplementedError('Exercise ch03.covariance: Population covariance of `x` and `y` over `dim`: the mean of (x - mean(x)) * (y - mean(y)).')


def correlation(x: Tensor, y: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Pearson correlation of `x` and `y` over `dim`: covariance over the product of the stds.

    r = cov(x, y) / (std(x) * std(y)) with the *population* covariance and the
    *population* standard deviations (all three divide by n; mixing in `torch.std`'s default n - 1
    scales r by (n-1)/n). `x` and `y` broadcast against each other as PyTorch's operations do (the
    same shape, or one with size 1 where the other has more: chapter 3 correlates one pixel's column,
    (n, 1), with all (n, 784)); the result, between -1 and 1 up to rounding, has the shape of the
    reduction over `dim` of the broadcast shape. Constant inputs give nan (0/0).

    Do not call `torch.corrcoef`, `torch.cov` or `torch.std`: they are the tests' oracle.

    >>> correlation(torch.tensor([1., 2., 4., 18.]), torch.tensor([2., 1., 3., 5.]))
    tensor(0.9166)

    Book: chapter 3, "Correlation".
    """
    raise NotImplementedError('Exercise ch03.correlation: Pearson correlation of `x` and `y` over `dim`: covariance over the product of the stds.')


def corrcoef(x: Tensor) -> Tensor:
    """The matrix of Pearson correlations between the rows of `x`, like `torch.corrcoef`.

    `x` has shape (k, n): k variables (rows), each observed n times (columns). Return the (k, k)
    matrix whose entry (i, j) is the correlation of row i with row j, computed with one matrix
    product of the centred rows rather than a loop over pairs. The diagonal is 1.

    Do not call `torch.corrcoef`: it is the tests' oracle.

    >>> corrcoef(torch.tensor([[1., 2., 3.], [3., 2., 1.], [1., 2., 4.]]))
    tensor([[ 1.0000, -1.0000,  0.9820],
            [-1.0000,  1.0000, -0.9820],
            [ 0.9820, -0.9820,  1.0000]])

    Book: chapter 3, "Correlation" (beyond the chapter: every pair at once).
    """
    raise NotImplementedError('Exercise ch03.corrcoef: The matrix of Pearson correlations between the rows of `x`, like `torch.corrcoef`.')


class RunningStats:
    """Count, mean and variance of a stream of numbers, updated one value or one batch at a time.

    `RunningStats(dim=None)` treats every element of every update as one more sample. With `dim`
    (an int or a tuple), each update is reduced over `dim` only, so one statistic is kept for each
    remaining position: `RunningStats(dim=0)` fed batches of shape (batch, features) keeps one
    mean and variance per feature; `dim=(0, 2, 3)` on images (batch, channels, h, w) keeps one per
    channel.

    `update(x)` takes a number, a 0-d tensor or a batch tensor and merges it in with Chan's formula
    (Welford's algorithm when the batch is one number). It never forms E[X^2] - E[X]^2, so it stays
    accurate in float32 where that formula fails: fed in batches, far more accurate than one number at
    a time, and the closer to the two-pass `variance` the larger the batches; fed one number at a time,
    within about 1e-4 at a mean of 3000 standard deviations, where the one-pass formula is off by a few
    per cent (and by more than 100% a little further out). Attributes:
    `count` (int, samples per statistic so far), `mean` (tensor), `m2` (the sum of squared
    deviations from the mean); properties `var` (population variance, `m2 / count`: 0 after a
    single value) and `std`. Tensors keep the dtype of the data (a Python number becomes float32).
    Before the first update `mean` and `m2` are the number 0.0.

    >>> stats = RunningStats()
    >>> stats.update(1.); stats.update(torch.tensor([2., 4., 18.]))
    >>> stats.count, stats.mean, stats.var
    (4, tensor(6.2500), tensor(47.1875))

    Book: chapter 3, "Welford's algorithm and Chan's merge" (beyond the chapter: batches and dims).
    """

    def __init__(self, dim: Dim = None):
        self.dim = dim
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def update(self, x) -> None:
        """Merge a number or a batch `x` into `count`, `mean` and `m2` with Chan's formula."""
        x = torch.as_tensor(x)
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        raise NotImplementedError("Exercise ch03.RunningStats: Merge a number or a batch `x` into `count`, `mean` and `m2` with Chan's formula.")

    @property
    def var(self) -> Tensor:
        """The population variance of everything seen so far: `m2 / count`."""
        raise NotImplementedError('Exercise ch03.RunningStats: The population variance of everything seen so far: `m2 / count`.')

    @property
    def std(self) -> Tensor:
        """The population standard deviation: the square root of `var`."""
        return self.var.sqrt()


def ewma(values, mom: float = 0.1, debias: bool = False) -> Tensor:
    """Exponentially weighted moving average of `values` along their first dimension.

    `values` is a sequence or tensor of shape (T, *shape); returns the averages after each step,
    shape (T, *shape). The average starts at 0 and moves a fraction `mom` of the way towards each
    new value, PyTorch's convention (`nn.BatchNorm2d`'s `momentum`, `Tensor.lerp`):
    `a_t = (1 - mom) * a_{t-1} + mom * v_t = a_{t-1}.lerp(v_t, mom)`. So `mom` is the weight of the *new*
    value, the opposite of SGD's momentum. Because it starts at 0 the early averages are too small;
    with `debias=True` step t (counting from 1) is divided by `1 - (1 - mom)**t`, the total weight it has
    given the values so far, so a constant sequence averages to itself from the first step.

    >>> ewma([10., 10., 10.], mom=0.5)
    tensor([5.0000, 7.5000, 8.7500])
    >>> ewma([10., 10., 10.], mom=0.5, debias=True)
    tensor([10., 10., 10.])

    Book: chapter 3, "Exponentially weighted moving averages".
    """
    values = torch.as_tensor(values)
    if not values.is_floating_point():
        values = values.to(torch.get_default_dtype())
    raise NotImplementedError('Exercise ch03.ewma: Exponentially weighted moving average of `values` along their first dimension.')


def relative_error(approx: Tensor, exact: Tensor) -> Tensor:
    """|approx - exact| / |exact|, computed in float64: how many digits an approximation got right."""
    approx, exact = torch.as_tensor(approx).double(), torch.as_tensor(exact).double()
    return (approx - exact).abs() / exact.abs()
