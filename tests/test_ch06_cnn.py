"""Grades chapter 6: normalisation, Lambda layers, the CNN, devices and batch transforms.

Oracles: PyTorch's built-ins (`torch.flatten`, `F.conv2d`, `nn.Conv1d` for receptive fields, the
output shapes of real convolutions, `torch.save`/`torch.load`), closed-form arithmetic, and what a
caller can observe (which device a tensor is on, what the model received). Moving to a device is
checked on the `meta` device, which every PyTorch build has (a whole fit runs there), so a batch that
stays behind is caught on a CPU-only machine; the tests marked `cuda` repeat the check on a GPU.
`conv_out_size` and `receptive_field` are compared with real convolutions, so spies check that they
compute their answer instead of measuring it on a real layer (`grader.testing.calls_during`).
"""
import io
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn, optim
from torch.testing import assert_close

from grader.testing import assert_written_by_hand, calls_during
from solutions.ch05_learner import Callback, DataBunch, Dataset, Learner, Runner, get_dls

exercise = pytest.mark.exercise
META = torch.device("meta")

# Anything that runs a convolution or a pooling layer, or backpropagates: conv_out_size and
# receptive_field must be computed, not measured on a real layer as the tests do.
MEASURING = [(F, name) for name in ("conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "avg_pool1d",
                                    "avg_pool2d", "unfold")] \
    + [(torch, name) for name in ("conv1d", "conv2d", "conv3d", "convolution")] \
    + [(torch.autograd, "backward"), (torch.autograd, "grad")]


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


class Probe(Callback):
    """Records, at each batch, where the batch and the model are and what the batch looks like."""

    _order = 5

    def __init__(self):
        self.seen = []

    def begin_batch(self):
        self.seen.append((self.in_train, self.xb.device, self.yb.device, tuple(self.xb.shape),
                          next(self.model.parameters()).device))


# --- normalize_to -------------------------------------------------------------------------------

def skewed(shape, mean, std, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen) * std + mean


@exercise("ch06.normalize_to")
def test_normalize_to_uses_the_training_mean_and_std(ch):
    train, valid = skewed((64, 784), 3.0, 2.0, 0), skewed((16, 784), 10.0, 5.0, 1)
    t, v = ch.normalize_to(train, valid)
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
def test_normalize_to_divides_by_the_unbiased_std(ch):
    gen = torch.Generator().manual_seed(5)
    train, valid = torch.rand(5, generator=gen, dtype=torch.float64) * 4, torch.rand(3, generator=gen, dtype=torch.float64)
    t, v = ch.normalize_to(train, valid)
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
def test_normalize_to_valid_never_uses_its_own_statistics(ch):
    train = skewed((64, 784), 0.13, 0.3, 2)
    t, v = ch.normalize_to(train, train[:10] * 4 + 1)
    _, same = ch.normalize_to(train, train[:10])
    assert_close(same, t[:10], atol=1e-5, rtol=1e-5,
                 msg="a validation row equal to a training row must be normalised to the same values: "
                     "use the training mean and std for both sets")
    assert abs(v.mean().item()) > 1, \
        f"validation data shifted and scaled away from the training data came back with mean {v.mean().item():.3f}; " \
        "it must keep its difference (normalise it with the training statistics, not its own)"


@exercise("ch06.normalize_to")
def test_normalize_to_leaves_its_inputs_alone(ch):
    train, valid = skewed((8, 20), 5.0, 3.0, 3), skewed((4, 20), 5.0, 3.0, 4)
    train_copy, valid_copy = train.clone(), valid.clone()
    ch.normalize_to(train, valid)
    assert torch.equal(train, train_copy) and torch.equal(valid, valid_copy), \
        "normalize_to must return new tensors and not modify train or valid in place"


# --- Lambda ---------------------------------------------------------------------------------------

@exercise("ch06.Lambda")
@given(seed=st.integers(0, 2**16), n=st.integers(1, 6))
def test_lambda_applies_its_function(ch, seed, n):
    layer = ch.Lambda(torch.sin)
    assert isinstance(layer, nn.Module), "Lambda must be an nn.Module, so it can sit in nn.Sequential"
    set_up = "_parameters" in vars(layer)  # what nn.Module.__init__ creates
    assert set_up, "Lambda(torch.sin) is an nn.Module that was never set up: call super().__init__() first in Lambda.__init__"
    assert layer.func is torch.sin, "keep the function in self.func"
    assert list(layer.parameters()) == [], "Lambda has no parameters"
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(seed))
    assert_close(layer(x), torch.sin(x), atol=0, rtol=0, msg="Lambda(torch.sin)(x) should be torch.sin(x)")


@exercise("ch06.Lambda")
def test_lambda_works_inside_sequential_with_gradients(ch):
    torch.manual_seed(0)
    first, last = nn.Linear(4, 6), nn.Linear(6, 2)
    model = nn.Sequential(first, ch.Lambda(torch.tanh), last)
    x = torch.randn(3, 4)
    out = model(x)
    assert_close(out, last(torch.tanh(first(x))), atol=1e-6, rtol=1e-6,
                 msg="nn.Sequential(Linear, Lambda(torch.tanh), Linear) should compute Linear(tanh(Linear(x)))")
    out.sum().backward()
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0, \
        "gradients must flow back through the Lambda layer"


@exercise("ch06.Lambda")
def test_lambda_with_a_named_function_survives_save_and_load(ch):
    model = nn.Sequential(nn.Linear(3, 3), ch.Lambda(double))
    x = torch.randn(2, 3)
    try:
        loaded = save_and_load(model)
    except Exception as error:  # noqa: BLE001 - the pickling error is the message
        pytest.fail(f"torch.save of nn.Sequential(Linear, Lambda(double)) failed: {type(error).__name__}: {error}. "
                    "Store the function itself in self.func (no lambda around it), so pickle can find it by name")
    assert_close(loaded(x), model(x), atol=0, rtol=0, msg="the loaded model must compute what the saved one did")


# --- flatten --------------------------------------------------------------------------------------

@exercise("ch06.flatten")
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_flatten_keeps_the_batch_dimension(ch, shape, seed):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    out = ch.flatten(x)
    expected = torch.flatten(x, start_dim=1) if x.dim() > 1 else x.reshape(x.shape[0], 1)
    assert out.shape == expected.shape, f"flatten of a tensor of shape {tuple(shape)}: expected shape " \
                                        f"{tuple(expected.shape)}, got {tuple(out.shape)}"
    assert_close(out, expected, atol=0, rtol=0, msg="flatten must keep the elements in row-major order")


@exercise("ch06.flatten")
def test_flatten_a_batch_of_one(ch):
    out = ch.flatten(torch.randn(1, 32, 1, 1))
    assert out.shape == (1, 32), f"flatten(x of shape (1, 32, 1, 1)) should be (1, 32), got {tuple(out.shape)}: " \
                                 "the batch dimension must survive even when it is 1 (squeeze drops it)"


@exercise("ch06.flatten")
def test_flatten_a_non_contiguous_tensor(ch):
    x = torch.randn(3, 4, 5).transpose(1, 2)
    try:
        out = ch.flatten(x)
    except RuntimeError as error:
        pytest.fail(f"flatten of a transposed (non-contiguous) tensor raised: {error}. Use reshape (or torch.flatten), "
                    "which copies only when it must")
    assert_close(out, torch.flatten(x, 1), atol=0, rtol=0, msg="flatten(x.transpose(1, 2)) is wrong")


# --- view_tfm -------------------------------------------------------------------------------------

@exercise("ch06.view_tfm")
@given(n=st.integers(1, 9))
def test_view_tfm_turns_flat_digits_into_images(ch, n):
    tfm = ch.view_tfm(1, 28, 28)
    assert callable(tfm), "view_tfm(1, 28, 28) must return a function"
    x = torch.randn(n, 784, generator=torch.Generator().manual_seed(n))
    out = tfm(x)
    assert out.shape == (n, 1, 28, 28), f"view_tfm(1, 28, 28)(x of shape ({n}, 784)) gave shape {tuple(out.shape)}"
    assert_close(out, x.reshape(n, 1, 28, 28), atol=0, rtol=0, msg="the pixels must stay in row-major order")
    assert out.data_ptr() == x.data_ptr(), "the result should be a view of x (no copy)"


@exercise("ch06.view_tfm")
@given(size=st.lists(st.integers(1, 5), min_size=1, max_size=3), n=st.integers(1, 4))
def test_view_tfm_any_size(ch, size, n):
    x = torch.arange(n * int(torch.tensor(size).prod())).float()
    out = ch.view_tfm(*size)(x.reshape(n, -1))
    assert out.shape == (n, *size), f"view_tfm{tuple(size)} on a batch of {n}: expected {(n, *size)}, got {tuple(out.shape)}"
    assert torch.equal(out.flatten(), x), f"view_tfm{tuple(size)} must keep the elements in row-major order"


@exercise("ch06.view_tfm")
def test_view_tfm_closures_are_independent(ch):
    images, rows = ch.view_tfm(1, 4, 4), ch.view_tfm(16)
    x = torch.randn(3, 16)
    assert rows(x).shape == (3, 16) and images(x).shape == (3, 1, 4, 4), \
        "each transform must remember the size it was made with"


# --- conv_out_size (beyond) -----------------------------------------------------------------------

@exercise("ch06.conv_out_size", points=2)
@given(size=st.integers(1, 24), ks=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 3))
def test_conv_out_size_matches_a_real_convolution(ch, size, ks, stride, padding, dilation):
    call = f"conv_out_size({size}, ks={ks}, stride={stride}, padding={padding}, dilation={dilation})"
    x, w = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, ks, 1)
    try:
        expected = F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]
    except RuntimeError:
        with pytest.raises(ValueError):
            ch.conv_out_size(size, ks, stride=stride, padding=padding, dilation=dilation)
            pytest.fail(f"{call}: the kernel does not fit, so nn.Conv2d refuses; raise ValueError")
        return
    got = ch.conv_out_size(size, ks, stride=stride, padding=padding, dilation=dilation)
    assert isinstance(got, int), f"{call} should return an int, got {type(got).__name__}"
    assert got == expected, f"{call}: nn.Conv2d gives {expected}, you gave {got}"


@exercise("ch06.conv_out_size", points=2)
def test_conv_out_size_through_the_lessons_cnn(ch):
    sizes = [28]
    for ks in (5, 3, 3, 3):
        sizes.append(ch.conv_out_size(sizes[-1], ks, stride=2, padding=ks // 2))
    assert sizes == [28, 14, 7, 4, 2], f"the lesson's CNN shrinks 28 -> 14 -> 7 -> 4 -> 2; you gave {sizes}"


@exercise("ch06.conv_out_size", points=2)
def test_conv_out_size_is_written_by_hand(ch, monkeypatch):
    called = calls_during(monkeypatch, MEASURING,
                          lambda: ch.conv_out_size(13, ks=3, stride=2, padding=1, dilation=2))
    assert_written_by_hand(called, "conv_out_size(13, ks=3, stride=2, padding=1, dilation=2)",
                           "Count the kernel's positions: floor((size + 2*padding - span) / stride) + 1.")


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
def test_receptive_field_matches_the_gradient_of_a_real_stack(ch, layers):
    kernel_sizes, strides, dilations = ([list(col) for col in zip(*layers)] if layers else ([], [], []))
    expected = measured_receptive_field(kernel_sizes, strides, dilations)
    got = ch.receptive_field(kernel_sizes, strides, dilations)
    assert got == expected, (f"receptive_field({kernel_sizes}, {strides}, {dilations}) returned {got}, but the "
                             f"first output of such a Conv1d stack depends on input positions spanning {expected}")


@exercise("ch06.receptive_field", points=2)
def test_receptive_field_defaults(ch):
    assert ch.receptive_field([5, 3, 3, 3], [2, 2, 2, 2]) == measured_receptive_field([5, 3, 3, 3], [2] * 4, [1] * 4) == 33, \
        "the lesson's CNN (kernels 5, 3, 3, 3, all stride 2) sees 33 pixels; dilations default to 1"
    assert ch.receptive_field([], []) == 1, "no convolution at all: each output is one input pixel"
    assert ch.receptive_field((3, 3), (1, 1)) == 5, "kernel_sizes and strides may be any iterables"


@exercise("ch06.receptive_field", points=2)
def test_receptive_field_is_written_by_hand(ch, monkeypatch):
    called = calls_during(monkeypatch, MEASURING, lambda: ch.receptive_field([5, 3, 3], [2, 2, 1], [1, 2, 1]))
    assert_written_by_hand(called, "receptive_field([5, 3, 3], [2, 2, 1], [1, 2, 1])",
                           "Walk through the layers keeping the field and the jump between input positions.")


# --- conv2d ---------------------------------------------------------------------------------------

@exercise("ch06.conv2d")
@settings(max_examples=15)
@given(ni=st.integers(1, 4), nf=st.integers(1, 4), ks=st.sampled_from([1, 3, 5, 7]), stride=st.integers(1, 3),
       size=st.integers(7, 12), seed=st.integers(0, 2**16))
def test_conv2d_is_a_padded_convolution_then_relu(ch, ni, nf, ks, stride, size, seed):
    block = ch.conv2d(ni, nf, ks=ks, stride=stride)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1, f"conv2d({ni}, {nf}, ks={ks}, stride={stride}) should hold exactly one nn.Conv2d"
    conv = convs[0]
    assert (conv.in_channels, conv.out_channels) == (ni, nf), \
        f"expected Conv2d({ni}, {nf}, ...), got Conv2d({conv.in_channels}, {conv.out_channels}, ...)"
    assert conv.kernel_size == (ks, ks) and conv.stride == (stride, stride) and conv.padding == (ks // 2, ks // 2), \
        f"expected kernel_size={ks}, stride={stride}, padding={ks // 2}; got kernel_size={conv.kernel_size}, " \
        f"stride={conv.stride}, padding={conv.padding}"
    x = torch.randn(2, ni, size, size, generator=torch.Generator().manual_seed(seed))
    expected = F.relu(F.conv2d(x, conv.weight, conv.bias, stride=stride, padding=ks // 2))
    assert_close(block(x), expected, atol=1e-5, rtol=1e-5,
                 msg="conv2d(...)(x) should be relu(conv(x)) with padding ks // 2")


@exercise("ch06.conv2d")
def test_conv2d_defaults_halve_the_image(ch):
    block = ch.conv2d(1, 8)
    out = block(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 8, 14, 14), f"conv2d(1, 8) (ks=3, stride=2) on 28x28 images: expected (5, 8, 14, 14), " \
                                        f"got {tuple(out.shape)}"
    assert (out >= 0).all(), "the block ends with a ReLU: no negative outputs"
    assert (out == 0).any(), "the ReLU should zero some outputs of a random convolution"


# --- get_cnn_layers -------------------------------------------------------------------------------

@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_layers_calls_layer_for_each_filter_count(ch):
    calls = []

    def spy(ni, nf, ks, **kwargs):
        calls.append((ni, nf, ks, kwargs))
        return reference_conv(ni, nf, ks)

    data = SimpleNamespace(c_out=7)
    layers = ch.get_cnn_layers(data, [8, 16, 32, 32], layer=spy, stride=2, extra="yes")
    expected = [(1, 8, 5), (8, 16, 3), (16, 32, 3), (32, 32, 3)]
    assert [c[:3] for c in calls] == expected, \
        f"layer(ni, nf, ks) should be called with {expected} (ks 5 first, then 3); it was called with {[c[:3] for c in calls]}"
    assert all(c[3] == {"stride": 2, "extra": "yes"} for c in calls), "pass **kwargs on to every call of layer"
    assert isinstance(layers, list), f"get_cnn_layers should return a list, got {type(layers).__name__}"
    assert len(layers) == 7, f"4 conv layers + pooling + flatten + linear = 7 layers, got {len(layers)}"
    pool, flat, head = layers[-3:]
    assert isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size in (1, (1, 1)), \
        f"after the convolutions comes nn.AdaptiveAvgPool2d(1), got {pool}"
    assert isinstance(flat, ch.Lambda), f"then Lambda(flatten), got {flat}"
    assert isinstance(head, nn.Linear) and (head.in_features, head.out_features) == (32, 7), \
        f"the head is nn.Linear(nfs[-1], data.c_out) = Linear(32, 7), got {head}"


@exercise("ch06.get_cnn_layers", points=2)
@settings(max_examples=15)
@given(nfs=st.lists(st.integers(1, 6), min_size=1, max_size=5), bs=st.integers(1, 5), c_out=st.integers(1, 12),
       size=st.integers(8, 20))
def test_get_cnn_layers_shapes_through_the_model(ch, nfs, bs, c_out, size):
    torch.manual_seed(bs)
    layers = ch.get_cnn_layers(SimpleNamespace(c_out=c_out), nfs, layer=reference_conv)
    x = torch.randn(bs, 1, size, size)
    h = x
    for i, nf in enumerate(nfs):
        size = (size + 1) // 2  # odd kernel, padding ks // 2, stride 2: ceil(size / 2)
        h = layers[i](h)
        assert h.shape == (bs, nf, size, size), f"after conv layer {i} of nfs={nfs}: expected {(bs, nf, size, size)}, " \
                                                f"got {tuple(h.shape)}"
    out = nn.Sequential(*layers)(x)
    assert out.shape == (bs, c_out), f"the model of nfs={nfs}, c_out={c_out} on a batch of {bs}: expected " \
                                     f"{(bs, c_out)}, got {tuple(out.shape)}"
    assert_close(out, layers[-1](h.mean(dim=(2, 3))), atol=1e-5, rtol=1e-5,
                 msg="the head must see the average of each channel of the last conv layer")


@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_layers_the_lessons_cnn(ch):
    model = nn.Sequential(*ch.get_cnn_layers(SimpleNamespace(c_out=10), [8, 16, 32, 32]))
    sizes, h = [], torch.randn(3, 1, 28, 28)
    for layer in model[:4]:
        h = layer(h)
        sizes.append(tuple(h.shape[1:]))
    assert sizes == [(8, 14, 14), (16, 7, 7), (32, 4, 4), (32, 2, 2)], \
        f"with the default layer (conv2d) the shapes should go 8x14x14, 16x7x7, 32x4x4, 32x2x2; got {sizes}"
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10), f"get_cnn_layers(data with c_out=10, [8, 16, 32, 32]) on 28x28 digits: expected " \
                                 f"scores of shape (3, 10), got {tuple(out.shape)}"


@exercise("ch06.get_cnn_layers", points=2)
def test_get_cnn_model_survives_save_and_load(ch):
    torch.manual_seed(0)
    model = nn.Sequential(*ch.get_cnn_layers(SimpleNamespace(c_out=10), [4, 8], layer=reference_conv))
    x = torch.randn(2, 1, 12, 12)
    try:
        loaded = save_and_load(model)
    except Exception as error:  # noqa: BLE001 - the pickling error is the message
        pytest.fail(f"torch.save of the CNN failed: {type(error).__name__}: {error}. Use Lambda(flatten) with the "
                    "named function flatten, not a lambda")
    assert_close(loaded(x), model(x), atol=0, rtol=0, msg="the loaded CNN must compute what the saved one did")


# --- DeviceCallback -------------------------------------------------------------------------------

def fake_run(**attributes):
    return SimpleNamespace(**attributes)


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_keeps_a_torch_device(ch):
    assert ch.DeviceCallback("cpu").device == torch.device("cpu"), "DeviceCallback('cpu').device should be torch.device('cpu')"
    cb = ch.DeviceCallback(META)
    assert isinstance(cb.device, torch.device) and cb.device == META, \
        f"DeviceCallback(torch.device('meta')).device should be that device, got {cb.device!r}"
    assert isinstance(ch.DeviceCallback("meta").device, torch.device), "turn a string into a torch.device"


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_moves_the_model_at_begin_fit(ch):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cb = ch.DeviceCallback("meta")
    cb.set_runner(fake_run(model=model))
    cb.begin_fit()
    devices = {p.device for p in model.parameters()}
    assert devices == {META}, f"after begin_fit the model's parameters should be on meta, found them on {devices}"


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_moves_each_batch_onto_the_runner(ch):
    run = fake_run(model=nn.Linear(3, 2), xb=torch.randn(5, 3), yb=torch.tensor([0, 1, 1, 0, 1]), in_train=True)
    cb = ch.DeviceCallback("meta")
    cb.set_runner(run)
    cb.begin_batch()
    assert run.xb.device == META and run.yb.device == META, \
        f"after begin_batch run.xb and run.yb should be on meta; they are on {run.xb.device} and {run.yb.device}. " \
        "Assign to self.run.xb / self.run.yb: self.xb = ... only sets an attribute of the callback"
    assert run.xb.shape == (5, 3) and run.yb.shape == (5,) and run.yb.dtype == torch.int64, \
        f"moving must not change a batch's shape or dtype: xb (5, 3) float32 and yb (5,) int64 became " \
        f"{tuple(run.xb.shape)} {run.xb.dtype} and {tuple(run.yb.shape)} {run.yb.dtype}"


@exercise("ch06.DeviceCallback", points=2)
def test_device_callback_in_a_real_fit_on_the_meta_device(ch):
    # A fit on `meta` runs every step (forward, loss, backward, step) on shapes alone, on any machine.
    torch.manual_seed(0)
    data = tiny_data()
    model = nn.Linear(6, 3)
    probe = Probe()
    run = Runner(cbs=[ch.DeviceCallback(META), probe])
    where = lambda: [("train" if s[0] else "valid", s[1].type, s[2].type, s[4].type) for s in probe.seen]  # noqa: E731
    try:
        run.fit(1, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data))
    except RuntimeError as error:
        pytest.fail(f"Runner.fit with DeviceCallback('meta') raised RuntimeError: {error}\n(pass, xb, yb, model) were on "
                    f"{where()}: the model and every batch, training and validation, must be on the same device")
    assert [s[0] for s in probe.seen] == [True] * 3 + [False] * 2, \
        f"3 training and 2 validation batches expected, the probe saw {[s[0] for s in probe.seen]}"
    where = where()
    assert all(w[1:] == ("meta",) * 3 for w in where), \
        "during Runner.fit with DeviceCallback('meta') every batch, training and validation, and the model must be " \
        f"on meta when the model sees them; (pass, xb, yb, model) were {where}"
    assert run.loss.device == META, f"the last loss was computed on {run.loss.device}, expected meta"


@exercise("ch06.DeviceCallback", points=2)
@pytest.mark.cuda
def test_device_callback_trains_on_cuda(ch):
    torch.manual_seed(0)
    data = tiny_data()
    model = nn.Linear(6, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    probe = Probe()
    run = Runner(cbs=[ch.DeviceCallback("cuda"), probe])
    run.fit(2, Learner(model, opt, F.cross_entropy, data))
    assert all(p.device.type == "cuda" for group in opt.param_groups for p in group["params"]), \
        "the optimiser made before the fit must update the model's parameters on the GPU: move the model in place " \
        "with model.to(device), which keeps the same Parameter objects"
    assert any(not torch.equal(p.cpu(), b) for p, b in zip(model.parameters(), before)), "the fit did not train the model"
    assert all(s[1].type == s[2].type == s[4].type == "cuda" for s in probe.seen), \
        f"every batch and the model should be on cuda during the fit; the probe saw {[s[1:3] for s in probe.seen]}"
    assert run.loss.device.type == "cuda"


# --- to_device (beyond) ---------------------------------------------------------------------------

@exercise("ch06.to_device", points=2)
def test_to_device_moves_nested_tensors_and_keeps_the_containers(ch):
    a, b, c, d = torch.randn(2, 3), torch.arange(4), torch.ones(1), torch.zeros(2, 2)
    batch = {"x": (a, [b, 7, {"mask": (d,)}]), "y": c, "name": "digits", "none": None}
    moved = ch.to_device(batch, META)
    assert isinstance(moved, dict) and set(moved) == set(batch), "a dict comes back as a dict with the same keys"
    x = moved["x"]
    assert isinstance(x, tuple) and isinstance(x[1], list), \
        f"containers keep their types: expected (tensor, [tensor, 7, dict]), got types {type(x).__name__} of " \
        f"{[type(o).__name__ for o in x]}"
    deep = x[1][2]
    assert isinstance(deep, dict) and isinstance(deep["mask"], tuple), "containers inside lists keep their types too"
    for original, new in [(a, x[0]), (b, x[1][0]), (c, moved["y"]), (d, deep["mask"][0])]:
        assert isinstance(new, torch.Tensor) and new.device == META, \
            f"every tensor, however deep, must be moved to meta; found {new!r}"
        assert new.shape == original.shape and new.dtype == original.dtype, \
            f"moving must keep shape and dtype: {tuple(original.shape)} {original.dtype} became " \
            f"{tuple(new.shape)} {new.dtype}"
    assert x[1][1] == 7 and moved["name"] == "digits" and moved["none"] is None, "non-tensors come back unchanged"
    assert batch["x"][0] is a and batch["y"] is c and a.device.type == "cpu", "the input must not be modified"


@exercise("ch06.to_device", points=2)
def test_to_device_a_plain_tensor_and_a_pair(ch):
    t = torch.randn(3)
    assert ch.to_device(t, "meta").device == META, "to_device(tensor, 'meta') should move the tensor"
    xb, yb = ch.to_device((torch.randn(4, 2), torch.tensor([1, 0, 1, 1])), META)
    assert xb.device == yb.device == META, "a batch (xb, yb) should come back as a moved pair"


# --- BatchTransformXCallback (beyond) -------------------------------------------------------------

@exercise("ch06.BatchTransformXCallback", points=2)
def test_batch_transform_replaces_the_runners_inputs_only(ch):
    xb, yb = torch.randn(4, 6), torch.tensor([0, 1, 2, 0])
    run = fake_run(xb=xb, yb=yb, in_train=False)
    cb = ch.BatchTransformXCallback(lambda x: x.reshape(-1, 2, 3) * 10)
    assert cb._order == 2, f"BatchTransformXCallback._order should be 2 (after the device callback), got {cb._order}"
    cb.set_runner(run)
    cb.begin_batch()
    assert run.xb.shape == (4, 2, 3), f"after begin_batch run.xb should be tfm(xb) of shape (4, 2, 3), got shape " \
                                      f"{tuple(run.xb.shape)}. Assign to self.run.xb, not self.xb"
    assert_close(run.xb, xb.reshape(-1, 2, 3) * 10, atol=0, rtol=0, msg="run.xb should be exactly tfm(xb)")
    assert run.yb is yb, "the targets yb must be left alone"


@exercise("ch06.BatchTransformXCallback", points=2)
def test_batch_transform_in_a_real_fit(ch):
    torch.manual_seed(0)
    data = tiny_data(features=6)
    seen = []
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    model.register_forward_pre_hook(lambda module, args: seen.append((module.training, tuple(args[0].shape))))
    run = Runner(cbs=[ch.BatchTransformXCallback(lambda x: x.view(-1, 2, 3))])
    run.fit(1, Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data))
    assert [s[0] for s in seen] == [True] * 3 + [False] * 2, "expected 3 training then 2 validation batches"
    assert [shape for _, shape in seen] == [(8, 2, 3)] * 3 + [(16, 2, 3), (8, 2, 3)], \
        f"the model should receive transformed batches (n, 2, 3) in training and validation, got {seen}"
