"""Chapter 7's `fast_histc` and `mean_std`: the same numbers as `histc`, `mean` and `std`, edge cases included.

They are helpers of the book, not exercises: `append_stats` calls them on every training batch, and
the chapter says their counts are `histc`'s exactly. Random values almost never land within a
rounding of a bin edge, so these tests put thousands of values there on purpose.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.testing import calls_during
from solutions.ch07_hooks import fast_histc, mean_std

RANGES = [(-7, 7, 40), (0, 10, 40), (0, 1, 40), (-1, 1, 40), (0, 10, 100), (-3.3, 4.1, 37), (0, 6, 40),
          (-0.5, 0.5, 40), (1e-3, 0.7, 33), (0, 100, 40), (-2, 3, 9000)]


def near_edges(lo, hi, bins, dtype=np.float32):
    """Every bin edge (as linspace puts it) and enough of the representable values on each side of it
    to make over 16,384 values in all."""
    edges = np.linspace(lo, hi, bins + 1).astype(dtype)
    up, down, values = edges, edges, [edges]
    for _ in range(max(3, 9000 // (bins + 1))):
        up, down = np.nextafter(up, dtype(np.inf)), np.nextafter(down, dtype(-np.inf))
        values += [up, down]
    return torch.from_numpy(np.concatenate(values))


@pytest.mark.parametrize("lo,hi,bins", RANGES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_counts_equal_histc_at_every_bin_edge(lo, hi, bins, dtype):
    x = near_edges(lo, hi, bins, dtype)
    inside = x[(x >= dtype(lo)) & (x <= dtype(hi))]  # the fast path: every value in range
    assert inside.numel() >= 16384, "too few values to take the fast path"
    for values in (inside, x, torch.cat([inside, torch.tensor([math.nan], dtype=x.dtype)])):
        assert torch.equal(fast_histc(values, bins, lo, hi), values.histc(bins, lo, hi)), (lo, hi, bins, dtype)


@settings(max_examples=40, deadline=None)
@given(lo=st.floats(-50, 50), width=st.floats(1e-3, 100), bins=st.integers(1, 127),
       scale=st.floats(0.01, 10), seed=st.integers(0, 2**16), n=st.sampled_from([100, 16384, 40000, 40001]))
def test_counts_equal_histc_on_random_tensors(lo, width, bins, scale, seed, n):
    hi = lo + width
    if not np.float32(lo) < np.float32(hi):
        return
    x = torch.randn(n, generator=torch.Generator().manual_seed(seed)) * scale + (lo + hi) / 2
    assert torch.equal(fast_histc(x, bins, lo, hi), x.histc(bins, lo, hi))
    x = x.clamp(lo, hi)  # all inside: the fast path
    assert torch.equal(fast_histc(x, bins, lo, hi), x.histc(bins, lo, hi))


def test_histc_itself_only_where_the_fast_path_does_not_apply(monkeypatch):
    """Equal counts alone would also pass if fast_histc always handed the work to histc."""
    x = torch.rand(32, 16, 14, 14) * 14 - 7

    def histc_calls(values, bins=40):
        return calls_during(monkeypatch, [(torch.Tensor, "histc")], lambda: fast_histc(values, bins, -7, 7))

    assert histc_calls(x) == [], "in range, float32, 100,352 values: the fast path, without histc"
    assert histc_calls(x.double()) == []
    assert histc_calls(x * 2) == ["Tensor.histc"], "values outside [lo, hi]"
    assert histc_calls(x[:2]) == ["Tensor.histc"], "6,272 values: fewer than 16,384"
    assert histc_calls(x, bins=200) == ["Tensor.histc"], "more than 127 bins"


def test_shape_dtype_and_other_inputs():
    x = torch.rand(8, 4, 32, 32) * 10
    counts = fast_histc(x, 40, 0, 10)
    assert counts.shape == (40,) and counts.dtype == torch.float32 and counts.sum() == x.numel()
    assert torch.equal(fast_histc(x.requires_grad_(), 40, 0, 10), x.detach().histc(40, 0, 10))
    assert torch.equal(fast_histc(x.detach().half(), 40, 0, 10), x.detach().half().histc(40, 0, 10))
    with pytest.raises(RuntimeError):
        fast_histc(x.detach(), 40, 10, 0)  # histc's own error for a reversed range


@pytest.mark.parametrize("shape,shift", [((32, 16, 14, 14), 0.3), ((64,), -2.0), ((4, 100000), 1e3), ((3, 5), 0.0)])
def test_mean_std_match_mean_and_std(shape, shift):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 2 + shift
    mean, std = mean_std(x.requires_grad_())
    assert not mean.requires_grad and not std.requires_grad
    assert torch.allclose(mean, x.mean(), rtol=1e-6, atol=1e-7)
    assert torch.allclose(std, x.std(), rtol=1e-5)
    assert math.isclose(std.item(), x.detach().double().std().item(), rel_tol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")  # std of fewer than two values
def test_mean_std_edge_cases():
    assert all(math.isnan(v.item()) for v in mean_std(torch.tensor([])))
    mean, std = mean_std(torch.tensor([2.5]))
    assert mean.item() == 2.5 and math.isnan(std.item())  # as x.std() of one value
    assert [v.item() for v in mean_std(torch.zeros(50))] == [0.0, 0.0]
    assert math.isnan(mean_std(torch.tensor([1.0, math.nan]))[1].item())
    mean, std = mean_std(torch.randn(1000, dtype=torch.float64))
    assert mean.dtype == std.dtype == torch.float64
