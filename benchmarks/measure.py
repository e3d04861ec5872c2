"""The one judgement every benchmark makes: is the median of its per-repetition ratios below a target, given
how much those ratios scatter?

The median of n noisy ratios is itself uncertain. `median_interval` puts a 95% interval around it by
resampling the repetitions (a percentile bootstrap, seeded, so the same measurements always give the same
interval); `verdict` then says "met" only when the whole interval is at or below the target, "MISSED" when it
is all above, and "undecided" when it straddles the target: the measurement cannot tell, and more
repetitions (or a quieter machine) are needed. A benchmark whose interval is wider than its margin says so
instead of printing a verdict it cannot support.
"""
from __future__ import annotations

import random
import statistics


def median_interval(values, confidence: float = 0.95, resamples: int = 4000, seed: int = 0) -> tuple[float, float]:
    """A percentile-bootstrap interval for the median of `values`."""
    values = list(values)
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    cut = (1 - confidence) / 2
    return medians[int(cut * resamples)], medians[min(resamples - 1, int((1 - cut) * resamples))]


def verdict(values, target: float) -> str:
    """'median M, 95% interval [lo, hi] (target <= T: met / MISSED / undecided)' for per-repetition ratios."""
    median = statistics.median(values)
    low, high = median_interval(values)
    judged = "met" if high <= target else "MISSED" if low > target else "undecided: the interval holds the target"
    return f"median {median:.3f}, 95% interval [{low:.3f}, {high:.3f}]  (target <= {target}: {judged})"
