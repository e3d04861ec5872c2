"""Grades chapter 4: softmax, log-sum-exp, log-softmax, NLL, cross-entropy, binary cross-entropy, predictions.

Oracles: PyTorch's own `torch.softmax`, `torch.logsumexp`, `F.log_softmax`, `F.nll_loss`,
`F.cross_entropy`, `F.binary_cross_entropy_with_logits` and `torch.sigmoid`; closed-form gradients
(softmax minus one-hot, sigmoid minus target); `torch.autograd.gradcheck` in float64; and behaviour
(finite at logits of magnitude 1000 where the textbook formula gives inf or nan, shift invariance).
Inputs are random: hypothesis draws the shapes, the scale and the seed of a torch generator.

Each test asks `probe.exercise(...)` (the generic observer: what the exercise returns) or
`probe(observe_..., *inputs)`, where the `observe_...` function runs the learner's code where it runs (this
process, or a sandboxed worker when a class is graded) and returns plain data: gradients, gradcheck's verdict,
an expected error, the built-ins that were called. The test judges that data here (grader/probe.py).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.testing import assert_close

from grader.probe import outcome
from grader.testing import assert_no_oracle_in_source, assert_written_by_hand, spying

exercise = pytest.mark.exercise
SCALES = [0.1, 1.0, 10.0, 100.0, 1000.0]
REDUCTIONS = ["mean", "sum", "none"]


def random_tensor(seed, shape, scale=1.0, dtype=torch.float64):
    """Normal noise times `scale`, from a seeded generator, so every failure reproduces."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator, dtype=torch.float64) * scale).to(dtype)


def random_targets(seed, n, c):
    generator = torch.Generator().manual_seed(seed + 1)
    return torch.randint(0, c, (n,), generator=generator)


@st.composite
def shape_and_dim(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim


seeds = st.integers(0, 2**31 - 1)
scales = st.sampled_from(SCALES)
rows = st.integers(1, 12)
classes = st.integers(2, 10)


def check_close(actual, expected, call, *, rtol, atol, what="the oracle"):
    """assert_close with a message that says what was called and what it was compared with."""
    assert isinstance(actual, torch.Tensor), f"{call} must return a tensor, got {type(actual).__name__}"
    assert actual.shape == expected.shape, \
        f"{call} returned shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
    assert actual.dtype == expected.dtype, f"{call} returned dtype {actual.dtype}, expected {expected.dtype}"
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=False,
                 msg=lambda m: f"{call} differs from {what}.\n{m}\nexpected:\n{expected}\ngot:\n{actual}")


def assert_finite(result, call):
    bad = ~torch.isfinite(result)
    assert not bad.any(), (f"{call} returned {int(bad.sum())} inf/nan value(s), e.g. {result[bad][:3].tolist()}: "
                           "did you subtract the maximum before exp?")


# --- observers ----------------------------------------------------------------------------------

def observe_gradient(ch, name, x, *args, sum_first=False, **kwargs):
    """The gradient with respect to `x` of `ch.<name>(x, *args, **kwargs)` (summed first if `sum_first`),
    None if the result does not reach `x`."""
    x = x.requires_grad_()
    result = getattr(ch, name)(x, *args, **kwargs)
    (result.sum() if sum_first else result).backward()
    return x.grad


def observe_call_and_input(ch, name, x, *args, **kwargs):
    """What `ch.<name>(x, *args, **kwargs)` returns, and `x` as it is afterwards (an exercise must not change it)."""
    result = getattr(ch, name)(x, *args, **kwargs)
    return {"result": result, "input": x}


def observe_loss_outcome(ch, name, inputs, targets, reduction):
    """What `ch.<name>(inputs, targets, reduction=reduction)` returns, or the error it raises."""
    return outcome(getattr(ch, name), inputs, targets, reduction=reduction)


def observe_gradcheck(ch, name, x, *args, **kwargs):
    """torch.autograd.gradcheck's verdict on `t -> ch.<name>(t, *args, **kwargs)` at the float64 point `x`."""
    x = x.requires_grad_()
    return torch.autograd.gradcheck(lambda t: getattr(ch, name)(t, *args, **kwargs), (x,), raise_exception=False)


# --- softmax ------------------------------------------------------------------------------------

@exercise("ch04.softmax", points=1)
@given(sd=shape_and_dim(), scale=scales, seed=seeds)
def test_softmax_matches_torch_softmax(probe, sd, scale, seed):
    shape, dim = sd
    x = random_tensor(seed, shape, scale)
    result = probe.softmax(x, dim=dim)
    check_close(result, torch.softmax(x, dim=dim), f"softmax(x, dim={dim}) with x of shape {shape}, scale {scale}",
                rtol=1e-7, atol=1e-12, what="torch.softmax")


@exercise("ch04.softmax", points=1)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_softmax_does_not_overflow(probe, dtype):
    x = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0], [100.0, 100.0, 100.0]], dtype=dtype)
    result = probe.softmax(x)
    call = f"softmax(x) for {dtype} logits around 1000"
    assert_finite(result, call)
    check_close(result, torch.softmax(x, dim=-1), call, rtol=1e-5, atol=1e-7, what="torch.softmax")
    assert_close(result.sum(-1), torch.ones(3, dtype=dtype), rtol=0, atol=1e-6,
                 msg=f"every row of {call} must sum to 1")


@exercise("ch04.softmax", points=1)
@given(n=rows, c=classes, seed=seeds, shift=st.floats(-500, 500))
def test_softmax_ignores_a_constant_shift(probe, n, c, seed, shift):
    x = random_tensor(seed, (n, c), 3.0)
    shifted = probe.softmax(x + shift)
    original = probe.softmax(x)
    assert_close(shifted, original, rtol=1e-6, atol=1e-9,
                 msg=lambda m: f"softmax(x + {shift}) must equal softmax(x): adding a constant to every logit "
                               f"changes nothing.\n{m}")


@exercise("ch04.softmax", points=1)
def test_softmax_leaves_its_input_unchanged(probe):
    x = random_tensor(14, (4, 5), 3.0)
    got = probe(observe_call_and_input, "softmax", x, dim=1)
    call = "softmax(x, dim=1) with x of shape (4, 5)"
    check_close(got["result"], torch.softmax(x, dim=1), call, rtol=1e-7, atol=1e-12, what="torch.softmax")
    changed = got["input"] != x
    assert not changed.any(), (
        f"{call} changed x itself ({int(changed.sum())} of its 20 entries), e.g. {x[changed][:3].tolist()} became "
        f"{got['input'][changed][:3].tolist()}: the caller's logits are not yours to overwrite. Subtract the maximum "
        "into a new tensor (x - m), not in place (x -= m, x.sub_(m)).")


# --- logsumexp ----------------------------------------------------------------------------------

@exercise("ch04.logsumexp", points=2)
@given(sd=shape_and_dim(), scale=scales, seed=seeds, keepdim=st.booleans())
def test_logsumexp_matches_torch_logsumexp(probe, sd, scale, seed, keepdim):
    shape, dim = sd
    x = random_tensor(seed, shape, scale)
    result = probe.logsumexp(x, dim=dim, keepdim=keepdim)
    check_close(result, torch.logsumexp(x, dim=dim, keepdim=keepdim),
                f"logsumexp(x, dim={dim}, keepdim={keepdim}) with x of shape {shape}, scale {scale}",
                rtol=1e-9, atol=1e-9, what="torch.logsumexp")


@exercise("ch04.logsumexp", points=2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logsumexp_of_huge_logits(probe, dtype):
    x = torch.tensor([[1000.0, 1000.0], [1000.0, -1000.0], [-1000.0, -1000.0]], dtype=dtype)
    result = probe.logsumexp(x)
    call = f"logsumexp(x) for {dtype} logits of magnitude 1000"
    assert_finite(result, call)
    expected = torch.tensor([1000.0 + math.log(2), 1000.0, -1000.0 + math.log(2)], dtype=dtype)
    check_close(result, expected, call, rtol=1e-6, atol=1e-4, what="max + log(sum(exp(x - max)))")


@exercise("ch04.logsumexp", points=2)
def test_logsumexp_with_masked_entries(probe):
    inf = float("inf")
    x = torch.tensor([[0.0, -inf, 0.0], [-inf, 5.0, -inf], [-inf, -inf, -inf]], dtype=torch.float64)
    result = probe.logsumexp(x, dim=1)
    expected = torch.tensor([math.log(2), 5.0, -inf], dtype=torch.float64)
    assert_close(result, expected, rtol=1e-9, atol=1e-12,
                 msg=lambda m: "logsumexp(x, dim=1) with -inf (masked) entries: -inf adds nothing, and a row that "
                               "is all -inf gives -inf, not nan (its maximum is -inf, so x - max is nan: "
                               f"shift by 0 when the maximum is not finite).\n{m}\ngot: {result}")


@exercise("ch04.logsumexp", points=2)
def test_logsumexp_gradient(probe):
    x = random_tensor(4, (3, 5), 2.0)
    grad = probe(observe_gradient, "logsumexp", x, dim=-1, sum_first=True)
    assert grad is not None, "logsumexp must be differentiable: build it from torch operations"
    assert_close(grad, torch.softmax(x, dim=-1), rtol=1e-9, atol=1e-12,
                 msg=lambda m: f"the gradient of logsumexp along a row is softmax of that row.\n{m}")
    y = random_tensor(5, (4, 3), 1.0)
    assert probe(observe_gradcheck, "logsumexp", y, dim=0), "gradcheck of logsumexp(x, dim=0)"


# --- log_softmax --------------------------------------------------------------------------------

@exercise("ch04.log_softmax", points=2)
@given(sd=shape_and_dim(), scale=scales, seed=seeds)
def test_log_softmax_matches_torch(probe, sd, scale, seed):
    shape, dim = sd
    x = random_tensor(seed, shape, scale)
    result = probe.log_softmax(x, dim=dim)
    check_close(result, F.log_softmax(x, dim=dim), f"log_softmax(x, dim={dim}) with x of shape {shape}, scale {scale}",
                rtol=1e-9, atol=1e-9, what="F.log_softmax")


@exercise("ch04.log_softmax", points=2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("size", [100.0, 1000.0])
def test_log_softmax_of_large_logits(probe, dtype, size):
    x = torch.tensor([[size, size - 1, size - 3], [size, -size, 0.0]], dtype=dtype)
    result = probe.log_softmax(x)
    call = f"log_softmax(x) for {dtype} logits around {size:g}"
    assert_finite(result, call)
    check_close(result, F.log_softmax(x, dim=-1), call, rtol=1e-6, atol=1e-4, what="F.log_softmax")


@exercise("ch04.log_softmax", points=2)
def test_log_softmax_gradient(probe):
    x = random_tensor(6, (4, 3, 5), 3.0)
    ok = probe(observe_gradcheck, "log_softmax", x, dim=1)
    assert ok, "torch.autograd.gradcheck(log_softmax(x, dim=1)) in float64"


# --- nll ----------------------------------------------------------------------------------------

@exercise("ch04.nll", points=2)
@given(n=rows, c=classes, seed=seeds, reduction=st.sampled_from(REDUCTIONS))
def test_nll_matches_nll_loss(probe, n, c, seed, reduction):
    log_probs = F.log_softmax(random_tensor(seed, (n, c), 3.0), dim=-1)
    targets = random_targets(seed, n, c)
    result = probe.nll(log_probs, targets, reduction=reduction)
    check_close(result, F.nll_loss(log_probs, targets, reduction=reduction),
                f"nll(log_probs, targets, reduction={reduction!r}) with {n} rows and {c} classes",
                rtol=1e-9, atol=1e-12, what="F.nll_loss")


@exercise("ch04.nll", points=2)
def test_nll_default_is_mean_and_picks_one_entry_per_row(probe):
    log_probs = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [0.2, 0.4, 0.4]], dtype=torch.float64))
    targets = torch.tensor([0, 2, 1])
    result = probe.nll(log_probs, targets)
    expected = -(math.log(0.5) + math.log(0.8) + math.log(0.4)) / 3
    assert isinstance(result, torch.Tensor) and result.shape == (), \
        f"nll(...) with the default reduction must be a 0-dim tensor (the mean), got {result!r}"
    assert_close(result, torch.tensor(expected, dtype=torch.float64), rtol=1e-12, atol=0,
                 msg=lambda m: "nll of log([[.5,.25,.25],[.1,.1,.8],[.2,.4,.4]]) with targets [0, 2, 1] must be "
                               f"-(log .5 + log .8 + log .4) / 3 = {expected:.6f}; got {result}")


def observe_nll_outcome(ch, log_probs, targets, reduction):
    return outcome(ch.nll, log_probs, targets, reduction=reduction)


@exercise("ch04.nll", points=2)
def test_nll_rejects_an_unknown_reduction(probe):
    log_probs, targets = F.log_softmax(random_tensor(0, (3, 4)), -1), torch.tensor([0, 1, 2])
    got = probe(observe_nll_outcome, log_probs, targets, "average")
    assert got.get("raised") == "ValueError", \
        f"nll(log_probs, targets, reduction='average') must raise ValueError (use reduce_loss); it gave {got}"


@exercise("ch04.nll", points=2)
def test_nll_gradient(probe):
    log_probs = random_tensor(8, (5, 4))
    targets = torch.tensor([3, 0, 0, 2, 1])
    grad = probe(observe_gradient, "nll", log_probs, targets, reduction="sum")
    expected = -F.one_hot(targets, 4).double()
    assert grad is not None, "nll must be differentiable with respect to log_probs"
    assert_close(grad, expected, rtol=0, atol=1e-12,
                 msg=lambda m: f"d nll(sum) / d log_probs is -1 at each target and 0 elsewhere.\n{m}")


# --- cross_entropy ------------------------------------------------------------------------------

@exercise("ch04.cross_entropy", points=2)
@given(n=rows, c=classes, seed=seeds, scale=scales, reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_matches_torch(probe, n, c, seed, scale, reduction):
    logits = random_tensor(seed, (n, c), scale)
    targets = random_targets(seed, n, c)
    result = probe.cross_entropy(logits, targets, reduction=reduction)
    check_close(result, F.cross_entropy(logits, targets, reduction=reduction),
                f"cross_entropy(logits, targets, reduction={reduction!r}) with {n} rows, {c} classes, scale {scale}",
                rtol=1e-9, atol=1e-9, what="F.cross_entropy")


@exercise("ch04.cross_entropy", points=2)
@pytest.mark.parametrize("size", [100.0, 1000.0])
def test_cross_entropy_of_large_float32_logits(probe, size):
    logits = torch.tensor([[size, 0.0, -size], [size, size - 2, 0.0]])
    targets = torch.tensor([1, 1])
    result = probe.cross_entropy(logits, targets, reduction="none")
    call = f"cross_entropy(logits, targets, 'none') for float32 logits around {size:g}"
    assert_finite(result, call)
    check_close(result, F.cross_entropy(logits, targets, reduction="none"), call, rtol=1e-5, atol=1e-3,
                what="F.cross_entropy")


@exercise("ch04.cross_entropy", points=2)
def test_cross_entropy_gradient_is_softmax_minus_one_hot(probe):
    logits = random_tensor(9, (6, 4), 2.0)
    targets = torch.tensor([0, 3, 3, 1, 2, 0])
    grad = probe(observe_gradient, "cross_entropy", logits, targets)
    expected = (torch.softmax(logits, -1) - F.one_hot(targets, 4).double()) / 6
    assert grad is not None, "cross_entropy must be differentiable with respect to the logits"
    assert_close(grad, expected, rtol=1e-9, atol=1e-12,
                 msg=lambda m: f"the gradient of the mean cross-entropy is (softmax - one_hot) / n.\n{m}")
    x = random_tensor(10, (3, 5), 1.0)
    assert probe(observe_gradcheck, "cross_entropy", x, torch.tensor([4, 0, 2])), \
        "gradcheck of cross_entropy(x, targets) in float64"


@exercise("ch04.cross_entropy", points=2)
def test_cross_entropy_rejects_an_unknown_reduction(probe):
    logits, targets = random_tensor(15, (3, 4)), torch.tensor([0, 1, 3])
    got = probe(observe_loss_outcome, "cross_entropy", logits, targets, "average")
    assert got.get("raised") == "ValueError", (
        "cross_entropy(logits, targets, reduction='average') must raise ValueError, as nll does (reduction as for "
        f"nll: pass it on to your nll, or use reduce_loss); it gave {got}")


# --- binary_cross_entropy_with_logits -----------------------------------------------------------

@exercise("ch04.binary_cross_entropy_with_logits", points=2)
@given(sd=shape_and_dim(), scale=scales, seed=seeds, soft=st.booleans(), reduction=st.sampled_from(REDUCTIONS))
def test_bce_with_logits_matches_torch(probe, sd, scale, seed, soft, reduction):
    shape, _ = sd
    logits = random_tensor(seed, shape, scale)
    generator = torch.Generator().manual_seed(seed + 2)
    targets = torch.rand(shape, generator=generator, dtype=torch.float64)
    targets = targets if soft else targets.round()
    result = probe.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)
    check_close(result, F.binary_cross_entropy_with_logits(logits, targets, reduction=reduction),
                f"binary_cross_entropy_with_logits(logits, targets, reduction={reduction!r}) with shape {shape}, "
                f"scale {scale}, {'soft' if soft else 'hard'} targets",
                rtol=1e-9, atol=1e-9, what="F.binary_cross_entropy_with_logits")


@exercise("ch04.binary_cross_entropy_with_logits", points=2)
@pytest.mark.parametrize("size", [100.0, 1000.0])
def test_bce_with_logits_is_stable_for_large_logits(probe, size):
    logits = torch.tensor([size, size, -size, -size, size, -size, 0.0])
    targets = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.3, 0.9, 0.5])
    result = probe.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    call = f"binary_cross_entropy_with_logits(x, t, 'none') for float32 x = {logits.tolist()}, t = {targets.tolist()}"
    assert_finite(result, call)
    expected = torch.tensor([0.0, size, size, 0.0, 0.7 * size, 0.9 * size, math.log(2)])
    check_close(result, expected, call, rtol=1e-5, atol=1e-5, what="the closed form max(x,0) - x*t + log(1+exp(-|x|))")


@exercise("ch04.binary_cross_entropy_with_logits", points=2)
def test_bce_with_logits_gradient_is_sigmoid_minus_target(probe):
    logits = random_tensor(11, (4, 3), 3.0)
    targets = torch.rand((4, 3), generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    grad = probe(observe_gradient, "binary_cross_entropy_with_logits", logits, targets, reduction="sum")
    assert grad is not None, "binary_cross_entropy_with_logits must be differentiable"
    assert_close(grad, torch.sigmoid(logits) - targets, rtol=1e-9, atol=1e-12,
                 msg=lambda m: f"the gradient of the summed BCE with respect to the logits is sigmoid(x) - t.\n{m}")
    x = random_tensor(13, (5,), 2.0)
    soft = torch.full((5,), 0.3, dtype=torch.float64)
    assert probe(observe_gradcheck, "binary_cross_entropy_with_logits", x, soft), \
        "gradcheck of binary_cross_entropy_with_logits(x, 0.3) in float64"


@exercise("ch04.binary_cross_entropy_with_logits", points=2)
def test_bce_with_logits_default_is_mean_and_rejects_an_unknown_reduction(probe):
    logits = random_tensor(16, (3, 4), 2.0)
    targets = torch.rand((3, 4), generator=torch.Generator().manual_seed(17), dtype=torch.float64)
    result = probe.binary_cross_entropy_with_logits(logits, targets)
    assert isinstance(result, torch.Tensor) and result.shape == (), (
        f"binary_cross_entropy_with_logits(logits, targets) with the default reduction must be a 0-dim tensor (the "
        f"mean), got {result!r}")
    check_close(result, F.binary_cross_entropy_with_logits(logits, targets),
                "binary_cross_entropy_with_logits(logits, targets) with the default reduction='mean'",
                rtol=1e-9, atol=1e-12, what="F.binary_cross_entropy_with_logits (the mean over all 12 entries)")
    got = probe(observe_loss_outcome, "binary_cross_entropy_with_logits", logits, targets, "average")
    assert got.get("raised") == "ValueError", (
        "binary_cross_entropy_with_logits(logits, targets, reduction='average') must raise ValueError, as nll does "
        f"(use reduce_loss); it gave {got}")


# --- predict_single_label -----------------------------------------------------------------------

@exercise("ch04.predict_single_label", points=1)
@given(n=rows, c=classes, seed=seeds, scale=scales)
def test_predict_single_label_gives_argmax_and_its_probability(probe, n, c, seed, scale):
    logits = random_tensor(seed, (n, c), scale, dtype=torch.float32)
    result = probe.predict_single_label(logits)
    call = f"predict_single_label(logits) with {n} rows, {c} classes, scale {scale}"
    assert isinstance(result, tuple) and len(result) == 2, f"{call} must return (classes, confidences), got {result!r}"
    predicted, confidences = result
    expected = torch.argmax(logits, dim=-1)
    assert isinstance(predicted, torch.Tensor) and predicted.dtype == torch.int64 and predicted.shape == (n,), \
        f"{call}: classes must be int64 of shape ({n},), got {predicted!r}"
    assert torch.equal(predicted, expected), f"{call}: classes should be the argmax of each row {expected.tolist()}, " \
                                             f"got {predicted.tolist()}"
    probabilities = torch.softmax(logits, dim=-1)
    check_close(confidences, probabilities[torch.arange(n), expected], f"{call} (the confidences)",
                rtol=1e-5, atol=1e-7, what="the softmax probability of the predicted class")


@exercise("ch04.predict_single_label", points=1)
def test_predict_single_label_cannot_see_a_constant_shift(probe):
    logits = torch.tensor([[2.07, 1.25, 0.02, -1.74, -2.48]])
    two_images = torch.cat([logits, logits - 1.44, logits + 1000.0])
    result = probe.predict_single_label(two_images)
    assert isinstance(result, tuple) and len(result) == 2, \
        f"predict_single_label(logits) must return (classes, confidences), got {result!r}"
    predicted, confidences = result
    assert predicted.tolist() == [0, 0, 0], f"every row's largest logit is class 0, got {predicted.tolist()}"
    assert_close(confidences, torch.full((3,), confidences[0].item()), rtol=1e-5, atol=0,
                 msg=lambda m: "logits that differ by a constant have the same softmax, so the same confidence; "
                               f"got {confidences.tolist()}.\n{m}")


# --- predict_multi_label ------------------------------------------------------------------------

@exercise("ch04.predict_multi_label", points=1)
@given(n=rows, c=classes, seed=seeds, threshold=st.floats(0.05, 0.95))
def test_predict_multi_label_thresholds_sigmoid(probe, n, c, seed, threshold):
    logits = random_tensor(seed, (n, c), 3.0, dtype=torch.float32)
    result = probe.predict_multi_label(logits, threshold)
    expected = torch.sigmoid(logits) > threshold
    call = f"predict_multi_label(logits, threshold={threshold:.3f}) with {n} rows and {c} classes"
    assert isinstance(result, torch.Tensor) and result.dtype == torch.bool and result.shape == (n, c), \
        f"{call} must return a bool tensor of shape ({n}, {c}), got {result!r}"
    wrong = (result != expected).nonzero().tolist()
    assert not wrong, (f"{call}: entries {wrong[:5]} differ from sigmoid(logits) > threshold; e.g. logit "
                       f"{logits[tuple(wrong[0])].item():.3f} has probability {torch.sigmoid(logits[tuple(wrong[0])]).item():.3f}")


@exercise("ch04.predict_multi_label", points=1)
def test_predict_multi_label_can_say_none_or_several(probe):
    logits = torch.tensor([[-3.0, -2.5, -4.0, -6.0], [4.0, 3.5, -3.0, 2.0], [0.5, -0.5, 0.0, -2.0]])
    result = probe.predict_multi_label(logits)
    expected = torch.tensor([[False, False, False, False], [True, True, False, True], [True, False, False, False]])
    assert torch.equal(result, expected), (
        "predict_multi_label(logits) with the default threshold 0.5: the first image holds nothing, the second three "
        f"things, the third one thing.\nexpected:\n{expected}\ngot:\n{result}")


@exercise("ch04.predict_multi_label", points=1)
def test_predict_multi_label_leaves_the_logits_unchanged(probe):
    logits = random_tensor(18, (3, 4), 2.0, dtype=torch.float32)
    got = probe(observe_call_and_input, "predict_multi_label", logits)
    expected = torch.sigmoid(logits) > 0.5
    assert isinstance(got["result"], torch.Tensor) and torch.equal(got["result"], expected), (
        f"predict_multi_label(logits) with the default threshold 0.5.\nexpected:\n{expected}\ngot:\n{got['result']}")
    changed = got["input"] != logits
    assert not changed.any(), (
        f"predict_multi_label(logits) changed the logits themselves ({int(changed.sum())} of 12 entries), e.g. "
        f"{logits[changed][:3].tolist()} became {got['input'][changed][:3].tolist()}: the caller's logits are not "
        "yours to overwrite. Take torch.sigmoid(logits), a new tensor, not logits.sigmoid_().")


@exercise("ch04.predict_multi_label", points=1)
def test_predict_multi_label_per_class_thresholds(probe):
    logits = torch.tensor([[0.0, 0.0, 0.0], [1.0, -1.0, 2.5]])
    thresholds = torch.tensor([0.4, 0.5, 0.95])
    result = probe.predict_multi_label(logits, thresholds)
    expected = torch.sigmoid(logits) > thresholds
    assert torch.equal(result, expected), (
        f"predict_multi_label(logits, threshold=tensor({thresholds.tolist()})) compares each column with its own "
        f"threshold.\nexpected:\n{expected}\ngot:\n{result}")


# --- no built-in shortcuts ----------------------------------------------------------------------
# The oracles above are PyTorch's own functions, so an exercise that just calls them would pass every
# test without teaching anything. These tests watch the obvious routes to the built-ins while the
# exercise runs (they still work: the spies only record), and fail if one was taken; they also read the
# learner's file for references to those built-ins (or dynamic look-ups) that could hide such a call.

BUILTINS = {
    "softmax": [(torch, "softmax"), (torch.Tensor, "softmax"), (torch.special, "softmax")],
    "log_softmax": [(torch, "log_softmax"), (torch.Tensor, "log_softmax"), (torch.special, "log_softmax")],
    "logsumexp": [(torch, "logsumexp"), (torch.Tensor, "logsumexp"), (torch.special, "logsumexp")],
    "nll_loss": [(F, "nll_loss")],
    "cross_entropy": [(F, "cross_entropy")],
    "binary_cross_entropy": [(F, "binary_cross_entropy_with_logits"), (F, "binary_cross_entropy"),
                             (torch, "binary_cross_entropy_with_logits")],
}


def observe_builtin_calls(ch, groups, name, *args, **kwargs):
    """The built-ins of `groups` that `ch.<name>(*args, **kwargs)` called, however it reached them."""
    with spying([pair for group in groups for pair in BUILTINS[group]]) as called:
        getattr(ch, name)(*args, **kwargs)
    return called


def by_hand(probe, groups, name, args, kwargs, call, instead):
    """Fail if `name(*args, **kwargs)` called one of the built-ins of `groups`, or if the learner's file refers
    to one of them (or looks functions up by name) where that exercise can reach it."""
    assert_written_by_hand(probe(observe_builtin_calls, groups, name, *args, **kwargs), call, instead)
    names = {attr for group in groups for _, attr in BUILTINS[group]}
    assert_no_oracle_in_source(probe.references(name, names), call, instead)


@exercise("ch04.softmax", points=1, handwritten=True)
def test_softmax_is_written_by_hand(probe):
    x = random_tensor(20, (3, 4))
    by_hand(probe, ["softmax", "log_softmax"], "softmax", [x], {"dim": 1}, "softmax(x, dim=1)",
            "Build it from exp, amax and sum.")


@exercise("ch04.logsumexp", points=2, handwritten=True)
def test_logsumexp_is_written_by_hand(probe):
    x = random_tensor(21, (3, 4))
    by_hand(probe, ["logsumexp", "softmax", "log_softmax"], "logsumexp", [x], {"dim": 1, "keepdim": True},
            "logsumexp(x, dim=1, keepdim=True)", "Use the max shift: m + log(sum(exp(x - m))).")


@exercise("ch04.log_softmax", points=2, handwritten=True)
def test_log_softmax_is_written_by_hand(probe):
    x = random_tensor(22, (3, 4))
    by_hand(probe, ["log_softmax", "softmax"], "log_softmax", [x], {"dim": 0}, "log_softmax(x, dim=0)",
            "Compute x - logsumexp(x) along dim yourself.")


@exercise("ch04.nll", points=2, handwritten=True)
def test_nll_is_written_by_hand(probe):
    log_probs, targets = F.log_softmax(random_tensor(23, (4, 3)), -1), torch.tensor([0, 2, 1, 2])
    by_hand(probe, ["nll_loss", "cross_entropy"], "nll", [log_probs, targets], {}, "nll(log_probs, targets)",
            "Pick log_probs[range(n), targets] and negate it.")


@exercise("ch04.cross_entropy", points=2, handwritten=True)
def test_cross_entropy_is_written_by_hand(probe):
    logits, targets = random_tensor(24, (4, 3)), torch.tensor([0, 2, 1, 2])
    by_hand(probe, ["cross_entropy", "nll_loss", "log_softmax", "softmax"], "cross_entropy", [logits, targets], {},
            "cross_entropy(logits, targets)", "Combine your own log_softmax and nll.")


@exercise("ch04.binary_cross_entropy_with_logits", points=2, handwritten=True)
def test_bce_with_logits_is_written_by_hand(probe):
    logits, targets = random_tensor(25, (4, 3)), torch.rand((4, 3), generator=torch.Generator().manual_seed(26),
                                                           dtype=torch.float64)
    by_hand(probe, ["binary_cross_entropy"], "binary_cross_entropy_with_logits", [logits, targets], {},
            "binary_cross_entropy_with_logits(logits, targets)",
            "Write the stable form max(x, 0) - x*t + log(1 + exp(-|x|)).")
