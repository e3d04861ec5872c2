"""Grades chapter 6: normalisation, Lambda layers, the CNN, devices and batch transforms.

Oracles: PyTorch's built-ins (`torch.flatten`, `F.conv2d`, `nn.Conv1d` for receptive fields, the
output shapes of real convolutions, `torch.save`/`torch.load`), closed-form arithmetic, and what a
caller can observe (which device a tensor is on, what the model received). Moving to a device is
checked on the `meta` device, which every PyTorch build has (a whole fit runs there), so a batch that
stays behind is caught on a CPU-only machine; the tests marked `cuda` repeat the check on a GPU.
`conv_out_size` and `receptive_field` are compared with real convolutions, so spies check that they
compute their answer instead of measuring it on a real layer (`grader.testing.spying`).

Each test asks `probe(observe_..., *inputs)` (or `probe.exercise(...)` for a plain function): the
`observe_...` function runs the learner's code where it runs (this process, or a sandboxed worker when a
class is graded) and returns plain data; the test judges that data here (grader/probe.py). A tensor on the
`meta` device holds no values to send, so observers report such tensors by device, shape and dtype.
"""
import io
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn, optim
from torch.testing import assert_close

from grader.probe import outcome
from grader.testing import assert_no_oracle_in_source, assert_written_by_hand, spying
from solutions.ch05_learner import Callback, DataBunch, Dataset, Learner, Runner, get_dls

exercise = pytest.mark.exercise
META = torch.device("meta")

# Anything that runs a convolution or a pooling layer, or backpropagates: conv_out_size and
# receptive_field must be computed, not measured on a real layer as the tests do.
MEASURING = [(F, name) for name in ("conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "avg_pool1d",
                                    "avg_pool2d", "unfold")] \
    + [(torch, name) for name in ("conv1d", "conv2d", "conv3d", "convolution")] \
    + [(torch.autograd, "backward"), (torch.autograd, "grad")]
MEASURING_NAMES = {name for _, name in MEASURING}


def double(x):
    """A named, module-level function: pickle can find it again by name."""
    return 2 * x


def save_and_load(model):
    """Round-trip a whole model through torch.save / torch.load, as a file on disk would."""
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)  # a whole module is not "weights only"


def reference_conv(ni, nf, ks, stride=2):
    """The chapter's conv layer, written here so the model tests do not depend on ch.conv2d."""
    return nn.Sequential(nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2), nn.ReLU())


def tiny_data(n=24, features=6, classes=3, bs=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=gen)
    y = torch.randint(0, classes, (n,), generator=gen)
    return DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), bs), c_out=classes)


class BatchSpy(Callback):
    """Records, at each batch, where the batch and the model are and what the batch looks like:
    (in_train, xb's device type, yb's device type, xb's shape, the model's device type)."""

    _order = 5

    def __init__(self):
        self.seen = []

    def begin_batch(self):
        self.seen.append((self.in_train, self.xb.device.type, self.yb.device.type, tuple(self.xb.shape),
                          next(self.model.parameters()).device.type))


def plain(value):
    """`value` with each tensor replaced by what can be seen of it without its data (a meta tensor has none):
    {"tensor_on": device, "shape": shape, "dtype": dtype}; lists, tuples and dicts (and their subclasses) are
    followed, anything else is kept as it is."""
    if isinstance(value, torch.Tensor):
        return {"tensor_on": str(value.device), "shape": tuple(value.shape), "dtype": value.dtype}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def is_tensor_seen(seen):
    return isinstance(seen, dict) and set(seen) == {"tensor_on", "shape", "dtype"}


# --- normalize_to -------------------------------------------------------------------------------

def skewed(shape, mean, std, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen) * std + mean


@exercise("ch06.normalize_to")
def test_normalize_to_uses_the_training_mean_and_std(probe):
    train, valid = skewed((64, 784), 3.0, 2.0, 0), skewed((16, 784), 10.0, 5.0, 1)
    t, v = probe.normalize_to(train, valid)
    m, s = train.mean(), train.std()
    scalars = "one mean and one std over every element of train (train.mean(), not per pixel like train.mean(0))"
    assert_close(t, (train - m) / s, atol=1e-4, rtol=1e-4,
                 msg=lambda d: f"normalize_to(train, valid)[0] should be (train - train.mean()) / train.std(), with "
                               f"{scalars}.\n{d}")
    assert_close(v, (valid - m) / s, atol=1e-4, rtol=1e-4,
                 msg=lambda d: f"normalize_to(train, valid)[1] should be (valid - train.mean()) / train.std(), with "
                               f"{scalars}.\n{d}")
    assert_close(t.mean(), torch.tensor(0.), atol=1e-4, rtol=0, msg="the normalised training set should have mean 0")
    assert_close(t.std(), torch.tensor(1.), atol=1e-3, rtol=0, msg="the normalised training set should have std 1")


@exercise("ch06.normalize_to")
def test_normalize_to_divides_by_the_unbiased_std(probe):
    gen = torch.Generator().manual_seed(5)
    train, valid = torch.rand(5, generator=gen, dtype=torch.float64) * 4, torch.rand(3, generator=gen, dtype=torch.float64)
    t, v = probe.normalize_to(train, valid)
    n = train.numel()
    mean = sum(train.tolist()) / n
    unbiased = (sum((a - mean) ** 2 for a in train.tolist()) / (n - 1)) ** 0.5
    biased = unbiased * ((n - 1) / n) ** 0.5
    expected = (valid - mean) / unbiased
    hint = " (you divided by the biased std, which divides by n; train.std() divides by n - 1)" \
        if torch.allclose(v, (valid - mean) / biased) else ""
    assert_close(v, expected, atol=1e-6, rtol=1e-6,
                 msg=f"normalize_to(train, valid) with 5 training values {train.tolist()}: expected the valid set "
                     f"to become {expected.tolist()}, got {v.tolist()}{hint}")
    assert_close(t.std(), torch.tensor(1., dtype=t.dtype), atol=1e-6, rtol=0,
                 msg="the normalised training set should have train.std() == 1")


@exercise("ch06.normalize_to")
def test_normalize_to_valid_never_uses_its_own_statistics(probe):
    train = skewed((64, 784), 0.13, 0.3, 2)
    t, v = probe.normalize_to(train, train[:10] * 4 + 1)
    _, same = probe.normalize_to(train, train[:10])
    assert_close(same, t[:10], atol=1e-5, rtol=1e-5,
                 msg="a validation row equal to a training row must be normalised to the same values: "
                     "use the training mean and std for both sets")
    assert abs(v.mean().item()) > 1, \
        f"validation data shifted and scaled away from the training data came back with mean {v.mean().item():.3f}; " \
        "it must keep its difference (normalise it with the training statistics, not its own)"


def observe_inputs_after_normalize_to(ch, train, valid):
    """`train` and `valid` as they are after normalize_to(train, valid)."""
    ch.normalize_to(train, valid)
    return {"train": train, "valid": valid}


@exercise("ch06.normalize_to")
def test_normalize_to_leaves_its_inputs_alone(probe):
    train, valid = skewed((8, 20), 5.0, 3.0, 3), skewed((4, 20), 5.0, 3.0, 4)
    after = probe(observe_inputs_after_normalize_to, train, valid)
    assert torch.equal(after["train"], train) and torch.equal(after["valid"], valid), \
        "normalize_to must return new tensors and not modify train or valid in place"


# --- Lambda ---------------------------------------------------------------------------------------

def observe_sine_layer(ch, x):
    layer = ch.Lambda(torch.sin)
    seen = {"is_module": isinstance(layer, nn.Module)}
    if not seen["is_module"]:
        return seen
    seen["set_up"] = "_parameters" in vars(layer)  # what nn.Module.__init__ creates
    if not seen["set_up"]:
        return seen
    seen["func_is_sin"] = getattr(layer, "func", None) is torch.sin
    seen["parameters"] = len(list(layer.parameters()))
    seen["out"] = layer(x)
    return seen


@exercise("ch06.Lambda")
@given(seed=st.integers(0, 2**16), n=st.integers(1, 6))
def test_lambda_applies_its_function(probe, seed, n):
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(seed))
    seen = probe(observe_sine_layer, x)
    assert seen["is_module"], "Lambda must be an nn.Module, so it can sit in nn.Sequential"
    assert seen["set_up"], \
        "Lambda(torch.sin) is an nn.Module that was never set up: call super().__init__() first in Lambda.__init__"
    assert seen["func_is_sin"], "keep the function in self.func"
    assert seen["parameters"] == 0, "Lambda has no parameters"
    assert_close(seen["out"], torch.sin(x), atol=0, rtol=0, msg="Lambda(torch.sin)(x) should be torch.sin(x)")


def observe_tanh_in_sequential(ch, weights, x):
    """nn.Sequential(Linear(4, 6), Lambda(torch.tanh), Linear(6, 2)) with the given weights: its output on x and
    the first layer's weight gradient after out.sum().backward()."""
    first, last = nn.Linear(4, 6), nn.Linear(6, 2)
    with torch.no_grad():
        for parameter, value in zip([*first.parameters(), *last.parameters()], weights):
            parameter.copy_(value)
    model = nn.Sequential(first, ch.Lambda(torch.tanh), last)
    out = model(x)
    out.sum().backward()
    return {"out": out, "first_weight_grad": first.weight.grad}


@exercise("ch06.Lambda")
def test_lambda_works_inside_sequential_with_gradients(probe):
    gen = torch.Generator().manual_seed(0)
    weights = [torch.randn(shape, generator=gen) * 0.5 for shape in [(6, 4), (6,), (2, 6), (2,)]]
    x = torch.randn(3, 4, generator=gen)
    seen = probe(observe_tanh_in_sequential, weights, x)
    w1, b1, w2, b2 = weights
    assert_close(seen["out"], F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), atol=1e-6, rtol=1e-6,
                 msg="nn.Sequential(Linear, Lambda(torch.tanh), Linear) should compute Linear(tanh(Linear(x)))")
    grad = seen["first_weight_grad"]
    assert grad is not None and grad.abs().sum() > 0, "gradients must flow back through the Lambda layer"


def observe_saved_lambda_model(ch, x):
    model = nn.Sequential(nn.Linear(3, 3), ch.Lambda(double))
    return {"loaded": outcome(lambda: save_and_load(model)(x)), "saved": model(x)}


@exercise("ch06.Lambda")
def test_lambda_with_a_named_function_survives_save_and_load(probe):
    seen = probe(observe_saved_lambda_model, torch.randn(2, 3, generator=torch.Generator().manual_seed(1)))
    loaded = seen["loaded"]
    if "raised" in loaded:
        pytest.fail(f"torch.save of nn.Sequential(Linear, Lambda(double)) failed: {loaded['raised']}: "
                    f"{loaded['message']}. Store the function itself in self.func (no lambda around it), so pickle "
                    "can find it by name")
    assert_close(loaded["returned"], seen["saved"], atol=0, rtol=0,
                 msg="the loaded model must compute what the saved one did")


# --- flatten --------------------------------------------------------------------------------------

@exercise("ch06.flatten")
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_flatten_keeps_the_batch_dimension(probe, shape, seed):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    out = probe.flatten(x)
    expected = torch.flatten(x, start_dim=1) if x.dim() > 1 else x.reshape(x.shape[0], 1)
    assert out.shape == expected.shape, f"flatten of a tensor of shape {tuple(shape)}: expected shape " \
                                        f"{tuple(expected.shape)}, got {tuple(out.shape)}"
    assert_close(out, expected, atol=0, rtol=0, msg="flatten must keep the elements in row-major order")


@exercise("ch06.flatten")
def test_flatten_a_batch_of_one(probe):
    out = probe.flatten(torch.randn(1, 32, 1, 1, generator=torch.Generator().manual_seed(2)))
    assert out.shape == (1, 32), f"flatten(x of shape (1, 32, 1, 1)) should be (1, 32), got {tuple(out.shape)}: " \
                                 "the batch dimension must survive even when it is 1 (squeeze drops it)"


def observe_flatten_transposed(ch, x):
    """flatten(x.transpose(1, 2)): the transposed view is made here, since the tensors a test passes arrive
    contiguous."""
    return outcome(ch.flatten, x.transpose(1, 2))


@exercise("ch06.flatten")
def test_flatten_a_non_contiguous_tensor(probe):
    x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(3))
    got = probe(observe_flatten_transposed, x)
    if got.get("raised") == "RuntimeError":
        pytest.fail(f"flatten of a transposed (non-contiguous) tensor raised: {got['message']}. Use reshape (or "
                    "torch.flatten), which copies only when it must")
    assert "returned" in got, f"flatten(x.transpose(1, 2)) raised {got.get('raised')}: {got.get('message')}"
    assert_close(got["returned"], torch.flatten(x.transpose(1, 2), 1), atol=0, rtol=0,
                 msg="flatten(x.transpose(1, 2)) is wrong")


# --- view_tfm -------------------------------------------------------------------------------------

def observe_digit_view(ch, x):
    tfm = ch.view_tfm(1, 28, 28)
    if not callable(tfm):
        return {"callable": False}
    out = tfm(x)
    return {"callable": True, "out": out, "is_view": out.data_ptr() == x.data_ptr()}


@exercise("ch06.view_tfm")
@given(n=st.integers(1, 9))
def test_view_tfm_turns_flat_digits_into_images(probe, n):
    x = torch.randn(n, 784, generator=torch.Generator().manual_seed(n))
    seen = probe(observe_digit_view, x)
    assert seen["callable"], "view_tfm(1, 28, 28) must return a function"
    out = seen["out"]
    assert out.shape == (n, 1, 28, 28), f"view_tfm(1, 28, 28)(x of shape ({n}, 784)) gave shape {tuple(out.shape)}"
    assert_close(out, x.reshape(n, 1, 28, 28), atol=0, rtol=0, msg="the pixels must stay in row-major order")
    assert seen["is_view"], "the result should be a view of x (no copy)"


def observe_view(ch, size, x):
    return ch.view_tfm(*size)(x)


@exercise("ch06.view_tfm")
@given(size=st.lists(st.integers(1, 5), min_size=1, max_size=3), n=st.integers(1, 4))
def test_view_tfm_any_size(probe, size, n):
    x = torch.arange(n * int(torch.tensor(size).prod())).float()
    out = probe(observe_view, size, x.reshape(n, -1))
    assert out.shape == (n, *size), f"view_tfm{tuple(size)} on a batch of {n}: expected {(n, *size)}, got {tuple(out.shape)}"
    assert torch.equal(out.flatten(), x), f"view_tfm{tuple(size)} must keep the elements in row-major order"


def observe_views_of_unbatched(ch, digit, stacked):
    """view_tfm(1, 28, 28) applied to one flat digit (784,) and to a (2, 3, 784) stack: what came back (or raised)."""
    tfm = ch.view_tfm(1, 28, 28)
    return {"digit": outcome(tfm, digit), "stacked": outcome(tfm, stacked)}


@exercise("ch06.view_tfm")
def test_view_tfm_leaves_the_first_dimension_to_view(probe):
    gen = torch.Generator().manual_seed(13)
    digit, stacked = torch.randn(784, generator=gen), torch.randn(2, 3, 784, generator=gen)
    seen = probe(observe_views_of_unbatched, digit, stacked)
    for name, x, n in [("digit", digit, 1), ("stacked", stacked, 6)]:
        got = seen[name]
        assert "returned" in got, (
            f"view_tfm(1, 28, 28)(x of shape {tuple(x.shape)}) raised {got.get('raised')}: {got.get('message')}. The "
            "first dimension is left to view (-1), not taken from x.shape[0]: any x with a multiple of 784 elements "
            "works")
        assert_close(got["returned"], x.reshape(n, 1, 28, 28), atol=0, rtol=0,
                     msg=f"view_tfm(1, 28, 28)(x of shape {tuple(x.shape)}) should be x.view(-1, 1, 28, 28), of shape "
                         f"({n}, 1, 28, 28)")


def observe_two_views(ch, x):
    images, rows = ch.view_tfm(1, 4, 4), ch.view_tfm(16)
    return {"rows": rows(x).shape, "images": images(x).shape}


@exercise("ch06.view_tfm")
def test_view_tfm_closures_are_independent(probe):
    shapes = probe(observe_two_views, torch.randn(3, 16, generator=torch.Generator().manual_seed(4)))
    assert shapes["rows"] == (3, 16) and shapes["images"] == (3, 1, 4, 4), \
        "each transform must remember the size it was made with"


# --- conv_out_size (beyond) -----------------------------------------------------------------------

def observe_conv_out_size_outcome(ch, size, ks, stride, padding, dilation):
    return outcome(ch.conv_out_size, size, ks, stride=stride, padding=padding, dilation=dilation)


@exercise("ch06.conv_out_size", points=2)
@given(size=st.integers(1, 24), ks=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 3))
@example(size=3, ks=5, stride=1, padding=1, dilation=1)  # the kernel exactly fills the padded input: one output
@example(size=5, ks=3, stride=2, padding=0, dilation=2)  # a dilated kernel spanning exactly the input
def test_conv_out_size_matches_a_real_convolution(probe, size, ks, stride, padding, dilation):
    call = f"conv_out_size({size}, ks={ks}, stride={stride}, padding={padding}, dilation={dilation})"
    x, w = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, ks, 1)
    try:
        expected = F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]
    except RuntimeError:
        got = probe(observe_conv_out_size_outcome, size, ks, stride, padding, dilation)
        assert got.get("raised") == "ValueError", \
            f"{call}: the kernel does not fit, so nn.Conv2d refuses; raise ValueError (it gave {got})"
        return
    got = probe.conv_out_size(size, ks, stride=stride, padding=padding, dilation=dilation)
    assert isinstance(got, int), f"{call} should return an int, got {got!r}"
    assert got == expected, f"{call}: nn.Conv2d gives {expected}, you gave {got}"


def observe_lesson_sizes(ch):
    sizes = [28]
    for ks in (5, 3, 3, 3):
        sizes.append(ch.conv_out_size(sizes[-1], ks, stride=2, padding=ks // 2))
    return sizes


@exercise("ch06.conv_out_size", points=2)
def test_conv_out_size_through_the_lessons_cnn(probe):
    sizes = probe(observe_lesson_sizes)
    assert sizes == [28, 14, 7, 4, 2], f"the lesson's CNN shrinks 28 -> 14 -> 7 -> 4 -> 2; you gave {sizes}"


def observe_measuring_calls(ch, name, *args, **kwargs):
    """The convolution, pooling and autograd built-ins that `ch.<name>(*args, **kwargs)` called."""
    with spying(MEASURING) as called:
        getattr(ch, name)(*args, **kwargs)
    return called


@exercise("ch06.conv_out_size", points=2, handwritten=True)
def test_conv_out_size_is_written_by_hand(probe):
    call = "conv_out_size(13, ks=3, stride=2, padding=1, dilation=2)"
    instead = "Count the kernel's positions: floor((size + 2*padding - span) / stride) + 1."
    called = probe(observe_measuring_calls, "conv_out_size", 13, ks=3, stride=2, padding=1, dilation=2)
    assert_written_by_hand(called, call, instead)
    assert_no_oracle_in_source(probe.references("conv_out_size", MEASURING_NAMES), call, instead)


# --- receptive_field (beyond) ---------------------------------------------------------------------

def measured_receptive_field(kernel_sizes, strides, dilations):
    """Oracle: the span of input positions the first output of a real Conv1d stack depends on."""
    layers = [nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False).double()
              for k, s, d in zip(kernel_sizes, strides, dilations)]
    for layer in layers:
        nn.init.ones_(layer.weight)  # positive weights: no gradient can cancel to zero by accident
    x = torch.zeros(1, 1, 256, dtype=torch.float64, requires_grad=True)  # fits the largest field drawn (241)
    out = nn.Sequential(*layers)(x) if layers else x
    out[0, 0, 0].backward()
    used = x.grad[0, 0].nonzero()  # a dilated kernel skips positions: the field is the span, holes included
    return int(used.max() - used.min() + 1)


@exercise("ch06.receptive_field", points=2)
@settings(max_examples=20)
@given(layers=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2)), max_size=4))
def test_receptive_field_matches_the_gradient_of_a_real_stack(probe, layers):
    kernel_sizes, strides, dilations = ([list(col) for col in zip(*layers)] if layers else ([], [], []))
    got = probe.receptive_field(kernel_sizes, strides, dilations)
    expected = measured_receptive_field(kernel_sizes, strides, dilations)
    assert got == expected, (f"receptive_field({kernel_sizes}, {strides}, {dilations}) returned {got}, but the "
                             f"first output of such a Conv1d stack depends on input positions spanning {expected}")


@exercise("ch06.receptive_field", points=2)
def test_receptive_field_defaults(probe):
    lesson = probe.receptive_field([5, 3, 3, 3], [2, 2, 2, 2])
    assert lesson == measured_receptive_field([5, 3, 3, 3], [2] * 4, [1] * 4) == 33, \
        "the lesson's CNN (kernels 5, 3, 3, 3, all stride 2) sees 33 pixels; dilations default to 1"
    assert probe.receptive_field([], []) == 1, "no convolution at all: each output is one input pixel"
    assert probe.receptive_field((3, 3), (1, 1)) == 5, "kernel_sizes and strides may be any iterables"


@exercise("ch06.receptive_field", points=2, handwritten=True)
def test_receptive_field_is_written_by_hand(probe):
    call = "receptive_field([5, 3, 3], [2, 2, 1], [1, 2, 1])"
    instead = "Walk through the layers keeping the field and the jump between input positions."
    called = probe(observe_measuring_calls, "receptive_field", [5, 3, 3], [2, 2, 1], [1, 2, 1])
    assert_written_by_hand(called, call, instead)
    assert_no_oracle_in_source(probe.references("receptive_field", MEASURING_NAMES), call, instead)


# --- conv2d ---------------------------------------------------------------------------------------

def observe_conv_block(ch, ni, nf, ks, stride, x):
    """The nn.Conv2d layers inside conv2d(ni, nf, ks=ks, stride=stride) and, if there is one, its settings,
    weights and the block's output on x."""
    block = ch.conv2d(ni, nf, ks=ks, stride=stride)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    seen = {"n_convs": len(convs)}
    if len(convs) != 1:
        return seen
    conv = convs[0]
    seen.update(channels=(conv.in_channels, conv.out_channels), kernel_size=conv.kernel_size, stride=conv.stride,
                padding=conv.padding, weight=conv.weight, bias=conv.bias, out=block(x))
    return seen


@exercise("ch06.conv2d")
@settings(max_examples=15)
@given(ni=st.integers(1, 4), nf=st.integers(1, 4), ks=st.sampled_from([1, 3, 5, 7]), stride=st.integers(1, 3),
       size=st.integers(7, 12), seed=st.integers(0, 2**16))
def test_conv2d_is_a_padded_convolution_then_relu(probe, ni, nf, ks, stride, size, seed):
    x = torch.randn(2, ni, size, size, generator=torch.Generator().manual_seed(seed))
    seen = probe(observe_conv_block, ni, nf, ks, stride, x)
    assert seen["n_convs"] == 1, f"conv2d({ni}, {nf}, ks={ks}, stride={stride}) should hold exactly one nn.Conv2d"
    assert seen["channels"] == (ni, nf), \
        f"expected Conv2d({ni}, {nf}, ...), got Conv2d({seen['channels'][0]}, {seen['channels'][1]}, ...)"
    assert seen["kernel_size"] == (ks, ks) and seen["stride"] == (stride, stride) \
        and seen["padding"] == (ks // 2, ks // 2), \
        f"expected kernel_size={ks}, stride={stride}, padding={ks // 2}; got kernel_size={seen['kernel_size']}, " \
        f"stride={seen['stride']}, padding={seen['padding']}"
    expected = F.relu(F.conv2d(x, seen["weight"], seen["bias"], stride=stride, padding=ks // 2))
    assert_close(seen["out"], expected, atol=1e-5, rtol=1e-5,
                 msg="conv2d(...)(x) should be relu(conv(x)) with padding ks // 2")


def observe_default_block(ch, x):
    return ch.conv2d(1, 8)(x)


@exercise("ch06.conv2d")
def test_conv2d_defaults_halve_the_image(probe):
    out = probe(observe_default_block, torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(6)))
    assert out.shape == (5, 8, 14, 14), f"conv2d(1, 8) (ks=3, stride=2) on 28x28 images: expected (5, 8, 14, 14), " \
                                        f"got {tuple(out.shape)}"
    assert (out >= 0).all(), "the block ends with a ReLU: no negative outputs"
    assert (out == 0).any(), "the ReLU should zero some outputs of a random convolution"


# --- get_cnn_layers -------------------------------------------------------------------------------

def observe_layer_calls(ch):
    """The calls get_cnn_layers(data with c_out=7, [8, 16, 32, 32], layer=spy, stride=2, extra="yes") made to
    `layer`, and what it returned."""
    calls = []

    def spy(ni, nf, ks, **kwargs):
        calls.append((ni, nf, ks, kwargs))
        return reference_conv(ni, nf, ks)

    layers = ch.get_cnn_layers(SimpleNamespace(c_out=7), [8, 16, 32, 32], layer=spy, stride=2, extra="yes")
    seen = {"calls": calls, "is_list": isinstance(layers, list), "type": type(layers).__name__}
    if not seen["is_list"]:
        return seen
    seen["length"] = len(layers)
    if len(layers) < 3:
        return seen
    pool, flat, head = layers[-3:]
    is_pool, is_head = isinstance(pool, nn.AdaptiveAvgPool2d), isinstance(head, nn.Linear)
    seen.update(pool=repr(pool), flat=repr(flat), head=repr(head), pool_is_adaptive_avg=is_pool,
                pool_output_size=pool.output_size if is_pool else None, flat_is_lambda=isinstance(flat, ch.Lambda),
                head_is_linear=is_head, head_features=(head.in_features, head.out_features) if is_head else None)
    return seen


@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_layers_calls_layer_for_each_filter_count(probe):
    seen = probe(observe_layer_calls)
    calls = seen["calls"]
    expected = [(1, 8, 5), (8, 16, 3), (16, 32, 3), (32, 32, 3)]
    assert [c[:3] for c in calls] == expected, \
        f"layer(ni, nf, ks) should be called with {expected} (ks 5 first, then 3); it was called with {[c[:3] for c in calls]}"
    assert all(c[3] == {"stride": 2, "extra": "yes"} for c in calls), "pass **kwargs on to every call of layer"
    assert seen["is_list"], f"get_cnn_layers should return a list, got {seen['type']}"
    assert seen["length"] == 7, f"4 conv layers + pooling + flatten + linear = 7 layers, got {seen['length']}"
    assert seen["pool_is_adaptive_avg"] and seen["pool_output_size"] in (1, (1, 1)), \
        f"after the convolutions comes nn.AdaptiveAvgPool2d(1), got {seen['pool']}"
    assert seen["flat_is_lambda"], f"then Lambda(flatten), got {seen['flat']}"
    assert seen["head_is_linear"] and seen["head_features"] == (32, 7), \
        f"the head is nn.Linear(nfs[-1], data.c_out) = Linear(32, 7), got {seen['head']}"


def observe_shapes_through_the_model(ch, nfs, c_out, x, seed):
    """The shape after each conv layer of get_cnn_layers(data with c_out, nfs, layer=reference_conv) on x, the
    model's output, and its head applied to the per-channel average of the last conv layer's output."""
    torch.manual_seed(seed)
    layers = ch.get_cnn_layers(SimpleNamespace(c_out=c_out), nfs, layer=reference_conv)
    shapes, h = [], x
    for layer in layers[:len(nfs)]:
        h = layer(h)
        shapes.append(tuple(h.shape))
    return {"shapes": shapes, "out": nn.Sequential(*layers)(x), "head_of_mean": layers[-1](h.mean(dim=(2, 3)))}


@exercise("ch06.get_cnn_layers", points=2)
@settings(max_examples=15)
@given(nfs=st.lists(st.integers(1, 6), min_size=1, max_size=5), bs=st.integers(1, 5), c_out=st.integers(1, 12),
       size=st.integers(8, 20))
def test_get_cnn_layers_shapes_through_the_model(probe, nfs, bs, c_out, size):
    x = torch.randn(bs, 1, size, size, generator=torch.Generator().manual_seed(bs))
    seen = probe(observe_shapes_through_the_model, nfs, c_out, x, bs)
    assert len(seen["shapes"]) == len(nfs), \
        f"get_cnn_layers(data, nfs={nfs}) should start with {len(nfs)} conv layers, one per filter count"
    for i, (nf, shape) in enumerate(zip(nfs, seen["shapes"])):
        size = (size + 1) // 2  # odd kernel, padding ks // 2, stride 2: ceil(size / 2)
        assert shape == (bs, nf, size, size), f"after conv layer {i} of nfs={nfs}: expected {(bs, nf, size, size)}, " \
                                              f"got {shape}"
    out = seen["out"]
    assert out.shape == (bs, c_out), f"the model of nfs={nfs}, c_out={c_out} on a batch of {bs}: expected " \
                                     f"{(bs, c_out)}, got {tuple(out.shape)}"
    assert_close(out, seen["head_of_mean"], atol=1e-5, rtol=1e-5,
                 msg="the head must see the average of each channel of the last conv layer")


def observe_lessons_cnn(ch, x):
    model = nn.Sequential(*ch.get_cnn_layers(SimpleNamespace(c_out=10), [8, 16, 32, 32]))
    sizes, h = [], x
    for layer in model[:4]:
        h = layer(h)
        sizes.append(tuple(h.shape[1:]))
    return {"sizes": sizes, "out": model(x).shape}


@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_layers_the_lessons_cnn(probe):
    seen = probe(observe_lessons_cnn, torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(7)))
    sizes = seen["sizes"]
    assert sizes == [(8, 14, 14), (16, 7, 7), (32, 4, 4), (32, 2, 2)], \
        f"with the default layer (conv2d) the shapes should go 8x14x14, 16x7x7, 32x4x4, 32x2x2; got {sizes}"
    assert seen["out"] == (3, 10), f"get_cnn_layers(data with c_out=10, [8, 16, 32, 32]) on 28x28 digits: expected " \
                                   f"scores of shape (3, 10), got {seen['out']}"


def observe_saved_cnn(ch, x):
    torch.manual_seed(0)
    model = nn.Sequential(*ch.get_cnn_layers(SimpleNamespace(c_out=10), [4, 8], layer=reference_conv))
    return {"loaded": outcome(lambda: save_and_load(model)(x)), "saved": model(x)}


@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_model_survives_save_and_load(probe):
    seen = probe(observe_saved_cnn, torch.randn(2, 1, 12, 12, generator=torch.Generator().manual_seed(8)))
    loaded = seen["loaded"]
    if "raised" in loaded:
        pytest.fail(f"torch.save of the CNN failed: {loaded['raised']}: {loaded['message']}. Use Lambda(flatten) "
                    "with the named function flatten, not a lambda")
    assert_close(loaded["returned"], seen["saved"], atol=0, rtol=0,
                 msg="the loaded CNN must compute what the saved one did")


# --- DeviceCallback -------------------------------------------------------------------------------

def fake_run(**attributes):
    return SimpleNamespace(**attributes)


def observe_kept_devices(ch):
    return {"cpu": ch.DeviceCallback("cpu").device, "meta": ch.DeviceCallback(META).device,
            "meta_string": ch.DeviceCallback("meta").device}


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_keeps_a_torch_device(probe):
    seen = probe(observe_kept_devices)
    assert seen["cpu"] == torch.device("cpu"), "DeviceCallback('cpu').device should be torch.device('cpu')"
    assert isinstance(seen["meta"], torch.device) and seen["meta"] == META, \
        f"DeviceCallback(torch.device('meta')).device should be that device, got {seen['meta']!r}"
    assert isinstance(seen["meta_string"], torch.device), "turn a string into a torch.device"


def observe_model_devices_after_begin_fit(ch):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cb = ch.DeviceCallback("meta")
    cb.set_runner(fake_run(model=model))
    cb.begin_fit()
    return sorted({str(p.device) for p in model.parameters()})


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_moves_the_model_at_begin_fit(probe):
    devices = probe(observe_model_devices_after_begin_fit)
    assert devices == ["meta"], f"after begin_fit the model's parameters should be on meta, found them on {devices}"


def observe_batch_after_begin_batch(ch, xb, yb):
    run = fake_run(model=nn.Linear(3, 2), xb=xb, yb=yb, in_train=True)
    cb = ch.DeviceCallback("meta")
    cb.set_runner(run)
    cb.begin_batch()
    return {"xb": plain(run.xb), "yb": plain(run.yb)}


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_moves_each_batch_onto_the_runner(probe):
    xb = torch.randn(5, 3, generator=torch.Generator().manual_seed(9))
    seen = probe(observe_batch_after_begin_batch, xb, torch.tensor([0, 1, 1, 0, 1]))
    xb, yb = seen["xb"], seen["yb"]
    assert is_tensor_seen(xb) and is_tensor_seen(yb), f"run.xb and run.yb must stay tensors, got {xb!r} and {yb!r}"
    assert xb["tensor_on"] == "meta" and yb["tensor_on"] == "meta", \
        f"after begin_batch run.xb and run.yb should be on meta; they are on {xb['tensor_on']} and {yb['tensor_on']}. " \
        "Assign to self.run.xb / self.run.yb: self.xb = ... only sets an attribute of the callback"
    assert xb["shape"] == (5, 3) and yb["shape"] == (5,) and yb["dtype"] == torch.int64, \
        f"moving must not change a batch's shape or dtype: xb (5, 3) float32 and yb (5,) int64 became " \
        f"{xb['shape']} {xb['dtype']} and {yb['shape']} {yb['dtype']}"


def observe_meta_fit(ch):
    # A fit on `meta` runs every step (forward, loss, backward, step) on shapes alone, on any machine.
    torch.manual_seed(0)
    data = tiny_data()
    model = nn.Linear(6, 3)
    spy = BatchSpy()
    run = Runner(cbs=[ch.DeviceCallback(META), spy])
    fit = outcome(run.fit, 1, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data))
    return {"fit": fit, "seen": spy.seen, "loss_device": str(run.loss.device)}


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_in_a_real_fit_on_the_meta_device(probe):
    got = probe(observe_meta_fit)
    seen = got["seen"]
    where = [("train" if s[0] else "valid", s[1], s[2], s[4]) for s in seen]
    if "raised" in got["fit"]:
        pytest.fail(f"Runner.fit with DeviceCallback('meta') raised {got['fit']['raised']}: {got['fit']['message']}\n"
                    f"(pass, xb, yb, model) were on {where}: the model and every batch, training and validation, "
                    "must be on the same device")
    assert [s[0] for s in seen] == [True] * 3 + [False] * 2, \
        f"3 training and 2 validation batches expected, the spy saw {[s[0] for s in seen]}"
    assert all(w[1:] == ("meta",) * 3 for w in where), \
        "during Runner.fit with DeviceCallback('meta') every batch, training and validation, and the model must be " \
        f"on meta when the model sees them; (pass, xb, yb, model) were {where}"
    assert got["loss_device"] == "meta", f"the last loss was computed on {got['loss_device']}, expected meta"


def observe_cuda_fit(ch):
    torch.manual_seed(0)
    data = tiny_data()
    model = nn.Linear(6, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    spy = BatchSpy()
    run = Runner(cbs=[ch.DeviceCallback("cuda"), spy])
    run.fit(2, Learner(model, opt, F.cross_entropy, data))
    return {"optimised_on": [p.device.type for group in opt.param_groups for p in group["params"]],
            "before": before, "after": list(model.parameters()), "seen": spy.seen,
            "loss_on": run.loss.device.type}


@exercise("ch06.DeviceCallback", points=2)
@pytest.mark.cuda
def test_device_callback_trains_on_cuda(probe):
    seen = probe(observe_cuda_fit)
    assert all(device == "cuda" for device in seen["optimised_on"]), \
        "the optimiser made before the fit must update the model's parameters on the GPU: move the model in place " \
        "with model.to(device), which keeps the same Parameter objects"
    assert any(not torch.equal(p, b) for p, b in zip(seen["after"], seen["before"])), "the fit did not train the model"
    assert all(s[1] == s[2] == s[4] == "cuda" for s in seen["seen"]), \
        f"every batch and the model should be on cuda during the fit; the spy saw {[s[1:3] for s in seen['seen']]}"
    assert seen["loss_on"] == "cuda"


# --- to_device (beyond) ---------------------------------------------------------------------------

def observe_nested_move(ch, a, b, c, d):
    batch = {"x": (a, [b, 7, {"mask": (d,)}]), "y": c, "name": "digits", "none": None}
    moved = ch.to_device(batch, META)
    return {"moved": plain(moved), "moved_type": type(moved).__name__, "input": plain(batch),
            "input_kept": batch["x"][0] is a and batch["y"] is c}


@exercise("ch06.to_device", points=2)
def test_to_device_moves_nested_tensors_and_keeps_the_containers(probe):
    gen = torch.Generator().manual_seed(10)
    a, b, c, d = torch.randn(2, 3, generator=gen), torch.arange(4), torch.ones(1), torch.zeros(2, 2)
    seen = probe(observe_nested_move, a, b, c, d)
    moved = seen["moved"]
    assert isinstance(moved, dict) and set(moved) == {"x", "y", "name", "none"}, \
        f"a dict comes back as a dict with the same keys, got a {seen['moved_type']}: {moved!r}"
    x = moved["x"]
    assert isinstance(x, tuple) and isinstance(x[1], list), \
        f"containers keep their types: expected (tensor, [tensor, 7, dict]), got types {type(x).__name__} of " \
        f"{[type(o).__name__ for o in x]}"
    deep = x[1][2]
    assert isinstance(deep, dict) and isinstance(deep.get("mask"), tuple), "containers inside lists keep their types too"
    for original, new in [(a, x[0]), (b, x[1][0]), (c, moved["y"]), (d, deep["mask"][0])]:
        assert is_tensor_seen(new) and new["tensor_on"] == "meta", \
            f"every tensor, however deep, must be moved to meta; found {new!r}"
        assert new["shape"] == tuple(original.shape) and new["dtype"] == original.dtype, \
            f"moving must keep shape and dtype: {tuple(original.shape)} {original.dtype} became " \
            f"{new['shape']} {new['dtype']}"
    assert x[1][1] == 7 and moved["name"] == "digits" and moved["none"] is None, "non-tensors come back unchanged"
    assert seen["input_kept"] and seen["input"]["x"][0]["tensor_on"] == "cpu", "the input must not be modified"


def observe_list_move(ch, a, b):
    """to_device([a, (b, 3)], META): what came back, whether it is the input list, and the input list after it."""
    batch = [a, (b, 3)]
    moved = ch.to_device(batch, META)
    return {"moved": plain(moved), "same_list": moved is batch, "input": plain(batch),
            "input_kept": batch[0] is a and batch[1][0] is b}


@exercise("ch06.to_device", points=2)
def test_to_device_builds_a_new_list_and_leaves_the_input_alone(probe):
    gen = torch.Generator().manual_seed(14)
    seen = probe(observe_list_move, torch.randn(2, 2, generator=gen), torch.arange(3))
    moved = seen["moved"]
    assert isinstance(moved, list) and len(moved) == 2 and is_tensor_seen(moved[0]) \
        and moved[0]["tensor_on"] == "meta" and isinstance(moved[1], tuple) and moved[1][0]["tensor_on"] == "meta", \
        f"to_device([a, (b, 3)], 'meta') should give [a on meta, (b on meta, 3)], got {moved!r}"
    assert not seen["same_list"] and seen["input_kept"], (
        "to_device([a, (b, 3)], 'meta') must return a new list and leave the caller's list as it was (holding a and "
        f"the tuple, on cpu); afterwards the input was {seen['input']!r}")


def observe_simple_moves(ch, t, xb, yb):
    return {"tensor": plain(ch.to_device(t, "meta")), "pair": plain(ch.to_device((xb, yb), META))}


@exercise("ch06.to_device", points=2)
def test_to_device_a_plain_tensor_and_a_pair(probe):
    gen = torch.Generator().manual_seed(11)
    seen = probe(observe_simple_moves, torch.randn(3, generator=gen), torch.randn(4, 2, generator=gen),
                 torch.tensor([1, 0, 1, 1]))
    t = seen["tensor"]
    assert is_tensor_seen(t) and t["tensor_on"] == "meta", "to_device(tensor, 'meta') should move the tensor"
    xb, yb = seen["pair"]
    assert is_tensor_seen(xb) and is_tensor_seen(yb) and xb["tensor_on"] == yb["tensor_on"] == "meta", \
        "a batch (xb, yb) should come back as a moved pair"


# --- BatchTransformXCallback (beyond) -------------------------------------------------------------

def observe_transformed_batch(ch, xb, yb):
    run = fake_run(xb=xb, yb=yb, in_train=False)
    cb = ch.BatchTransformXCallback(lambda x: x.reshape(-1, 2, 3) * 10)
    order = cb._order
    cb.set_runner(run)
    cb.begin_batch()
    return {"order": order, "xb": run.xb, "yb_kept": run.yb is yb}


@exercise("ch06.BatchTransformXCallback", points=2)
def test_batch_transform_replaces_the_runners_inputs_only(probe):
    xb, yb = torch.randn(4, 6, generator=torch.Generator().manual_seed(12)), torch.tensor([0, 1, 2, 0])
    seen = probe(observe_transformed_batch, xb, yb)
    assert seen["order"] == 2, \
        f"BatchTransformXCallback._order should be 2 (after the device callback), got {seen['order']}"
    got = seen["xb"]
    assert isinstance(got, torch.Tensor) and got.shape == (4, 2, 3), \
        f"after begin_batch run.xb should be tfm(xb) of shape (4, 2, 3), got " \
        f"{tuple(got.shape) if isinstance(got, torch.Tensor) else got!r}. Assign to self.run.xb, not self.xb"
    assert_close(got, xb.reshape(-1, 2, 3) * 10, atol=0, rtol=0, msg="run.xb should be exactly tfm(xb)")
    assert seen["yb_kept"], "the targets yb must be left alone"


def observe_model_inputs(ch):
    """(training?, input shape) of each batch the model received in a fit with a reshaping batch transform."""
    torch.manual_seed(0)
    data = tiny_data(features=6)
    seen = []
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    model.register_forward_pre_hook(lambda module, args: seen.append((module.training, tuple(args[0].shape))))
    run = Runner(cbs=[ch.BatchTransformXCallback(lambda x: x.view(-1, 2, 3))])
    run.fit(1, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data))
    return seen


@exercise("ch06.BatchTransformXCallback", points=2)
def test_batch_transform_in_a_real_fit(probe):
    seen = probe(observe_model_inputs)
    assert [s[0] for s in seen] == [True] * 3 + [False] * 2, "expected 3 training then 2 validation batches"
    assert [shape for _, shape in seen] == [(8, 2, 3)] * 3 + [(16, 2, 3), (8, 2, 3)], \
        f"the model should receive transformed batches (n, 2, 3) in training and validation, got {seen}"
