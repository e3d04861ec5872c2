"""Grades chapter 8: BatchNorm from scratch and its relatives.

Oracles: PyTorch's own layers (`nn.BatchNorm2d`, `F.layer_norm`, `F.instance_norm`, `nn.GroupNorm`,
`F.batch_norm`, `F.group_norm`, `torch.nn.utils.fuse_conv_bn_eval`'s job done by `bn(conv(x))`), autograd
through those layers for the gradients, and, for RunningBatchNorm, which PyTorch does not have, the
closed form of its running statistics: an exponential moving average started at zero is an explicitly
weighted sum of the batches seen, computed here with explicit weights instead of the layer's
step-by-step `lerp`. Since the oracles are PyTorch's own layers, spies (`grader.testing.calls_during`)
check that the exercises compute the normalisation themselves instead of calling them.
"""
import math
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.testing import assert_written_by_hand, calls_during

exercise = pytest.mark.exercise

# Every route to PyTorch's own normalisation kernels (the modules nn.BatchNorm2d, nn.LayerNorm,
# nn.InstanceNorm2d and nn.GroupNorm call these too). Any of them can stand in for any layer here
# (F.group_norm with one group is LayerNorm, with C groups InstanceNorm), so all are off limits for all.
NORM_BUILTINS = [(F, name) for name in ("batch_norm", "layer_norm", "instance_norm", "group_norm", "rms_norm")] \
    + [(torch, name) for name in ("batch_norm", "native_batch_norm", "_native_batch_norm_legit",
                                  "_native_batch_norm_legit_no_training", "layer_norm", "native_layer_norm",
                                  "instance_norm", "group_norm", "native_group_norm", "rms_norm")]
FUSION_BUILTINS = [(torch.nn.utils, "fuse_conv_bn_eval"), (torch.nn.utils, "fuse_conv_bn_weights"),
                   (torch.nn.utils.fusion, "fuse_conv_bn_eval"), (torch.nn.utils.fusion, "fuse_conv_bn_weights")]


def norm_builtin_calls(monkeypatch, run):
    """The PyTorch normalisation functions that `run()` called (through a module or directly)."""
    return calls_during(monkeypatch, NORM_BUILTINS, run)


def close(actual, expected, what, atol=1e-5, rtol=1e-5):
    """assert_close with a message that says what was compared."""
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol,
                               msg=lambda m: f"{what}:\n{m}")


def images(shape, seed, scale=3.0, shift=1.5, dtype=torch.float32):
    """Random activations with a mean and spread far from 0 and 1, so normalising matters."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=gen, dtype=dtype) * scale + shift)


def random_affine(nf, seed):
    gen = torch.Generator().manual_seed(seed + 1000)
    return torch.randn(nf, generator=gen) * 0.5 + 1, torch.randn(nf, generator=gen) * 0.5


def fwd_bwd(layer, x, seed):
    """Output of layer(x) and the gradient with respect to x for a random upstream gradient."""
    x = x.clone().requires_grad_()
    out = layer(x)
    grad = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 7))
    out.backward(grad)
    return out.detach(), x.grad


def copy_affine_into(ours, theirs, seed):
    """Give both layers the same random scale and shift."""
    weight, bias = random_affine(theirs.weight.shape[0], seed)
    with torch.no_grad():
        theirs.weight.copy_(weight)
        theirs.bias.copy_(bias)
        ours.mults.copy_(weight.view(-1, 1, 1))
        ours.adds.copy_(bias.view(-1, 1, 1))


# --- BatchNorm ----------------------------------------------------------------------------------

BN_CASES = [((8, 4, 5, 5), 0.1, 1e-5), ((3, 6, 4, 7), 0.3, 0.5), ((16, 2, 3, 3), 0.05, 1e-5), ((2, 3, 1, 1), 0.1, 1e-5)]


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_has_parameters_and_buffers(ch):
    bn = ch.BatchNorm(5)
    params = dict(bn.named_parameters())
    buffers = dict(bn.named_buffers())
    assert sorted(params) == ["adds", "mults"], f"BatchNorm(5) parameters: expected mults and adds, got {sorted(params)}"
    assert sorted(buffers) == ["means", "vars"], (
        f"BatchNorm(5) buffers: expected means and vars registered with register_buffer, got {sorted(buffers)}; "
        "a plain tensor attribute is neither saved by state_dict() nor moved by .to()")
    close(params["mults"].detach(), torch.ones(5, 1, 1), "BatchNorm(5).mults (ones of shape (5, 1, 1))")
    close(params["adds"].detach(), torch.zeros(5, 1, 1), "BatchNorm(5).adds (zeros of shape (5, 1, 1))")
    close(buffers["means"], torch.zeros(1, 5, 1, 1), "BatchNorm(5).means (zeros of shape (1, 5, 1, 1))")
    close(buffers["vars"], torch.ones(1, 5, 1, 1), "BatchNorm(5).vars (ones of shape (1, 5, 1, 1))")
    assert sorted(bn.state_dict()) == ["adds", "means", "mults", "vars"], \
        f"BatchNorm(5).state_dict() keys: {sorted(bn.state_dict())}"
    assert bn.double().means.dtype == torch.float64, "BatchNorm(5).double() must convert the buffers too"


@exercise("ch08.BatchNorm", points=4)
@pytest.mark.parametrize("shape,mom,eps", BN_CASES)
def test_batchnorm_matches_nn_batchnorm2d_in_training(ch, shape, mom, eps):
    nf = shape[1]
    ours, theirs = ch.BatchNorm(nf, mom=mom, eps=eps), nn.BatchNorm2d(nf, momentum=mom, eps=eps)
    copy_affine_into(ours, theirs, seed=nf)
    for step in range(3):
        x = images(shape, seed=step)
        out, grad_x = fwd_bwd(ours, x, seed=step)
        ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=step)
        call = f"BatchNorm({nf}, mom={mom}, eps={eps}) in training mode, step {step}, input {tuple(shape)}"
        close(out, ref_out, f"{call}: output (compare nn.BatchNorm2d: the biased variance normalises, "
                            "eps inside the square root)")
        close(ours.means.reshape(-1), theirs.running_mean,
              f"{call}: running means (mom is the weight of the new batch: means.lerp_(mean, mom))")
        close(ours.vars.reshape(-1), theirs.running_var,
              f"{call}: running vars (nn.BatchNorm2d stores the *unbiased* batch variance)")
        close(grad_x, ref_grad_x, f"{call}: gradient with respect to the input "
                                  "(gradients must flow through the batch mean and variance)")
    close(ours.mults.grad.reshape(-1), theirs.weight.grad, f"BatchNorm({nf}): gradient of mults, summed over 3 steps")
    close(ours.adds.grad.reshape(-1), theirs.bias.grad, f"BatchNorm({nf}): gradient of adds, summed over 3 steps")


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_eval_uses_running_statistics(ch):
    ours, theirs = ch.BatchNorm(4, eps=0.5), nn.BatchNorm2d(4, eps=0.5)
    copy_affine_into(ours, theirs, seed=3)
    for step in range(4):
        x = images((6, 4, 5, 5), seed=10 + step)
        ours(x), theirs(x)
    ours.eval(), theirs.eval()
    means, vars_ = ours.means.clone(), ours.vars.clone()
    x = images((5, 4, 3, 3), seed=99, scale=7.0, shift=-2.0)
    out, grad_x = fwd_bwd(ours, x, seed=1)
    ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=1)
    close(out, ref_out, "BatchNorm(4, eps=0.5) in eval mode after 4 training steps: output "
                        "(eval normalises with the running means and vars, not the batch's, and eps)")
    close(grad_x, ref_grad_x, "BatchNorm(4, eps=0.5) in eval mode: gradient with respect to the input")
    close(ours.means, means, "BatchNorm(4, eps=0.5): running means after an eval-mode call (must not change)")
    close(ours.vars, vars_, "BatchNorm(4, eps=0.5): running vars after an eval-mode call (must not change)")


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_running_statistics_carry_no_graph(ch):
    bn = ch.BatchNorm(3)
    opt = torch.optim.SGD(bn.parameters(), lr=0.1)
    for step in range(3):
        x = images((4, 3, 4, 4), seed=step).requires_grad_()
        bn(x).pow(2).mean().backward()  # a second backward through an old graph would raise here
        opt.step()
        opt.zero_grad()
        for name in ("means", "vars"):
            buffer = getattr(bn, name)
            assert not buffer.requires_grad and buffer.grad_fn is None, (
                f"after a training step BatchNorm(3).{name} is part of the autograd graph "
                f"(requires_grad={buffer.requires_grad}); update the running statistics without gradients")


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_refuses_one_value_per_channel_in_training(ch):
    bn = ch.BatchNorm(3)
    with pytest.raises(ValueError):
        bn(torch.randn(1, 3, 1, 1))
    bn.eval()
    out = bn(torch.randn(1, 3, 1, 1))
    assert out.shape == (1, 3, 1, 1), "in eval mode a single value per channel is fine"


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_is_written_by_hand(ch, monkeypatch):
    bn = ch.BatchNorm(3)
    x = images((4, 3, 5, 5), seed=30)

    def train_then_eval():
        bn(x).sum().backward()
        bn.eval()
        bn(x)

    assert_written_by_hand(norm_builtin_calls(monkeypatch, train_then_eval), "BatchNorm(3), in training and eval",
                           "Compute the per-channel mean and biased variance over (0, 2, 3) yourself.")


# --- LayerNorm ----------------------------------------------------------------------------------

@exercise("ch08.LayerNorm", points=2)
@pytest.mark.parametrize("shape,eps", [((4, 3, 5, 5), 1e-5), ((2, 8, 3, 4), 0.1), ((1, 1, 6, 6), 1e-5)])
def test_layernorm_matches_f_layer_norm(ch, shape, eps):
    ln = ch.LayerNorm(eps=eps)
    params = dict(ln.named_parameters())
    assert sorted(params) == ["add", "mult"], f"LayerNorm parameters: expected mult and add, got {sorted(params)}"
    assert params["mult"].shape == (1,) and params["add"].shape == (1,), "mult and add are scalars of shape (1,)"
    with torch.no_grad():
        ln.mult.fill_(1.7)
        ln.add.fill_(-0.4)
    x = images(shape, seed=len(shape) + shape[1])
    out, grad_x = fwd_bwd(ln, x, seed=3)
    ref_out, ref_grad_x = fwd_bwd(lambda t: F.layer_norm(t, t.shape[1:], eps=eps) * 1.7 - 0.4, x, seed=3)
    call = f"LayerNorm(eps={eps}) on {tuple(shape)}"
    close(out, ref_out, f"{call}: output (mean and biased variance over axes (1, 2, 3), eps inside the sqrt)")
    close(grad_x, ref_grad_x, f"{call}: gradient with respect to the input")


@exercise("ch08.LayerNorm", points=2)
def test_layernorm_items_are_independent_and_modes_agree(ch):
    ln = ch.LayerNorm()
    x = images((5, 3, 4, 4), seed=4)
    changed = x.clone()
    changed[1:] = images((4, 3, 4, 4), seed=5, scale=10.0)
    out, out_changed = ln(x), ln(changed)
    close(out_changed[0], out[0], "LayerNorm: item 0's output must not depend on the other items of the batch")
    ln.eval()
    close(ln(x), out, "LayerNorm: eval mode must give the same output as training mode")


@exercise("ch08.LayerNorm", points=2)
def test_layernorm_is_written_by_hand(ch, monkeypatch):
    ln = ch.LayerNorm()
    x = images((2, 3, 4, 4), seed=31)
    assert_written_by_hand(norm_builtin_calls(monkeypatch, lambda: ln(x)), "LayerNorm()(x)",
                           "Compute each image's mean and biased variance over (1, 2, 3) yourself.")


# --- InstanceNorm -------------------------------------------------------------------------------

@exercise("ch08.InstanceNorm", points=2)
@pytest.mark.parametrize("shape,eps", [((4, 3, 5, 5), 1e-5), ((2, 6, 3, 4), 0.1), ((3, 1, 6, 2), 1e-5)])
def test_instancenorm_matches_f_instance_norm(ch, shape, eps):
    nf = shape[1]
    inorm = ch.InstanceNorm(nf, eps=eps)
    assert sorted(dict(inorm.named_parameters())) == ["adds", "mults"], "InstanceNorm parameters: mults and adds"
    assert inorm.mults.shape == (nf, 1, 1), f"InstanceNorm({nf}).mults shape: expected ({nf}, 1, 1), got {tuple(inorm.mults.shape)}"
    weight, bias = random_affine(nf, seed=nf)
    with torch.no_grad():
        inorm.mults.copy_(weight.view(-1, 1, 1))
        inorm.adds.copy_(bias.view(-1, 1, 1))
    x = images(shape, seed=nf + 20)
    out, grad_x = fwd_bwd(inorm, x, seed=4)
    ref_out, ref_grad_x = fwd_bwd(lambda t: F.instance_norm(t, weight=weight, bias=bias, eps=eps), x, seed=4)
    call = f"InstanceNorm({nf}, eps={eps}) on {tuple(shape)}"
    close(out, ref_out, f"{call}: output (mean and biased variance over axes (2, 3))")
    close(grad_x, ref_grad_x, f"{call}: gradient with respect to the input")
    inorm.eval()
    close(inorm(x), out, f"{call}: eval mode must give the same output as training mode")


@exercise("ch08.InstanceNorm", points=2)
def test_instancenorm_is_written_by_hand(ch, monkeypatch):
    inorm = ch.InstanceNorm(3)
    x = images((2, 3, 4, 4), seed=32)
    assert_written_by_hand(norm_builtin_calls(monkeypatch, lambda: inorm(x)), "InstanceNorm(3)(x)",
                           "Compute each channel's mean and biased variance over the pixels (2, 3) yourself.")


# --- GroupNorm ----------------------------------------------------------------------------------

@exercise("ch08.GroupNorm", points=2)
@pytest.mark.parametrize("groups,eps", [(1, 1e-5), (2, 0.5), (3, 1e-5), (6, 0.5)])
def test_groupnorm_matches_nn_groupnorm(ch, groups, eps):
    nf = 6
    ours, theirs = ch.GroupNorm(groups, nf, eps=eps), nn.GroupNorm(groups, nf, eps=eps)
    assert sorted(dict(ours.named_parameters())) == ["adds", "mults"], "GroupNorm parameters: mults and adds"
    copy_affine_into(ours, theirs, seed=groups)
    x = images((3, nf, 4, 5), seed=groups)
    out, grad_x = fwd_bwd(ours, x, seed=5)
    ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=5)
    call = f"GroupNorm({groups}, {nf}, eps={eps}) on (3, {nf}, 4, 5)"
    close(out, ref_out, f"{call}: output (groups of consecutive channels, eps inside the square root; "
                        "compare nn.GroupNorm)")
    close(grad_x, ref_grad_x, f"{call}: gradient with respect to the input")
    close(ours.mults.grad.reshape(-1), theirs.weight.grad, f"{call}: gradient of mults")


@exercise("ch08.GroupNorm", points=2)
def test_groupnorm_edge_cases_are_layer_and_instance_norm(ch):
    x = images((2, 4, 3, 3), seed=8)
    close(ch.GroupNorm(1, 4)(x), F.layer_norm(x, x.shape[1:]), "GroupNorm(1, 4) must equal LayerNorm over (C, H, W)")
    close(ch.GroupNorm(4, 4)(x), F.instance_norm(x), "GroupNorm(4, 4) must equal InstanceNorm")
    for groups, nf in [(3, 4), (0, 4)]:
        with pytest.raises(ValueError):
            ch.GroupNorm(groups, nf)


@exercise("ch08.GroupNorm", points=2)
def test_groupnorm_is_written_by_hand(ch, monkeypatch):
    gn = ch.GroupNorm(2, 4)
    x = images((2, 4, 3, 3), seed=33)
    assert_written_by_hand(norm_builtin_calls(monkeypatch, lambda: gn(x)), "GroupNorm(2, 4)(x)",
                           "Reshape to (N, groups, C // groups, H, W) and normalise over (2, 3, 4) yourself.")


# --- norm_axes ----------------------------------------------------------------------------------

def reference_normalise(x, kind, groups):
    if kind == "batch":
        return F.batch_norm(x, None, None, training=True, eps=1e-5)
    if kind == "layer":
        return F.layer_norm(x, x.shape[1:], eps=1e-5)
    if kind == "instance":
        return F.instance_norm(x, eps=1e-5)
    return F.group_norm(x, groups, eps=1e-5)


@exercise("ch08.norm_axes", points=2)
@given(kind=st.sampled_from(["batch", "layer", "instance", "group"]), ndim=st.integers(2, 5),
       seed=st.integers(0, 2**16))
def test_norm_axes_give_the_statistics_of_pytorchs_layers(ch, kind, ndim, seed):
    if kind == "instance" and ndim == 2:
        with pytest.raises(ValueError):
            ch.norm_axes(kind, ndim)
        return
    axes = ch.norm_axes(kind, ndim)
    assert isinstance(axes, tuple) and all(isinstance(a, int) for a in axes), \
        f"norm_axes({kind!r}, {ndim}) must return a tuple of ints, got {axes!r}"
    groups = 2
    shape = (3, 4, 3, 2, 2)[:ndim]
    x = images(shape, seed=seed, dtype=torch.float64)
    view = x.reshape(shape[0], groups, shape[1] // groups, *shape[2:]) if kind == "group" else x
    normalised = (view - view.mean(axes, keepdim=True)) / (view.var(axes, keepdim=True, correction=0) + 1e-5).sqrt()
    close(normalised.reshape(shape), reference_normalise(x, kind, groups),
          f"normalising over norm_axes({kind!r}, {ndim}) = {axes} (compared with PyTorch's {kind} norm)",
          atol=1e-9, rtol=1e-9)


@exercise("ch08.norm_axes", points=2)
def test_norm_axes_for_images_and_bad_arguments(ch):
    expected = {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}
    got = {kind: ch.norm_axes(kind) for kind in expected}
    assert got == expected, f"norm_axes(kind) for (N, C, H, W) images: expected {expected}, got {got}"
    for args in [("weird", 4), ("batch", 1), ("instance", 2)]:
        with pytest.raises(ValueError):
            ch.norm_axes(*args)


# --- conv_norm_layer ----------------------------------------------------------------------------

@exercise("ch08.conv_norm_layer", points=1)
@pytest.mark.parametrize("ks,stride", [(3, 2), (5, 2), (3, 1)])
def test_conv_norm_layer_is_conv_then_norm_then_act(ch, ks, stride):
    layer = ch.conv_norm_layer(3, 8, ks=ks, stride=stride, norm=nn.BatchNorm2d, act=nn.Tanh)
    kinds = [type(m).__name__ for m in layer]
    assert isinstance(layer, nn.Sequential) and kinds == ["Conv2d", "BatchNorm2d", "Tanh"], \
        f"conv_norm_layer(3, 8, norm=nn.BatchNorm2d, act=nn.Tanh): expected Sequential(Conv2d, BatchNorm2d, Tanh), got {kinds}"
    conv, norm = layer[0], layer[1]
    got = (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
    want = (3, 8, (ks, ks), (stride, stride), (ks // 2, ks // 2))
    assert got == want, f"conv (in, out, kernel, stride, padding): expected {want}, got {got}"
    assert conv.bias is None, "a convolution followed by a normalisation needs no bias: the mean subtraction removes it"
    assert norm.num_features == 8, f"the norm must be built as norm(nf) = norm(8), got {norm}"
    x = images((2, 3, 28, 28), seed=ks)
    size = (28 + 2 * (ks // 2) - ks) // stride + 1
    assert layer(x).shape == (2, 8, size, size), f"output shape for a (2, 3, 28, 28) input: expected (2, 8, {size}, {size})"


@exercise("ch08.conv_norm_layer", points=1)
def test_conv_norm_layer_defaults_and_no_norm(ch):
    layer = ch.conv_norm_layer(1, 4, norm=partial(nn.GroupNorm, 2))
    assert [type(m).__name__ for m in layer] == ["Conv2d", "GroupNorm", "ReLU"], \
        f"conv_norm_layer(1, 4, norm=partial(nn.GroupNorm, 2)) with the default act: got {layer}"
    assert layer[1].num_channels == 4
    plain = ch.conv_norm_layer(1, 4, norm=None)
    assert [type(m).__name__ for m in plain] == ["Conv2d", "ReLU"], f"conv_norm_layer(1, 4, norm=None): got {plain}"
    assert plain[0].bias is not None, "without a normalisation layer the convolution keeps its bias"


# --- RunningBatchNorm ---------------------------------------------------------------------------

def expected_running_output(batches, x, mom, eps, mults, adds, training):
    """Closed-form oracle: the running statistics as explicitly weighted sums over all batches seen.

    Starting from zero, after lerps with weights m_1..m_T, batch i carries the weight
    w_i = m_i * prod_{j>i} (1 - m_j). The same weights multiply the sums, the sums of squares and
    the counts, so mean = sum w_i s_i / sum w_i n_i (no debiasing needed).
    """
    moms = []
    for b in batches:
        bs = b.shape[0]
        moms.append(1 - (1 - mom) / math.sqrt(bs - 1) if bs > 1 else mom)
    weights = [m * math.prod(1 - later for later in moms[i + 1:]) for i, m in enumerate(moms)]
    dims = (0, 2, 3)
    sums = sum(w * b.double().sum(dims, keepdim=True) for w, b in zip(weights, batches))
    sqrs = sum(w * (b.double() ** 2).sum(dims, keepdim=True) for w, b in zip(weights, batches))
    count = sum(w * b[:, 0].numel() for w, b in zip(weights, batches))
    seen = sum(b.shape[0] for b in batches)
    mean = sums / count
    var = (sqrs / count - mean ** 2).clamp_min(0.01 if seen < 20 else 0.0)
    return ((x.double() - mean) / (var + eps).sqrt() * mults.double() + adds.double()).float()


def set_affine(layer, nf, seed):
    weight, bias = random_affine(nf, seed)
    with torch.no_grad():
        layer.mults.copy_(weight.view(-1, 1, 1))
        layer.adds.copy_(bias.view(-1, 1, 1))
    return weight.view(-1, 1, 1), bias.view(-1, 1, 1)


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_parameters_and_buffers(ch):
    rbn = ch.RunningBatchNorm(5)
    assert sorted(dict(rbn.named_parameters())) == ["adds", "mults"], "RunningBatchNorm parameters: mults and adds"
    buffers = dict(rbn.named_buffers())
    assert sorted(buffers) == ["batch", "count", "sqrs", "sums"], (
        f"RunningBatchNorm(5) buffers: expected batch, count, sqrs and sums, got {sorted(buffers)} "
        "(everything the layer needs to resume must be in state_dict)")
    assert buffers["sums"].shape == (1, 5, 1, 1) and buffers["sqrs"].shape == (1, 5, 1, 1)
    assert int(buffers["batch"]) == 0 and float(buffers["count"].sum()) == 0.0


@exercise("ch08.RunningBatchNorm", points=3)
@pytest.mark.parametrize("sizes", [[32, 32, 32], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [5, 1, 16, 2, 7]])
def test_running_batchnorm_matches_the_weighted_statistics(ch, sizes):
    nf, mom, eps = 3, 0.1, 1e-5
    rbn = ch.RunningBatchNorm(nf, mom=mom, eps=eps)
    mults, adds = set_affine(rbn, nf, seed=len(sizes))
    batches = []
    for i, bs in enumerate(sizes):
        x = images((bs, nf, 3, 3), seed=100 + i)
        out = rbn(x)
        batches.append(x)
        expected = expected_running_output(batches, x, mom, eps, mults, adds, training=True)
        close(out.detach(), expected, f"RunningBatchNorm(3) training on batch sizes {sizes[:i + 1]}: output of the "
                                      "last batch (running sums, squares and counts mixed with mom1)",
              atol=1e-4, rtol=1e-4)
    assert int(rbn.batch) == sum(sizes), f"RunningBatchNorm.batch after batch sizes {sizes}: expected {sum(sizes)}, got {int(rbn.batch)}"
    rbn.eval()
    x = images((4, nf, 2, 2), seed=7, scale=5.0)
    close(rbn(x).detach(), expected_running_output(batches, x, mom, eps, mults, adds, training=False),
          f"RunningBatchNorm(3) in eval mode after batch sizes {sizes}: output (running statistics only)",
          atol=1e-4, rtol=1e-4)


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_gradient_flows_through_the_running_sums(ch):
    nf, mom, eps = 3, 0.1, 1e-5
    rbn = ch.RunningBatchNorm(nf, mom=mom, eps=eps)
    mults, adds = set_affine(rbn, nf, seed=9)
    batches = [images((bs, nf, 3, 3), seed=200 + i) for i, bs in enumerate([8, 8, 4])]
    for x in batches[:-1]:
        rbn(x)
    out, grad_x = fwd_bwd(rbn, batches[-1], seed=11)
    ref_out, ref_grad_x = fwd_bwd(
        lambda t: expected_running_output([*batches[:-1], t], t, mom, eps, mults, adds, training=True),
        batches[-1], seed=11)
    call = "RunningBatchNorm(3) in training, third batch (sizes 8, 8, 4)"
    close(out, ref_out, f"{call}: output", atol=1e-4, rtol=1e-4)
    close(grad_x, ref_grad_x, f"{call}: gradient with respect to the input (the batch's sums and sums of squares "
                              "are mixed into the running ones *with* their gradient; only the buffers are detached)",
          atol=1e-4, rtol=1e-4)


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_clamps_the_variance_early(ch):
    rbn = ch.RunningBatchNorm(2)
    x = images((2, 2, 3, 3), seed=1, scale=0.01)  # variance about 1e-4, far below the 0.01 floor
    out = rbn(x)
    mean = x.double().mean((0, 2, 3), keepdim=True)
    expected = ((x.double() - mean) / math.sqrt(0.01 + 1e-5)).float()
    close(out.detach(), expected, "RunningBatchNorm(2) on a first batch of 2 with variance 1e-4: output "
                                  "(while fewer than 20 samples are seen, the variance is clamped to at least 0.01)",
          atol=1e-5, rtol=1e-4)
    for i in range(10):
        out = rbn(images((2, 2, 3, 3), seed=2 + i, scale=0.01))
    assert out.detach().std() > 0.5, (
        "RunningBatchNorm after 22 samples of variance 1e-4: the 0.01 floor must stop applying at 20 samples, "
        f"but the output's std is {out.detach().std():.3g} instead of about 1")


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_is_finite_for_tiny_batches(ch):
    for bs in (1, 2):
        rbn = ch.RunningBatchNorm(4)
        for step in range(30):
            out = rbn(images((bs, 4, 1, 1), seed=step))
            assert out.isfinite().all(), f"RunningBatchNorm(4) on batches of {bs} single pixels: non-finite output at step {step}"
        rbn.eval()
        out = rbn(images((3, 4, 1, 1), seed=50))
        assert out.isfinite().all(), f"RunningBatchNorm(4) after batches of {bs}, in eval mode: non-finite output"
        assert out.abs().max() < 20, f"RunningBatchNorm(4) after batches of {bs}, in eval mode: output up to {out.abs().max():.3g}"


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_eval_uses_only_running_statistics(ch):
    rbn = ch.RunningBatchNorm(3)
    fresh = rbn.eval()(images((2, 3, 2, 2), seed=1))
    close(fresh, images((2, 3, 2, 2), seed=1), "a fresh RunningBatchNorm(3) in eval mode: expected x * mults + adds (x itself)")
    rbn.train()
    for step in range(5):
        rbn(images((8, 3, 4, 4), seed=step))
    rbn.eval()
    state = {k: v.clone() for k, v in rbn.state_dict().items()}
    x = images((4, 3, 4, 4), seed=20)
    other = x.clone()
    other[1:] *= 10
    out, out_other = rbn(x), rbn(other)
    close(out_other[0], out[0], "RunningBatchNorm in eval mode: item 0's output must not depend on the rest of the batch")
    for k, v in rbn.state_dict().items():
        close(v, state[k], f"RunningBatchNorm buffer {k!r} after eval-mode calls (must not change)")


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_state_dict_round_trip(ch):
    rbn = ch.RunningBatchNorm(3)
    set_affine(rbn, 3, seed=4)
    for step in range(12):  # 24 samples: past the 20-sample clamp
        rbn(images((2, 3, 3, 3), seed=step, scale=0.05))
    restored = ch.RunningBatchNorm(3)
    restored.load_state_dict(rbn.state_dict())
    for mode in ("eval", "train"):
        getattr(rbn, mode)(), getattr(restored, mode)()
        x = images((2, 3, 3, 3), seed=40, scale=0.05)
        close(restored(x), rbn(x), f"RunningBatchNorm restored from state_dict, {mode} mode: output must match "
                                   "the original's exactly", atol=0, rtol=0)


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_trains_without_stale_graphs(ch):
    rbn = ch.RunningBatchNorm(3)
    opt = torch.optim.SGD(rbn.parameters(), lr=0.1)
    for step in range(3):
        x = images((4, 3, 4, 4), seed=step).requires_grad_()
        rbn(x).pow(3).mean().backward()
        assert x.grad is not None and rbn.mults.grad is not None, "gradients must reach the input and mults"
        opt.step()
        opt.zero_grad()
        for name, buffer in rbn.named_buffers():
            assert buffer.grad_fn is None and not buffer.requires_grad, (
                f"after a training step RunningBatchNorm.{name} is part of the autograd graph; store detached values")


# --- fold_batchnorm -----------------------------------------------------------------------------

def trained_looking_bn(nf, seed):
    bn = nn.BatchNorm2d(nf, eps=1e-3)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(nf, generator=gen))
        bn.bias.copy_(torch.randn(nf, generator=gen))
        bn.running_mean.copy_(torch.randn(nf, generator=gen))
        bn.running_var.copy_(torch.rand(nf, generator=gen) * 2 + 0.001)
    return bn.eval()


@exercise("ch08.fold_batchnorm", points=2)
@pytest.mark.parametrize("bias,stride,padding,dilation,groups", [
    (False, 1, 1, 1, 1), (True, 2, 0, 1, 1), (True, 1, 2, 2, 2), (False, 2, 1, 1, 4)])
def test_fold_batchnorm_equals_conv_then_bn(ch, bias, stride, padding, dilation, groups):
    torch.manual_seed(groups + stride)
    conv = nn.Conv2d(4, 8, 3, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    bn = trained_looking_bn(8, seed=stride)
    before = {k: v.clone() for k, v in [*conv.state_dict().items(), *bn.state_dict().items()]}
    fused = ch.fold_batchnorm(conv, bn)
    x = images((2, 4, 9, 9), seed=3)
    close(fused(x), bn(conv(x)), f"fold_batchnorm({conv}, BatchNorm2d(8, eps=1e-3)) applied to x, "
                                 "compared with bn(conv(x)) in eval mode", atol=1e-4, rtol=1e-4)
    assert fused.bias is not None, "the folded convolution always needs a bias (it carries the BatchNorm's shift)"
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"):
        assert getattr(fused, attr) == getattr(conv, attr), f"folded conv's {attr}: expected {getattr(conv, attr)}"
    after = {k: v for k, v in [*conv.state_dict().items(), *bn.state_dict().items()]}
    for k, v in before.items():
        close(after[k], v, f"fold_batchnorm must leave the original conv and bn unchanged ({k})", atol=0, rtol=0)


@exercise("ch08.fold_batchnorm", points=2)
def test_fold_batchnorm_returns_independent_weights(ch):
    conv, bn = nn.Conv2d(2, 3, 3, bias=True), trained_looking_bn(3, seed=5)
    fused = ch.fold_batchnorm(conv, bn)
    assert isinstance(fused, nn.Conv2d), f"fold_batchnorm must return an nn.Conv2d, got {type(fused).__name__}"
    weight = conv.weight.detach().clone()
    with torch.no_grad():
        fused.weight.zero_()
    close(conv.weight.detach(), weight, "changing the folded conv's weight must not change the original conv",
          atol=0, rtol=0)


@exercise("ch08.fold_batchnorm", points=2)
def test_fold_batchnorm_is_written_by_hand(ch, monkeypatch):
    conv, bn = nn.Conv2d(2, 3, 3, bias=False).eval(), trained_looking_bn(3, seed=6)
    called = calls_during(monkeypatch, FUSION_BUILTINS, lambda: ch.fold_batchnorm(conv, bn))
    assert not called, (f"fold_batchnorm(conv, bn) called {', '.join(called)}: PyTorch's own folding, which does "
                        "the whole exercise. Scale each output channel's filter by weight / sqrt(running_var + eps) "
                        "and work out the new bias yourself.")
