"""Grades chapter 3: variance, covariance, correlation, running statistics and moving averages.

Oracles: PyTorch's own reductions (`torch.var(correction=...)`, `torch.std`, `torch.cov`,
`torch.corrcoef`, `nn.BatchNorm1d`'s running mean), float64 computations of the same data, identities
(the mean absolute deviation is twice the mean positive deviation; correlation ignores scale and
shift), and values worked out by hand for the lesson's tensor [1, 2, 4, 18].
"""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from grader.testing import assert_no_oracle_in_source, assert_written_by_hand, spying

exercise = pytest.mark.exercise
LESSON = [1.0, 2.0, 4.0, 18.0]  # the lesson's tensor: mean 6.25, variance 47.1875, MAD 5.875


# --- helpers ------------------------------------------------------------------------------------

def reduced_dims(x, dim):
    """The dimensions a reduction over `dim` removes, as sorted non-negative ints."""
    if dim is None:
        return list(range(x.ndim))
    dims = (dim,) if isinstance(dim, int) else dim
    return sorted(d % x.ndim for d in dims)


def n_reduced(x, dim):
    return math.prod(x.shape[d] for d in reduced_dims(x, dim))


def per_slice(fn, dim, keepdim, *tensors):
    """Apply `fn` to each 1-D run of the elements a reduction over `dim` combines (the oracle's loop)."""
    x = tensors[0]
    dims = reduced_dims(x, dim)
    kept = [d for d in range(x.ndim) if d not in dims]
    out_shape = [x.shape[d] for d in kept]
    flat = [t.permute(*kept, *dims).reshape(math.prod(out_shape), -1) for t in tensors]
    result = torch.stack([fn(*(f[i] for f in flat)) for i in range(math.prod(out_shape))]).reshape(out_shape)
    if keepdim:
        for d in dims:
            result = result.unsqueeze(d)
    return result


def describe(name, x, dim=None, keepdim=False, **more):
    extra = "".join(f", {k}={v!r}" for k, v in more.items())
    return f"{name}(x of shape {tuple(x.shape)}, dim={dim!r}, keepdim={keepdim}{extra})"


def assert_matches(actual, expected, call, oracle, *, rtol=1e-7, atol=1e-9):
    """Shape, dtype and values of `actual` against the oracle's `expected`, with a message a learner can use."""
    assert isinstance(actual, torch.Tensor), f"{call} must return a tensor, got {type(actual).__name__}: {actual!r}"
    assert actual.shape == expected.shape, (
        f"{call} returned shape {tuple(actual.shape)}, expected {tuple(expected.shape)} (what {oracle} gives). "
        "Check which dimensions you reduce and whether you pass keepdim on.")
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, msg=lambda detail: (
        f"{call}: expected {expected} ({oracle}), got {actual}\n{detail}"))


def data(shape, seed, dtype=torch.float64, scale=1.0, shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64).mul(scale).add(shift).to(dtype)


@st.composite
def reductions(draw, min_count=1):
    """(x, dim, keepdim): a random float64 tensor of 1 to 3 dimensions and a way to reduce it."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    ndim = len(shape)
    kind = draw(st.sampled_from(["all", "int", "tuple"]))
    if kind == "all":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-ndim, ndim - 1))
    else:
        dim = tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    keepdim = draw(st.booleans())
    scale = draw(st.floats(0.1, 10.0))
    shift = draw(st.floats(-5.0, 5.0))
    x = data(shape, draw(st.integers(0, 2**16)), scale=scale, shift=shift)
    assume(n_reduced(x, dim) >= min_count)
    return x, dim, keepdim


def offset_float32(n, seed, mean=1e4, std=1.0):
    """float32 data whose mean is far larger than its spread, and the same numbers in float64."""
    exact = data(n, seed, scale=std, shift=mean).float().double()
    return exact.float(), exact


# --- variance -----------------------------------------------------------------------------------

@exercise("ch03.variance", points=2)
@given(case=reductions(), correction=st.sampled_from([0, 1]))
def test_variance_matches_torch_var(probe, case, correction):
    x, dim, keepdim = case
    assume(correction == 0 or n_reduced(x, dim) > 1)
    actual = probe.variance(x, dim=dim, keepdim=keepdim, correction=correction)
    expected = torch.var(x, dim=dim, keepdim=keepdim, correction=correction)
    assert_matches(actual, expected, describe("variance", x, dim, keepdim, correction=correction),
                   f"torch.var(x, dim, keepdim=keepdim, correction={correction})")


@exercise("ch03.variance", points=2)
def test_variance_default_is_the_population_variance(probe):
    x = torch.tensor(LESSON)
    actual = probe.variance(x)
    assert isinstance(actual, torch.Tensor), f"variance({LESSON}) must return a tensor, got {actual!r}"
    assert not torch.isclose(actual, torch.tensor(62.9167), rtol=1e-4), (
        f"variance({LESSON}) returned {actual}: that is the sample variance (divide by n - 1 = 3). "
        "The default, correction=0, divides by n = 4.")
    assert_matches(actual, torch.tensor(47.1875), f"variance({LESSON})",
                   "by hand: deviations -5.25, -4.25, -2.25, 11.75; squares sum to 188.75; / 4")
    square = probe.variance(x.reshape(2, 2))
    assert_matches(square, torch.tensor(47.1875), f"variance({x.reshape(2, 2).tolist()})",
                   "47.1875, a 0-dim tensor: by default (dim=None, keepdim=False) every element is reduced")


@exercise("ch03.variance", points=2)
def test_variance_divides_by_n_minus_the_correction_whatever_it_is(probe):
    x = torch.tensor(LESSON, dtype=torch.float64)
    for correction in (0, 1, 2):
        actual = probe.variance(x, correction=correction)
        assert_matches(actual, torch.tensor(188.75 / (4 - correction), dtype=torch.float64),
                       f"variance({LESSON}, correction={correction})",
                       f"by hand: the squared deviations sum to 188.75, / (n - correction) = / {4 - correction}; "
                       "correction is a number subtracted from n, not a switch between n and n - 1")


@exercise("ch03.variance", points=2, gated=True)
def test_variance_of_one_value_is_zero(probe):
    batch_of_one = data((6, 1), seed=3)
    actual = probe.variance(batch_of_one, dim=1)
    assert_matches(actual, torch.zeros(6, dtype=torch.float64), "variance(x of shape (6, 1), dim=1)",
                   "zero: a single number does not vary from its own mean")


@exercise("ch03.variance", points=2)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_variance_is_accurate_in_float32_with_a_large_mean(probe, seed):
    x, exact = offset_float32(10_000, seed)
    actual = probe.variance(x)
    assert isinstance(actual, torch.Tensor) and actual.dtype == torch.float32, (
        f"variance(float32 x) must return a float32 tensor, got {actual!r}")
    truth = torch.var(exact, correction=0)
    error = ((actual.double() - truth) / truth).abs().item()
    assert error < 1e-3, (
        f"variance(10,000 float32 values with mean 1e4 and std 1) returned {actual.item():.6g}, the float64 "
        f"truth is {truth.item():.6g} (relative error {error:.2g}). Subtract the mean first, then square: "
        "E[X^2] - E[X]^2 cancels catastrophically in float32.")


# --- variance_one_pass --------------------------------------------------------------------------

@exercise("ch03.variance_one_pass")
@given(case=reductions())
def test_variance_one_pass_matches_torch_var(probe, case):
    x, dim, keepdim = case
    actual = probe.variance_one_pass(x, dim=dim, keepdim=keepdim)
    expected = torch.var(x, dim=dim, keepdim=keepdim, correction=0)
    assert_matches(actual, expected, describe("variance_one_pass", x, dim, keepdim),
                   "torch.var(x, dim, keepdim=keepdim, correction=0) in float64", rtol=1e-6, atol=1e-9)


@exercise("ch03.variance_one_pass")
def test_variance_one_pass_on_the_lesson_tensor(probe):
    x = torch.tensor(LESSON, dtype=torch.float64)
    actual = probe.variance_one_pass(x)
    assert_matches(actual, torch.tensor(47.1875, dtype=torch.float64), f"variance_one_pass({LESSON})",
                   "by hand: E[X^2] = 345/4 = 86.25, E[X]^2 = 6.25^2 = 39.0625, difference 47.1875")
    square = probe.variance_one_pass(x.reshape(2, 2))
    assert_matches(square, torch.tensor(47.1875, dtype=torch.float64), f"variance_one_pass({x.reshape(2, 2).tolist()})",
                   "47.1875, a 0-dim tensor: by default (dim=None, keepdim=False) every element is reduced")


@exercise("ch03.variance_one_pass", gated=True)
def test_variance_one_pass_keeps_float32_and_shows_the_cancellation(probe):
    # Around 1e10 (E[X^2] for a mean of 1e5) float32 numbers are 1024 apart, so E[X^2] - E[X]^2 computed in
    # float32 is a multiple of 1024 (often 0), never the true variance of about 1: the failure chapter 3 shows.
    x, exact = offset_float32(1000, seed=3, mean=1e5)
    actual = probe.variance_one_pass(x)
    call = "variance_one_pass(x) for 1,000 float32 values with mean 1e5 and std 1"
    assert isinstance(actual, torch.Tensor) and actual.shape == () and actual.dtype == torch.float32, (
        f"{call} must return a 0-dim float32 tensor, the dtype of x (as variance does), got {actual!r}")
    truth = torch.var(exact, correction=0)
    error = ((actual.double() - truth) / truth).abs().item()
    assert error > 0.5, (
        f"{call} returned {actual.item():.6g}, close to the float64 truth {truth.item():.6g} (relative error "
        f"{error:.2g}): E[X^2] - E[X]^2 in float32 cannot be that accurate here (E[X^2] is about 1e10, where float32 "
        "numbers are 1024 apart). Compute the mean of x * x minus the squared mean, in the dtype of x; subtracting "
        "the mean first is the two-pass `variance`, not this exercise.")


# --- mean_abs_dev -------------------------------------------------------------------------------

@exercise("ch03.mean_abs_dev")
@given(case=reductions())
def test_mean_abs_dev_matches_twice_the_mean_positive_deviation(probe, case):
    x, dim, keepdim = case
    actual = probe.mean_abs_dev(x, dim=dim, keepdim=keepdim)
    # Deviations from the mean sum to zero, so the positive ones make up half of the absolute total.
    expected = per_slice(lambda a: 2 * F.relu(a - a.mean()).mean(), dim, keepdim, x)
    assert_matches(actual, expected, describe("mean_abs_dev", x, dim, keepdim),
                   "2 * mean(relu(x - mean)), the same number since deviations sum to zero")


@exercise("ch03.mean_abs_dev")
def test_mean_abs_dev_of_the_lesson_tensor_and_its_outlier(probe):
    x = torch.tensor(LESSON)
    actual = probe.mean_abs_dev(x)
    assert_matches(actual, torch.tensor(5.875), f"mean_abs_dev({LESSON})",
                   "by hand: |-5.25| + |-4.25| + |-2.25| + |11.75| = 23.5, / 4")
    assert actual < torch.std(x, correction=0), "the mean absolute deviation is never above the (population) std"
    square = probe.mean_abs_dev(x.reshape(2, 2))
    assert_matches(square, torch.tensor(5.875), f"mean_abs_dev({x.reshape(2, 2).tolist()})",
                   "5.875, a 0-dim tensor: by default (dim=None, keepdim=False) every element is reduced")


@exercise("ch03.mean_abs_dev", gated=True)
@given(seed=st.integers(0, 2**16), a=st.floats(-10, 10).filter(lambda a: abs(a) > 0.1), b=st.floats(-100, 100))
def test_mean_abs_dev_scales_with_the_data_and_ignores_shifts(probe, seed, a, b):
    x = data(50, seed)
    base = probe.mean_abs_dev(x)
    moved = probe.mean_abs_dev(a * x + b)
    assert_matches(moved, abs(a) * base, f"mean_abs_dev({a:.3g} * x + {b:.3g})",
                   f"|{a:.3g}| * mean_abs_dev(x)", rtol=1e-9, atol=1e-9)


# --- covariance ---------------------------------------------------------------------------------

@exercise("ch03.covariance", points=2)
@given(case=reductions(), seed=st.integers(0, 2**16))
def test_covariance_matches_torch_cov(probe, case, seed):
    x, dim, keepdim = case
    y = 0.5 * x + data(x.shape, seed, shift=2.0)
    actual = probe.covariance(x, y, dim=dim, keepdim=keepdim)
    expected = per_slice(lambda a, b: torch.cov(torch.stack([a, b]), correction=0)[0, 1], dim, keepdim, x, y)
    assert_matches(actual, expected, describe("covariance", x, dim, keepdim).replace("x of", "x, y of"),
                   "torch.cov(torch.stack([x, y]), correction=0)[0, 1] over the same elements")


@exercise("ch03.covariance", points=2)
@given(case=reductions())
def test_covariance_of_x_with_itself_is_its_variance(probe, case):
    x, dim, keepdim = case
    actual = probe.covariance(x, x, dim=dim, keepdim=keepdim)
    expected = torch.var(x, dim=dim, keepdim=keepdim, correction=0)
    assert_matches(actual, expected, describe("covariance", x, dim, keepdim).replace("(x", "(x, x"),
                   "torch.var(x, dim, keepdim=keepdim, correction=0)")


@exercise("ch03.covariance", points=2)
def test_covariance_by_hand_pairs_element_i_with_element_i(probe):
    x = torch.tensor(LESSON).reshape(2, 2)
    y = torch.tensor([[2.0, 1.0], [3.0, 5.0]])
    actual = probe.covariance(x, y)
    assert_matches(actual, torch.tensor(9.3125), f"covariance({x.tolist()}, {y.tolist()})",
                   "by hand, over all four pairs (the default dim=None): deviations -5.25, -4.25, -2.25, 11.75 and "
                   "-0.75, -1.75, 0.25, 2.25; products 3.9375 + 7.4375 - 0.5625 + 26.4375 = 37.25; / 4 = 9.3125, "
                   "a 0-dim tensor")


@exercise("ch03.covariance", points=2)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_covariance_is_accurate_in_float32_with_large_means(probe, seed):
    x, _ = offset_float32(10_000, seed)
    y, y64 = offset_float32(10_000, seed + 100, mean=-2e4)
    x = x + 0.5 * (y + 2e4)  # correlated with y: covariance about 0.5
    x64 = x.double()
    actual = probe.covariance(x, y)
    assert isinstance(actual, torch.Tensor) and actual.dtype == torch.float32, (
        f"covariance(float32 x, float32 y) must return a float32 tensor, got {actual!r}")
    truth = torch.cov(torch.stack([x64, y64]), correction=0)[0, 1]
    error = ((actual.double() - truth) / truth).abs().item()
    assert error < 1e-3, (
        f"covariance(x, y) of 10,000 float32 pairs with means 1e4 and -2e4 returned {actual.item():.6g}, the "
        f"float64 truth is {truth.item():.6g} (relative error {error:.2g}). Multiply the deviations from the "
        "means: E[XY] - E[X]E[Y] cancels catastrophically in float32.")


# --- correlation --------------------------------------------------------------------------------

@exercise("ch03.correlation", points=2)
@given(n=st.integers(2, 10), seed=st.integers(0, 2**16), slope=st.floats(-3, 3))
def test_correlation_matches_torch_corrcoef(probe, n, seed, slope):
    x = data(n, seed)
    y = slope * x + data(n, seed + 1)
    actual = probe.correlation(x, y)
    expected = torch.corrcoef(torch.stack([x, y]))[0, 1]
    if isinstance(actual, torch.Tensor) and torch.isclose(actual, expected * (n - 1) / n, rtol=1e-9):
        pytest.fail(f"correlation(x, y) with n={n} returned {actual.item():.6f}, which is (n-1)/n times the right "
                    f"{expected.item():.6f}: the covariance divides by n but the stds by n - 1 (torch.std's "
                    "default). Use population standard deviations, as the covariance does.")
    assert_matches(actual, expected, f"correlation(x, y) with x, y of shape ({n},)",
                   "torch.corrcoef(torch.stack([x, y]))[0, 1]", rtol=1e-9, atol=1e-12)


@exercise("ch03.correlation", points=2)
@given(case=reductions(min_count=2), seed=st.integers(0, 2**16))
def test_correlation_along_dims_matches_torch_corrcoef(probe, case, seed):
    x, dim, keepdim = case
    y = data(x.shape, seed) + 0.5 * x
    actual = probe.correlation(x, y, dim=dim, keepdim=keepdim)
    expected = per_slice(lambda a, b: torch.corrcoef(torch.stack([a, b]))[0, 1], dim, keepdim, x, y)
    assert_matches(actual, expected, describe("correlation", x, dim, keepdim).replace("x of", "x, y of"),
                   "torch.corrcoef(torch.stack([x, y]))[0, 1] over the same elements", rtol=1e-7, atol=1e-9)


@exercise("ch03.correlation", points=2)
def test_correlation_broadcasts_one_column_against_many(probe):
    g = torch.Generator().manual_seed(5)
    pixels = torch.randn(50, 6, generator=g, dtype=torch.float64)
    pixels[:, 3] += 2 * pixels[:, 0]
    actual = probe.correlation(pixels[:, [0]], pixels, dim=0)
    expected = torch.corrcoef(pixels.T)[0]
    assert_matches(actual, expected, "correlation(x[:, [0]], x, dim=0) with x of shape (50, 6), as chapter 3 correlates "
                   "one pixel with every pixel", "torch.corrcoef(x.T)[0]: column 0 against each column in turn",
                   rtol=1e-9, atol=1e-12)


@exercise("ch03.correlation", points=2)
def test_correlation_broadcasts_over_all_elements_and_with_keepdim(probe):
    g = torch.Generator().manual_seed(6)
    pixels = torch.randn(40, 5, generator=g, dtype=torch.float64)
    pixels[:, 3] += 2 * pixels[:, 0]
    column = pixels[:, [0]]
    for order, args in (("x[:, [0]], x", (column, pixels)), ("x, x[:, [0]]", (pixels, column))):
        actual = probe.correlation(*args)
        a, b = torch.broadcast_tensors(*args)
        expected = torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]
        assert_matches(actual, expected, f"correlation({order}) with x of shape (40, 5) and the default dim=None",
                       "torch.corrcoef of the 200 broadcast pairs: every sum runs over the broadcast shape, so divide "
                       "by its count, not by the count of x alone", rtol=1e-9, atol=1e-12)
    kept = probe.correlation(column, pixels, dim=0, keepdim=True)
    assert_matches(kept, torch.corrcoef(pixels.T)[0][None], "correlation(x[:, [0]], x, dim=0, keepdim=True)",
                   "torch.corrcoef(x.T)[0], shape (1, 5)", rtol=1e-9, atol=1e-12)


@exercise("ch03.correlation", points=2)
def test_correlation_of_a_constant_is_nan(probe):
    g = torch.Generator().manual_seed(7)
    pixels = torch.randn(32, 4, generator=g, dtype=torch.float64)
    pixels[:, 2] = 0.0  # a border pixel of MNIST: 0 in every image
    actual = probe.correlation(pixels[:, [0]], pixels, dim=0)
    call = "correlation(x[:, [0]], x, dim=0) where column 2 of x is 0 in every row"
    assert isinstance(actual, torch.Tensor) and actual.shape == (4,), f"{call} must return a tensor of shape (4,), got {actual!r}"
    assert torch.isnan(actual[2]), (
        f"{call} gave {actual[2].item()!r} for the constant column: a constant has no spread, so r is 0/0, nan "
        "(as torch.corrcoef says). Do not add an epsilon to, or clamp, the product of the standard deviations.")
    torch.testing.assert_close(actual, torch.corrcoef(pixels.T)[0], rtol=1e-9, atol=1e-12, equal_nan=True,
                               msg=lambda detail: f"{call}: expected {torch.corrcoef(pixels.T)[0]}, got {actual}\n{detail}")
    both = probe.correlation(torch.full((8,), 2.5), torch.full((8,), 2.5))
    assert isinstance(both, torch.Tensor) and both.shape == () and torch.isnan(both), (
        f"correlation of two constant tensors (eight 2.5s each) must be nan (0/0), got {both!r}")


@exercise("ch03.correlation", points=2)
def test_correlation_of_the_lesson_tensor_is_not_scaled_by_three_quarters(probe):
    t = torch.tensor(LESSON)
    v = torch.tensor([0.3, -1.2, 0.8, 1.5])
    actual = probe.correlation(t, v)
    assert isinstance(actual, torch.Tensor), f"correlation(t, v) must return a tensor, got {actual!r}"
    expected = torch.corrcoef(torch.stack([t, v]))[0, 1]
    wrong = torch.cov(torch.stack([t, v]), correction=0)[0, 1] / (t.std() * v.std())
    assert not torch.isclose(actual, wrong, rtol=1e-5), (
        f"correlation(t, v) returned {actual.item():.4f}: the lesson's mix-up (population covariance over "
        f"unbiased stds), 3/4 of the right {expected.item():.4f}")
    assert_matches(actual, expected, f"correlation({LESSON}, {v.tolist()})", "torch.corrcoef", rtol=1e-5, atol=1e-6)


@exercise("ch03.correlation", points=2)
@given(seed=st.integers(0, 2**16), a=st.floats(-10, 10).filter(lambda a: abs(a) > 0.1), b=st.floats(-50, 50))
def test_correlation_ignores_scale_and_shift(probe, seed, a, b):
    x, y = data(20, seed), data(20, seed + 1)
    self_r = probe.correlation(x, x)
    assert_matches(self_r, torch.tensor(1.0, dtype=torch.float64), "correlation(x, x)", "1: x predicts itself exactly")
    moved = probe.correlation(a * x + b, y)
    expected = math.copysign(1.0, a) * torch.corrcoef(torch.stack([x, y]))[0, 1]
    assert_matches(moved, expected, f"correlation({a:.3g} * x + {b:.3g}, y)",
                   f"sign({a:.3g}) * torch.corrcoef(torch.stack([x, y]))[0, 1]: scale and shift do not change r",
                   rtol=1e-9, atol=1e-12)


# --- corrcoef -----------------------------------------------------------------------------------

@exercise("ch03.corrcoef", points=2)
@given(k=st.integers(2, 6), n=st.integers(2, 12), seed=st.integers(0, 2**16))
def test_corrcoef_matches_torch_corrcoef(probe, k, n, seed):
    x = data((k, n), seed, shift=3.0) + data((1, n), seed + 1)  # rows share a component: real correlations
    actual = probe.corrcoef(x)
    assert_matches(actual, torch.corrcoef(x), f"corrcoef(x of shape ({k}, {n}))", "torch.corrcoef(x)",
                   rtol=1e-9, atol=1e-12)


@exercise("ch03.corrcoef", points=2)
def test_corrcoef_of_float32_rows_is_symmetric_with_unit_diagonal(probe):
    x = data((4, 30), seed=7, dtype=torch.float32)
    actual = probe.corrcoef(x)
    assert isinstance(actual, torch.Tensor) and actual.shape == (4, 4), (
        f"corrcoef(x of shape (4, 30)) must return a (4, 4) tensor (one entry per pair of rows), got {actual!r}")
    assert_matches(actual.diagonal(), torch.ones(4), "corrcoef(x).diagonal()", "all ones", rtol=1e-5, atol=1e-6)
    assert_matches(actual, actual.T, "corrcoef(x)", "its own transpose", rtol=1e-6, atol=1e-7)
    assert_matches(actual, torch.corrcoef(x), "corrcoef(float32 x of shape (4, 30))", "torch.corrcoef(x)",
                   rtol=1e-5, atol=1e-6)


# --- RunningStats -------------------------------------------------------------------------------

def observe_running_stats(ch, batches, dim=None):
    """Feed `batches` to a new RunningStats (numbers or tensors); what it holds after each feature asked."""
    stats = ch.RunningStats() if dim is None else ch.RunningStats(dim=dim)
    for batch in batches:
        stats.update(batch)
    return {"count": stats.count, "mean": stats.mean, "var": stats.var, "std": stats.std}


def assert_count(count, n, call, what=""):
    """`count` is the Python int `n` (a float, a numpy number or a tensor equal to n is not)."""
    assert type(count) is int, (
        f"{call}: count is {count!r}, a {type(count).__name__}; it must be a Python int, {n}{what}. Add up the "
        "sample counts as ints (count_along gives one); a division such as x.numel() / mean.numel() gives a float.")
    assert count == n, f"{call}: count is {count!r}, expected {n}{what}"


def check_stats(stats, exact, call, oracle, *, rtol, atol):
    """Compare a RunningStats' count, mean, var and std with `exact` (a tensor of everything fed in)."""
    n = exact.numel()
    assert_count(stats["count"], n, call)
    assert_matches(stats["mean"], exact.mean(), f"{call}: .mean", f"{oracle}.mean()", rtol=rtol, atol=atol)
    assert_matches(stats["var"], exact.var(correction=0), f"{call}: .var", f"{oracle}.var(correction=0)",
                   rtol=rtol, atol=atol)
    assert_matches(stats["std"], exact.std(correction=0), f"{call}: .std", f"{oracle}.std(correction=0)",
                   rtol=rtol, atol=atol)


@exercise("ch03.RunningStats", points=3)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6), seed=st.integers(0, 2**16),
       shift=st.floats(-10, 10))
def test_running_stats_of_batches_match_the_whole(probe, sizes, seed, shift):
    whole = data(sum(sizes), seed, scale=2.0, shift=shift)
    stats = probe(observe_running_stats, list(whole.split(sizes)))
    check_stats(stats, whole, f"RunningStats() updated with float64 batches of sizes {sizes}", "torch.cat(batches)",
                rtol=1e-9, atol=1e-9)


@exercise("ch03.RunningStats", points=3)
def test_running_stats_of_one_number_at_a_time_in_float32(probe):
    # At a mean of 3000 standard deviations the one-pass formula is off by about 100%; Welford's
    # updates stay within about 1e-4 (one at a time, the rounding of the running mean itself limits them).
    x, exact = offset_float32(10_000, seed=0, mean=3e3)
    stats = probe(observe_running_stats, list(x))
    call = "RunningStats() updated with 10,000 float32 scalars of mean 3000 and std 1"
    assert_count(stats["count"], 10_000, call)
    var = stats["var"]
    assert isinstance(var, torch.Tensor) and var.dtype == torch.float32, (
        f"{call}: .var must be a float32 tensor, like the data (no float64 under the hood), got {var!r}")
    assert_matches(stats["mean"].double(), exact.mean(), f"{call}: .mean", "the float64 mean", rtol=1e-5, atol=0)
    truth = exact.var(correction=0)
    error = ((var.double() - truth) / truth).abs().item()
    assert error < 1e-3, (
        f"{call}: .var is {var.item():.6g}, the float64 truth is {truth.item():.6g} (relative error "
        f"{error:.2g}; E[X^2] - E[X]^2 is off by about 100% here). Update the mean with delta / n and add "
        "delta * (x - new mean) to m2 (Welford), or use Chan's merge with a batch of one.")


@exercise("ch03.RunningStats", points=3)
def test_running_stats_of_float32_batches_with_a_large_mean(probe):
    x, exact = offset_float32(10_000, seed=1)
    var = probe(observe_running_stats, list(x.split(250)))["var"]
    assert isinstance(var, torch.Tensor), f"RunningStats().var must be a tensor, got {var!r}"
    truth = exact.var(correction=0)
    error = ((var.double() - truth) / truth).abs().item()
    assert error < 1e-3, (
        f"RunningStats() updated with 40 float32 batches of 250 values (mean 1e4, std 1): .var is "
        f"{var.item():.6g}, the float64 truth is {truth.item():.6g} (relative error {error:.2g}). Keep the "
        "batch's mean and sum of squared deviations and merge them (Chan), not running sums of x and x*x.")


@exercise("ch03.RunningStats", points=3)
def test_running_stats_of_one_value_has_zero_variance(probe):
    stats = probe(observe_running_stats, [torch.tensor([3.5])])
    call = "RunningStats() after update(tensor([3.5]))"
    assert_count(stats["count"], 1, call)
    assert_matches(stats["mean"], torch.tensor(3.5), f"{call}: .mean", "3.5")
    assert_matches(stats["var"], torch.tensor(0.0), f"{call}: .var",
                   "0: the population variance of one number is zero, not infinite or nan")
    assert_matches(stats["std"], torch.tensor(0.0), f"{call}: .std", "0")


@exercise("ch03.RunningStats", points=3)
def test_running_stats_accept_numbers_and_tensors_of_any_shape(probe):
    stats = probe(observe_running_stats, [1, 2.0, torch.tensor(4.0), torch.tensor([[18.0, -3.0], [0.5, 7.0]])])
    fed = torch.tensor([1.0, 2.0, 4.0, 18.0, -3.0, 0.5, 7.0])
    check_stats(stats, fed, "RunningStats() updated with 1, 2.0, tensor(4.), then a (2, 2) tensor",
                "the seven numbers fed in", rtol=1e-5, atol=1e-6)


@exercise("ch03.RunningStats", points=3)
@pytest.mark.parametrize("dim,shape", [(0, (5,)), ((0, 2, 3), (3,))], ids=["features", "channels"])
def test_running_stats_along_dims_keep_one_statistic_per_position(probe, dim, shape):
    batches = [data((n, 5), seed=n) if dim == 0 else data((n, 3, 2, 2), seed=n, shift=1.0) for n in (4, 1, 7)]
    stats = probe(observe_running_stats, batches, dim)
    whole = torch.cat(batches)
    var, mean = torch.var_mean(whole, dim=dim, correction=0)
    call = f"RunningStats(dim={dim}) updated with batches of shapes {[tuple(b.shape) for b in batches]}"
    assert_count(stats["count"], whole.numel() // math.prod(shape), call, " samples per statistic")
    assert_matches(stats["mean"], mean, f"{call}: .mean", f"torch.cat(batches).mean(dim={dim})", rtol=1e-9, atol=1e-9)
    assert_matches(stats["var"], var, f"{call}: .var", f"torch.cat(batches).var(dim={dim}, correction=0)",
                   rtol=1e-9, atol=1e-9)


# --- ewma ---------------------------------------------------------------------------------------

def ewma_closed_form(values, mom, debias):
    """a_t = sum_i m (1-m)^(t-i) v_i, all in float64; debiased: / (1 - (1-m)^t)."""
    T = values.shape[0]
    t = torch.arange(1, T + 1, dtype=torch.float64)
    exponents = (t[:, None] - t[None, :]).clamp(min=0)
    weights = torch.where(t[:, None] >= t[None, :], mom * (1 - mom) ** exponents, 0.0)
    if debias:
        weights = weights / (1 - (1 - mom) ** t)[:, None]
    return torch.einsum("ti,i...->t...", weights, values.double())


@exercise("ch03.ewma", points=2)
@given(T=st.integers(1, 20), mom=st.floats(0.01, 0.99), debias=st.booleans(), seed=st.integers(0, 2**16),
       width=st.sampled_from([(), (3,)]))
def test_ewma_matches_the_closed_form(probe, T, mom, debias, seed, width):
    values = data((T, *width), seed, scale=3.0, shift=1.0)
    actual = probe.ewma(values, mom=mom, debias=debias)
    expected = ewma_closed_form(values, mom, debias)
    assert_matches(actual, expected, f"ewma(values of shape {tuple(values.shape)}, mom={mom:.3g}, debias={debias})",
                   "sum over i <= t of mom * (1-mom)**(t-i) * v_i" + (", / (1 - (1-mom)**t)" if debias else ""),
                   rtol=1e-9, atol=1e-12)


@exercise("ch03.ewma", points=2)
@pytest.mark.parametrize("mom", [0.1, 0.3])
def test_ewma_follows_batchnorm_momentum(probe, mom):
    values = data((12, 4), seed=5, dtype=torch.float32, shift=2.0)
    actual = probe.ewma(values, mom=mom)
    bn = torch.nn.BatchNorm1d(4, momentum=mom)
    running = []
    for v in values:
        bn(torch.stack([v - 1, v + 1]))  # a batch whose mean is v
        running.append(bn.running_mean.clone())
    assert_matches(actual, torch.stack(running), f"ewma(values of shape (12, 4), mom={mom})",
                   f"nn.BatchNorm1d(momentum={mom}).running_mean after each batch: mom is the weight of the NEW value",
                   rtol=1e-5, atol=1e-6)


@exercise("ch03.ewma", points=2)
@given(c=st.floats(-100, 100), mom=st.floats(0.01, 0.99), T=st.integers(1, 15))
def test_ewma_debiased_average_of_a_constant_is_that_constant(probe, c, mom, T):
    actual = probe.ewma([c] * T, mom=mom, debias=True)
    expected = torch.full((T,), c)
    assert_matches(actual, expected, f"ewma([{c:.3g}] * {T}, mom={mom:.3g}, debias=True)",
                   "the constant itself at every step: debiasing undoes the pull towards the starting 0",
                   rtol=1e-5, atol=1e-4)


@exercise("ch03.ewma", points=2)
def test_ewma_defaults_are_mom_0_1_without_debiasing(probe):
    actual = probe.ewma([10.0, 10.0, 10.0])
    assert_matches(actual, torch.tensor([1.0, 1.9, 2.71]), "ewma([10., 10., 10.]) with the defaults",
                   "by hand with mom=0.1 and debias=False: 0 -> 1 -> 1.9 -> 2.71", rtol=1e-6, atol=1e-6)


@exercise("ch03.ewma", points=2)
def test_ewma_of_a_list_of_ints_returns_floats(probe):
    actual = probe.ewma([2, 4, 4], mom=0.5)
    assert_matches(actual, torch.tensor([1.0, 2.5, 3.25]), "ewma([2, 4, 4], mom=0.5)",
                   "by hand: 0 -> 1 -> 2.5 -> 3.25, each step halfway to the new value")


# --- written by hand: the built-ins above are the oracles, so an exercise must not call them -----------

VARIANCE_BUILTINS = [(owner, name) for owner in (torch, torch.Tensor)
                     for name in ("var", "std", "var_mean", "std_mean", "cov", "corrcoef")]
VARIANCE_NAMES = {name for _, name in VARIANCE_BUILTINS}


def observe_builtin_calls(ch, name, *args, **kwargs):
    """The variance built-ins that `ch.<name>(*args, **kwargs)` called, however it reached them."""
    with spying(VARIANCE_BUILTINS) as called:
        getattr(ch, name)(*args, **kwargs)
    return called


def by_hand(probe, name, args, call, instead):
    assert_written_by_hand(probe(observe_builtin_calls, name, *args), call, instead)
    assert_no_oracle_in_source(probe.references(name, VARIANCE_NAMES), call, instead)


@exercise("ch03.variance", points=2, handwritten=True)
def test_variance_is_written_by_hand(probe):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(30))
    by_hand(probe, "variance", [x], "variance(x)", "Subtract the mean and average the squared deviations.")


@exercise("ch03.variance_one_pass", handwritten=True)
def test_variance_one_pass_is_written_by_hand(probe):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(31))
    by_hand(probe, "variance_one_pass", [x], "variance_one_pass(x)", "Compute E[X^2] - E[X]^2 with two means.")


@exercise("ch03.covariance", points=2, handwritten=True)
def test_covariance_is_written_by_hand(probe):
    g = torch.Generator().manual_seed(32)
    x, y = torch.randn(6, generator=g), torch.randn(6, generator=g)
    by_hand(probe, "covariance", [x, y], "covariance(x, y)", "Average the product of the deviations.")


@exercise("ch03.correlation", points=2, handwritten=True)
def test_correlation_is_written_by_hand(probe):
    g = torch.Generator().manual_seed(33)
    x, y = torch.randn(6, generator=g), torch.randn(6, generator=g)
    by_hand(probe, "correlation", [x, y], "correlation(x, y)",
            "Divide your population covariance by the product of population standard deviations.")


@exercise("ch03.corrcoef", points=2, handwritten=True)
def test_corrcoef_is_written_by_hand(probe):
    x = torch.randn(3, 7, generator=torch.Generator().manual_seed(34))
    by_hand(probe, "corrcoef", [x], "corrcoef(x)", "Center the rows and use a matrix product.")
