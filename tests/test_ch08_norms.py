"""Grades chapter 8: BatchNorm from scratch and its relatives.

Oracles: PyTorch's own layers (`nn.BatchNorm2d`, `F.layer_norm`, `F.instance_norm`, `nn.GroupNorm`,
`F.batch_norm`, `F.group_norm`, `torch.nn.utils.fuse_conv_bn_eval`'s job done by `bn(conv(x))`), autograd
through those layers for the gradients, and, for RunningBatchNorm, which PyTorch does not have, the
closed form of its running statistics: an exponential moving average started at zero is an explicitly
weighted sum of the batches seen, computed here with explicit weights instead of the layer's
step-by-step `lerp`. Since the oracles are PyTorch's own layers, spies (`grader.testing.spying`) and a
reading of the source check that the exercises compute the normalisation themselves instead of calling them.

Each test asks `probe(observe_..., *inputs)`: the `observe_...` function builds the learner's layer from
plain parameters, runs it on the inputs the test drew and returns plain data (outputs, input gradients,
parameters, buffers, names of types); the test runs PyTorch's own layer on the same inputs and judges here
(grader/probe.py).
"""
import math
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.probe import outcome
from grader.testing import assert_no_oracle_in_source, assert_written_by_hand, spying

exercise = pytest.mark.exercise

# Every route to PyTorch's own normalisation kernels (the modules nn.BatchNorm2d, nn.LayerNorm,
# nn.InstanceNorm2d and nn.GroupNorm call these too). Any of them can stand in for any layer here
# (F.group_norm with one group is LayerNorm, with C groups InstanceNorm), so all are off limits for all.
NORM_BUILTINS = [(F, name) for name in ("batch_norm", "layer_norm", "instance_norm", "group_norm", "rms_norm")] \
    + [(torch, name) for name in ("batch_norm", "native_batch_norm", "_native_batch_norm_legit",
                                  "_native_batch_norm_legit_no_training", "layer_norm", "native_layer_norm",
                                  "instance_norm", "group_norm", "native_group_norm", "rms_norm")]
NORM_NAMES = {name for _, name in NORM_BUILTINS}
FUSION_BUILTINS = [(torch.nn.utils, "fuse_conv_bn_eval"), (torch.nn.utils, "fuse_conv_bn_weights"),
                   (torch.nn.utils.fusion, "fuse_conv_bn_eval"), (torch.nn.utils.fusion, "fuse_conv_bn_weights")]
FUSION_NAMES = {name for _, name in FUSION_BUILTINS}


def close(actual, expected, what, atol=1e-5, rtol=1e-5):
    """assert_close with a message that says what was compared."""
    assert isinstance(actual, torch.Tensor), f"{what}: expected a tensor, got {actual!r}"
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


def set_mults_adds(ours, weight, bias):
    """Give the learner's layer the scale and shift `weight` and `bias` (one per channel)."""
    with torch.no_grad():
        ours.mults.copy_(weight.view(-1, 1, 1))
        ours.adds.copy_(bias.view(-1, 1, 1))


def set_weight_bias(theirs, weight, bias):
    """Give PyTorch's layer the scale and shift `weight` and `bias`."""
    with torch.no_grad():
        theirs.weight.copy_(weight)
        theirs.bias.copy_(bias)


def parameters_and_buffers(module):
    return {"params": {name: p.detach() for name, p in module.named_parameters()},
            "buffers": {name: b.detach() for name, b in module.named_buffers()}}


def observe_outcome(ch, name, *args, **kwargs):
    """What `ch.<name>(*args, **kwargs)` returned or raised, as data (for a test that expects an error)."""
    return outcome(getattr(ch, name), *args, **kwargs)


def observe_norm_builtin_calls(ch, name, args, x, train_then_eval=False):
    """The PyTorch normalisation functions that `ch.<name>(*args)(x)` called (through a module or directly);
    with `train_then_eval`, a training call with a backward pass, then an eval-mode call."""
    layer = getattr(ch, name)(*args)
    with spying(NORM_BUILTINS) as called:
        if train_then_eval:
            layer(x).sum().backward()
            layer.eval()
        layer(x)
    return called


def by_hand(probe, name, args, x, call, instead, train_then_eval=False):
    assert_written_by_hand(probe(observe_norm_builtin_calls, name, args, x, train_then_eval), call, instead)
    assert_no_oracle_in_source(probe.references(name, NORM_NAMES), call, instead)


def layout_of(x, layout):
    """`x` as the same values in another memory layout. The probe's round trip makes tensors contiguous, so an
    observer calls this where the learner's code runs."""
    return {"contiguous": x, "channels_last": x.to(memory_format=torch.channels_last),
            "transposed": x.transpose(2, 3)}[layout]


def observe_layout(ch, name, args, x, layout):
    """The output of a fresh `ch.<name>(*args)` in training mode on `x` rearranged as `layout`."""
    x = layout_of(x, layout)
    return {"out": getattr(ch, name)(*args)(x), "contiguous": x.is_contiguous()}


def check_layout(probe, name, args, layout, reference):
    x = images((3, 4, 5, 6), seed=len(layout))
    seen = probe(observe_layout, name, args, x, layout)
    arranged = layout_of(x, layout)
    close(seen["out"], reference(arranged.contiguous()),
          f"{name}{tuple(args)} on a {layout} input of shape {tuple(arranged.shape)} (strides {arranged.stride()}): "
          "output (the same values in another memory layout must give the same result; `view` fails on such "
          "inputs where `reshape` and reductions over axes do not)")


# --- BatchNorm ----------------------------------------------------------------------------------

BN_CASES = [((8, 4, 5, 5), 0.1, 1e-5), ((3, 6, 4, 7), 0.3, 0.5), ((16, 2, 3, 3), 0.05, 1e-5), ((2, 3, 1, 1), 0.1, 1e-5),
            ((1, 3, 4, 4), 0.1, 1e-5)]  # the last: a batch of one image still has 16 values per channel


def observe_batchnorm_made(ch, nf):
    bn = ch.BatchNorm(nf)
    seen = parameters_and_buffers(bn)
    seen["state_dict"] = sorted(bn.state_dict())
    means = getattr(bn.double(), "means", None)
    seen["double_means_dtype"] = means.dtype if isinstance(means, torch.Tensor) else None
    return seen


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_has_parameters_and_buffers(probe):
    seen = probe(observe_batchnorm_made, 5)
    params, buffers = seen["params"], seen["buffers"]
    assert sorted(params) == ["adds", "mults"], f"BatchNorm(5) parameters: expected mults and adds, got {sorted(params)}"
    assert sorted(buffers) == ["means", "vars"], (
        f"BatchNorm(5) buffers: expected means and vars registered with register_buffer, got {sorted(buffers)}; "
        "a plain tensor attribute is neither saved by state_dict() nor moved by .to()")
    close(params["mults"], torch.ones(5, 1, 1), "BatchNorm(5).mults (ones of shape (5, 1, 1))")
    close(params["adds"], torch.zeros(5, 1, 1), "BatchNorm(5).adds (zeros of shape (5, 1, 1))")
    close(buffers["means"], torch.zeros(1, 5, 1, 1), "BatchNorm(5).means (zeros of shape (1, 5, 1, 1))")
    close(buffers["vars"], torch.ones(1, 5, 1, 1), "BatchNorm(5).vars (ones of shape (1, 5, 1, 1))")
    assert seen["state_dict"] == ["adds", "means", "mults", "vars"], \
        f"BatchNorm(5).state_dict() keys: {seen['state_dict']}"
    assert seen["double_means_dtype"] == torch.float64, "BatchNorm(5).double() must convert the buffers too"


def observe_batchnorm_training(ch, nf, mom, eps, weight, bias, xs):
    ours = ch.BatchNorm(nf, mom=mom, eps=eps)
    set_mults_adds(ours, weight, bias)
    steps = []
    for step, x in enumerate(xs):
        out, grad_x = fwd_bwd(ours, x, seed=step)
        steps.append({"out": out, "grad_x": grad_x, "means": ours.means.detach().clone(),
                      "vars": ours.vars.detach().clone()})
    return {"steps": steps, "mults_grad": ours.mults.grad, "adds_grad": ours.adds.grad}


@exercise("ch08.BatchNorm", points=4)
@pytest.mark.parametrize("shape,mom,eps", BN_CASES)
def test_batchnorm_matches_nn_batchnorm2d_in_training(probe, shape, mom, eps):
    nf = shape[1]
    weight, bias = random_affine(nf, seed=nf)
    xs = [images(shape, seed=step) for step in range(3)]
    seen = probe(observe_batchnorm_training, nf, mom, eps, weight, bias, xs)
    theirs = nn.BatchNorm2d(nf, momentum=mom, eps=eps)
    set_weight_bias(theirs, weight, bias)
    for step, x in enumerate(xs):
        got = seen["steps"][step]
        ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=step)
        call = f"BatchNorm({nf}, mom={mom}, eps={eps}) in training mode, step {step}, input {tuple(shape)}"
        close(got["out"], ref_out, f"{call}: output (compare nn.BatchNorm2d: the biased variance normalises, "
                                   "eps inside the square root)")
        close(got["means"].reshape(-1), theirs.running_mean,
              f"{call}: running means (mom is the weight of the new batch: means.lerp_(mean, mom))")
        close(got["vars"].reshape(-1), theirs.running_var,
              f"{call}: running vars (nn.BatchNorm2d stores the *unbiased* batch variance)")
        close(got["grad_x"], ref_grad_x, f"{call}: gradient with respect to the input "
                                         "(gradients must flow through the batch mean and variance)")
    close(seen["mults_grad"].reshape(-1), theirs.weight.grad, f"BatchNorm({nf}): gradient of mults, summed over 3 steps")
    close(seen["adds_grad"].reshape(-1), theirs.bias.grad, f"BatchNorm({nf}): gradient of adds, summed over 3 steps")


def observe_batchnorm_eval(ch, weight, bias, train_xs, x):
    ours = ch.BatchNorm(4, eps=0.5)
    set_mults_adds(ours, weight, bias)
    for batch in train_xs:
        ours(batch)
    ours.eval()
    means, vars_ = ours.means.detach().clone(), ours.vars.detach().clone()
    out, grad_x = fwd_bwd(ours, x, seed=1)
    return {"out": out, "grad_x": grad_x, "means_before": means, "vars_before": vars_,
            "means_after": ours.means.detach(), "vars_after": ours.vars.detach()}


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_eval_uses_running_statistics(probe):
    weight, bias = random_affine(4, seed=3)
    train_xs = [images((6, 4, 5, 5), seed=10 + step) for step in range(4)]
    x = images((5, 4, 3, 3), seed=99, scale=7.0, shift=-2.0)
    seen = probe(observe_batchnorm_eval, weight, bias, train_xs, x)
    theirs = nn.BatchNorm2d(4, eps=0.5)
    set_weight_bias(theirs, weight, bias)
    for batch in train_xs:
        theirs(batch)
    theirs.eval()
    ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=1)
    close(seen["out"], ref_out, "BatchNorm(4, eps=0.5) in eval mode after 4 training steps: output "
                                "(eval normalises with the running means and vars, not the batch's, and eps)")
    close(seen["grad_x"], ref_grad_x, "BatchNorm(4, eps=0.5) in eval mode: gradient with respect to the input")
    close(seen["means_after"], seen["means_before"],
          "BatchNorm(4, eps=0.5): running means after an eval-mode call (must not change)")
    close(seen["vars_after"], seen["vars_before"],
          "BatchNorm(4, eps=0.5): running vars after an eval-mode call (must not change)")


def observe_batchnorm_buffers_while_training(ch, xs):
    bn = ch.BatchNorm(3)
    opt = torch.optim.SGD(bn.parameters(), lr=0.1)
    steps = []
    for x in xs:
        bn(x.requires_grad_()).pow(2).mean().backward()  # a second backward through an old graph would raise here
        opt.step()
        opt.zero_grad()
        steps.append({name: {"requires_grad": getattr(bn, name).requires_grad,
                             "has_grad_fn": getattr(bn, name).grad_fn is not None} for name in ("means", "vars")})
    return steps


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_running_statistics_carry_no_graph(probe):
    steps = probe(observe_batchnorm_buffers_while_training, [images((4, 3, 4, 4), seed=step) for step in range(3)])
    for buffers in steps:
        for name, buffer in buffers.items():
            assert not buffer["requires_grad"] and not buffer["has_grad_fn"], (
                f"after a training step BatchNorm(3).{name} is part of the autograd graph "
                f"(requires_grad={buffer['requires_grad']}); update the running statistics without gradients")


def observe_batchnorm_one_value(ch, x_train, x_eval):
    bn = ch.BatchNorm(3)
    training = outcome(bn, x_train)
    bn.eval()
    return {"training": training, "eval_shape": list(bn(x_eval).shape)}


@exercise("ch08.BatchNorm", points=4)
def test_batchnorm_refuses_one_value_per_channel_in_training(probe):
    g = torch.Generator().manual_seed(0)
    seen = probe(observe_batchnorm_one_value, torch.randn(1, 3, 1, 1, generator=g), torch.randn(1, 3, 1, 1, generator=g))
    assert seen["training"].get("raised") == "ValueError", (
        "BatchNorm(3) in training mode on a (1, 3, 1, 1) input (one value per channel) must raise ValueError, "
        f"as nn.BatchNorm2d does; it gave {seen['training']}")
    assert seen["eval_shape"] == [1, 3, 1, 1], "in eval mode a single value per channel is fine"


@exercise("ch08.BatchNorm", points=4, handwritten=True)
def test_batchnorm_is_written_by_hand(probe):
    by_hand(probe, "BatchNorm", [3], images((4, 3, 5, 5), seed=30), "BatchNorm(3), in training and eval",
            "Compute the per-channel mean and biased variance over (0, 2, 3) yourself.", train_then_eval=True)


# --- LayerNorm ----------------------------------------------------------------------------------

def observe_layernorm(ch, eps, x):
    ln = ch.LayerNorm(eps=eps)
    params = dict(ln.named_parameters())
    seen = {"params": {name: list(p.shape) for name, p in params.items()}}
    if sorted(params) == ["add", "mult"]:
        with torch.no_grad():
            ln.mult.fill_(1.7)
            ln.add.fill_(-0.4)
        seen["out"], seen["grad_x"] = fwd_bwd(ln, x, seed=3)
    return seen


@exercise("ch08.LayerNorm", points=2)
@pytest.mark.parametrize("shape,eps", [((4, 3, 5, 5), 1e-5), ((2, 8, 3, 4), 0.1), ((1, 1, 6, 6), 1e-5)])
def test_layernorm_matches_f_layer_norm(probe, shape, eps):
    x = images(shape, seed=len(shape) + shape[1])
    seen = probe(observe_layernorm, eps, x)
    params = seen["params"]
    assert sorted(params) == ["add", "mult"], f"LayerNorm parameters: expected mult and add, got {sorted(params)}"
    assert params["mult"] == [1] and params["add"] == [1], "mult and add are scalars of shape (1,)"
    ref_out, ref_grad_x = fwd_bwd(lambda t: F.layer_norm(t, t.shape[1:], eps=eps) * 1.7 - 0.4, x, seed=3)
    call = f"LayerNorm(eps={eps}) on {tuple(shape)}"
    close(seen["out"], ref_out, f"{call}: output (mean and biased variance over axes (1, 2, 3), eps inside the sqrt)")
    close(seen["grad_x"], ref_grad_x, f"{call}: gradient with respect to the input")


def observe_layernorm_batch_and_modes(ch, x, changed):
    ln = ch.LayerNorm()
    out, out_changed = ln(x), ln(changed)
    ln.eval()
    return {"out": out, "out_changed": out_changed, "out_eval": ln(x)}


@exercise("ch08.LayerNorm", points=2)
def test_layernorm_items_are_independent_and_modes_agree(probe):
    x = images((5, 3, 4, 4), seed=4)
    changed = x.clone()
    changed[1:] = images((4, 3, 4, 4), seed=5, scale=10.0)
    seen = probe(observe_layernorm_batch_and_modes, x, changed)
    close(seen["out_changed"][0], seen["out"][0],
          "LayerNorm: item 0's output must not depend on the other items of the batch")
    close(seen["out_eval"], seen["out"], "LayerNorm: eval mode must give the same output as training mode")


@exercise("ch08.LayerNorm", points=2)
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_layernorm_on_non_contiguous_inputs(probe, layout):
    check_layout(probe, "LayerNorm", [], layout, lambda t: F.layer_norm(t, t.shape[1:]))


@exercise("ch08.LayerNorm", points=2, handwritten=True)
def test_layernorm_is_written_by_hand(probe):
    by_hand(probe, "LayerNorm", [], images((2, 3, 4, 4), seed=31), "LayerNorm()(x)",
            "Compute each image's mean and biased variance over (1, 2, 3) yourself.")


# --- InstanceNorm -------------------------------------------------------------------------------

def observe_instancenorm(ch, nf, eps, weight, bias, x):
    inorm = ch.InstanceNorm(nf, eps=eps)
    seen = {"params": sorted(dict(inorm.named_parameters())),
            "mults_shape": list(inorm.mults.shape) if isinstance(getattr(inorm, "mults", None), torch.Tensor) else None}
    if seen["params"] == ["adds", "mults"] and seen["mults_shape"] == [nf, 1, 1]:
        set_mults_adds(inorm, weight, bias)
        seen["out"], seen["grad_x"] = fwd_bwd(inorm, x, seed=4)
        inorm.eval()
        seen["out_eval"] = inorm(x)
    return seen


@exercise("ch08.InstanceNorm", points=2)
@pytest.mark.parametrize("shape,eps", [((4, 3, 5, 5), 1e-5), ((2, 6, 3, 4), 0.1), ((3, 1, 6, 2), 1e-5)])
def test_instancenorm_matches_f_instance_norm(probe, shape, eps):
    nf = shape[1]
    weight, bias = random_affine(nf, seed=nf)
    x = images(shape, seed=nf + 20)
    seen = probe(observe_instancenorm, nf, eps, weight, bias, x)
    assert seen["params"] == ["adds", "mults"], "InstanceNorm parameters: mults and adds"
    assert seen["mults_shape"] == [nf, 1, 1], \
        f"InstanceNorm({nf}).mults shape: expected ({nf}, 1, 1), got {seen['mults_shape']}"
    ref_out, ref_grad_x = fwd_bwd(lambda t: F.instance_norm(t, weight=weight, bias=bias, eps=eps), x, seed=4)
    call = f"InstanceNorm({nf}, eps={eps}) on {tuple(shape)}"
    close(seen["out"], ref_out, f"{call}: output (mean and biased variance over axes (2, 3))")
    close(seen["grad_x"], ref_grad_x, f"{call}: gradient with respect to the input")
    close(seen["out_eval"], seen["out"], f"{call}: eval mode must give the same output as training mode")


@exercise("ch08.InstanceNorm", points=2)
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_instancenorm_on_non_contiguous_inputs(probe, layout):
    check_layout(probe, "InstanceNorm", [4], layout, F.instance_norm)


@exercise("ch08.InstanceNorm", points=2, handwritten=True)
def test_instancenorm_is_written_by_hand(probe):
    by_hand(probe, "InstanceNorm", [3], images((2, 3, 4, 4), seed=32), "InstanceNorm(3)(x)",
            "Compute each channel's mean and biased variance over the pixels (2, 3) yourself.")


# --- GroupNorm ----------------------------------------------------------------------------------

def observe_groupnorm(ch, groups, nf, eps, weight, bias, x):
    ours = ch.GroupNorm(groups, nf, eps=eps)
    seen = {"params": sorted(dict(ours.named_parameters()))}
    if seen["params"] == ["adds", "mults"]:
        set_mults_adds(ours, weight, bias)
        seen["out"], seen["grad_x"] = fwd_bwd(ours, x, seed=5)
        seen["mults_grad"] = ours.mults.grad
    return seen


@exercise("ch08.GroupNorm", points=2)
@pytest.mark.parametrize("groups,eps", [(1, 1e-5), (2, 0.5), (3, 1e-5), (6, 0.5)])
def test_groupnorm_matches_nn_groupnorm(probe, groups, eps):
    nf = 6
    weight, bias = random_affine(nf, seed=groups)
    x = images((3, nf, 4, 5), seed=groups)
    seen = probe(observe_groupnorm, groups, nf, eps, weight, bias, x)
    assert seen["params"] == ["adds", "mults"], "GroupNorm parameters: mults and adds"
    theirs = nn.GroupNorm(groups, nf, eps=eps)
    set_weight_bias(theirs, weight, bias)
    ref_out, ref_grad_x = fwd_bwd(theirs, x, seed=5)
    call = f"GroupNorm({groups}, {nf}, eps={eps}) on (3, {nf}, 4, 5)"
    close(seen["out"], ref_out, f"{call}: output (groups of consecutive channels, eps inside the square root; "
                                "compare nn.GroupNorm)")
    close(seen["grad_x"], ref_grad_x, f"{call}: gradient with respect to the input")
    close(seen["mults_grad"].reshape(-1), theirs.weight.grad, f"{call}: gradient of mults")


def observe_groupnorm_edges(ch, x):
    return {"one_group": ch.GroupNorm(1, 4)(x), "one_per_channel": ch.GroupNorm(4, 4)(x),
            "refused": [outcome(ch.GroupNorm, groups, nf) for groups, nf in [(3, 4), (0, 4)]]}


@exercise("ch08.GroupNorm", points=2)
def test_groupnorm_edge_cases_are_layer_and_instance_norm(probe):
    x = images((2, 4, 3, 3), seed=8)
    seen = probe(observe_groupnorm_edges, x)
    close(seen["one_group"], F.layer_norm(x, x.shape[1:]), "GroupNorm(1, 4) must equal LayerNorm over (C, H, W)")
    close(seen["one_per_channel"], F.instance_norm(x), "GroupNorm(4, 4) must equal InstanceNorm")
    for (groups, nf), result in zip([(3, 4), (0, 4)], seen["refused"]):
        assert result.get("raised") == "ValueError", \
            f"GroupNorm({groups}, {nf}) must raise ValueError ({groups} groups do not divide {nf} channels); it gave {result}"


@exercise("ch08.GroupNorm", points=2)
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_groupnorm_on_non_contiguous_inputs(probe, layout):
    check_layout(probe, "GroupNorm", [2, 4], layout, lambda t: F.group_norm(t, 2))


@exercise("ch08.GroupNorm", points=2, handwritten=True)
def test_groupnorm_is_written_by_hand(probe):
    by_hand(probe, "GroupNorm", [2, 4], images((2, 4, 3, 3), seed=33), "GroupNorm(2, 4)(x)",
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
def test_norm_axes_give_the_statistics_of_pytorchs_layers(probe, kind, ndim, seed):
    if kind == "instance" and ndim == 2:
        result = probe(observe_outcome, "norm_axes", kind, ndim)
        assert result.get("raised") == "ValueError", \
            f"norm_axes('instance', 2) must raise ValueError (no spatial axes to average over); it gave {result}"
        return
    axes = probe.norm_axes(kind, ndim)
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
def test_norm_axes_for_images_and_bad_arguments(probe):
    expected = {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}
    got = {kind: probe.norm_axes(kind) for kind in expected}
    assert got == expected, f"norm_axes(kind) for (N, C, H, W) images: expected {expected}, got {got}"
    for args in [("weird", 4), ("batch", 1), ("instance", 2)]:
        result = probe(observe_outcome, "norm_axes", *args)
        assert result.get("raised") == "ValueError", \
            f"norm_axes{args} must raise ValueError; it gave {result}"


# --- conv_norm_layer ----------------------------------------------------------------------------

def observe_conv_norm_layer(ch, ks, stride, x):
    layer = ch.conv_norm_layer(3, 8, ks=ks, stride=stride, norm=nn.BatchNorm2d, act=nn.Tanh)
    seen = {"is_sequential": isinstance(layer, nn.Sequential), "kinds": [type(m).__name__ for m in layer]}
    conv, norm = layer[0], layer[1]
    seen["conv"] = tuple(getattr(conv, attr, None) for attr in ("in_channels", "out_channels", "kernel_size", "stride",
                                                                "padding"))
    seen["conv_bias_is_none"] = getattr(conv, "bias", None) is None
    seen["norm_features"] = getattr(norm, "num_features", None)
    seen["norm"] = repr(norm)
    seen["out_shape"] = list(layer(x).shape)
    return seen


@exercise("ch08.conv_norm_layer", points=1)
@pytest.mark.parametrize("ks,stride", [(3, 2), (5, 2), (3, 1)])
def test_conv_norm_layer_is_conv_then_norm_then_act(probe, ks, stride):
    seen = probe(observe_conv_norm_layer, ks, stride, images((2, 3, 28, 28), seed=ks))
    kinds = seen["kinds"]
    assert seen["is_sequential"] and kinds == ["Conv2d", "BatchNorm2d", "Tanh"], \
        f"conv_norm_layer(3, 8, norm=nn.BatchNorm2d, act=nn.Tanh): expected Sequential(Conv2d, BatchNorm2d, Tanh), got {kinds}"
    want = (3, 8, (ks, ks), (stride, stride), (ks // 2, ks // 2))
    assert seen["conv"] == want, f"conv (in, out, kernel, stride, padding): expected {want}, got {seen['conv']}"
    assert seen["conv_bias_is_none"], "a convolution followed by a normalisation needs no bias: the mean subtraction removes it"
    assert seen["norm_features"] == 8, f"the norm must be built as norm(nf) = norm(8), got {seen['norm']}"
    size = (28 + 2 * (ks // 2) - ks) // stride + 1
    assert seen["out_shape"] == [2, 8, size, size], \
        f"output shape for a (2, 3, 28, 28) input: expected (2, 8, {size}, {size}), got {tuple(seen['out_shape'])}"


def observe_conv_norm_layer_variants(ch):
    layer = ch.conv_norm_layer(1, 4, norm=partial(nn.GroupNorm, 2))
    plain = ch.conv_norm_layer(1, 4, norm=None)
    return {"kinds": [type(m).__name__ for m in layer], "repr": repr(layer),
            "num_channels": getattr(layer[1], "num_channels", None),
            "plain_kinds": [type(m).__name__ for m in plain], "plain_repr": repr(plain),
            "plain_has_bias": getattr(plain[0], "bias", None) is not None}


@exercise("ch08.conv_norm_layer", points=1)
def test_conv_norm_layer_defaults_and_no_norm(probe):
    seen = probe(observe_conv_norm_layer_variants)
    assert seen["kinds"] == ["Conv2d", "GroupNorm", "ReLU"], \
        f"conv_norm_layer(1, 4, norm=partial(nn.GroupNorm, 2)) with the default act: got {seen['repr']}"
    assert seen["num_channels"] == 4
    assert seen["plain_kinds"] == ["Conv2d", "ReLU"], f"conv_norm_layer(1, 4, norm=None): got {seen['plain_repr']}"
    assert seen["plain_has_bias"], "without a normalisation layer the convolution keeps its bias"


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


def observe_running_batchnorm_made(ch, nf):
    return parameters_and_buffers(ch.RunningBatchNorm(nf))


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_parameters_and_buffers(probe):
    seen = probe(observe_running_batchnorm_made, 5)
    assert sorted(seen["params"]) == ["adds", "mults"], "RunningBatchNorm parameters: mults and adds"
    buffers = seen["buffers"]
    assert sorted(buffers) == ["batch", "count", "sqrs", "sums"], (
        f"RunningBatchNorm(5) buffers: expected batch, count, sqrs and sums, got {sorted(buffers)} "
        "(everything the layer needs to resume must be in state_dict)")
    assert buffers["sums"].shape == (1, 5, 1, 1) and buffers["sqrs"].shape == (1, 5, 1, 1)
    assert int(buffers["batch"]) == 0 and float(buffers["count"].sum()) == 0.0
    assert buffers["batch"].dtype == torch.int64 and buffers["batch"].shape == (), (
        f"RunningBatchNorm(5).batch: expected an int64 zero of shape (), got {buffers['batch'].dtype} of shape "
        f"{tuple(buffers['batch'].shape)} (a float32 count stops counting exactly past 2**24 samples)")


def observe_running_batchnorm(ch, nf, mom, eps, weight, bias, xs, x_eval):
    rbn = ch.RunningBatchNorm(nf, mom=mom, eps=eps)
    set_mults_adds(rbn, weight, bias)
    outs = [rbn(x).detach() for x in xs]
    batch = getattr(rbn, "batch", None)
    rbn.eval()
    return {"outs": outs, "batch": batch, "eval_out": rbn(x_eval).detach()}


@exercise("ch08.RunningBatchNorm", points=3)
@pytest.mark.parametrize("sizes", [[32, 32, 32], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [5, 1, 16, 2, 7]])
def test_running_batchnorm_matches_the_weighted_statistics(probe, sizes):
    nf, mom, eps = 3, 0.1, 1e-5
    weight, bias = random_affine(nf, seed=len(sizes))
    mults, adds = weight.view(-1, 1, 1), bias.view(-1, 1, 1)
    xs = [images((bs, nf, 3, 3), seed=100 + i) for i, bs in enumerate(sizes)]
    x_eval = images((4, nf, 2, 2), seed=7, scale=5.0)
    seen = probe(observe_running_batchnorm, nf, mom, eps, weight, bias, xs, x_eval)
    for i, (x, out) in enumerate(zip(xs, seen["outs"])):
        expected = expected_running_output(xs[:i + 1], x, mom, eps, mults, adds, training=True)
        close(out, expected, f"RunningBatchNorm(3) training on batch sizes {sizes[:i + 1]}: output of the "
                             "last batch (running sums, squares and counts mixed with mom1)",
              atol=1e-4, rtol=1e-4)
    batch = seen["batch"]
    assert isinstance(batch, (int, torch.Tensor)) and int(batch) == sum(sizes), \
        f"RunningBatchNorm.batch after batch sizes {sizes}: expected {sum(sizes)}, got {batch!r}"
    close(seen["eval_out"], expected_running_output(xs, x_eval, mom, eps, mults, adds, training=False),
          f"RunningBatchNorm(3) in eval mode after batch sizes {sizes}: output (running statistics only)",
          atol=1e-4, rtol=1e-4)


def observe_running_batchnorm_gradient(ch, nf, mom, eps, weight, bias, batches):
    rbn = ch.RunningBatchNorm(nf, mom=mom, eps=eps)
    set_mults_adds(rbn, weight, bias)
    for x in batches[:-1]:
        rbn(x)
    out, grad_x = fwd_bwd(rbn, batches[-1], seed=11)
    return {"out": out, "grad_x": grad_x}


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_gradient_flows_through_the_running_sums(probe):
    nf, mom, eps = 3, 0.1, 1e-5
    weight, bias = random_affine(nf, seed=9)
    mults, adds = weight.view(-1, 1, 1), bias.view(-1, 1, 1)
    batches = [images((bs, nf, 3, 3), seed=200 + i) for i, bs in enumerate([8, 8, 4])]
    seen = probe(observe_running_batchnorm_gradient, nf, mom, eps, weight, bias, batches)
    ref_out, ref_grad_x = fwd_bwd(
        lambda t: expected_running_output([*batches[:-1], t], t, mom, eps, mults, adds, training=True),
        batches[-1], seed=11)
    call = "RunningBatchNorm(3) in training, third batch (sizes 8, 8, 4)"
    close(seen["out"], ref_out, f"{call}: output", atol=1e-4, rtol=1e-4)
    close(seen["grad_x"], ref_grad_x, f"{call}: gradient with respect to the input (the batch's sums and sums of "
                                      "squares are mixed into the running ones *with* their gradient; only the "
                                      "buffers are detached)", atol=1e-4, rtol=1e-4)


def observe_running_batchnorm_outputs(ch, nf, batches):
    """The outputs of a fresh RunningBatchNorm(nf) in training mode, batch after batch."""
    rbn = ch.RunningBatchNorm(nf)
    return [rbn(x).detach() for x in batches]


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_clamps_the_variance_early(probe):
    x = images((2, 2, 3, 3), seed=1, scale=0.01)  # variance about 1e-4, far below the 0.01 floor
    later = [images((2, 2, 3, 3), seed=2 + i, scale=0.01) for i in range(10)]
    outs = probe(observe_running_batchnorm_outputs, 2, [x, *later])
    mean = x.double().mean((0, 2, 3), keepdim=True)
    expected = ((x.double() - mean) / math.sqrt(0.01 + 1e-5)).float()
    close(outs[0], expected, "RunningBatchNorm(2) on a first batch of 2 with variance 1e-4: output "
                             "(while fewer than 20 samples are seen, the variance is clamped to at least 0.01)",
          atol=1e-5, rtol=1e-4)
    assert outs[-1].std() > 0.5, (
        "RunningBatchNorm after 22 samples of variance 1e-4: the 0.01 floor must stop applying at 20 samples, "
        f"but the output's std is {outs[-1].std():.3g} instead of about 1")
    assert outs[9].std() > 0.5, (
        "RunningBatchNorm on its 10th batch of 2, 20 samples seen with variance 1e-4: the floor applies while "
        f"batch < 20, so not at 20; but the output's std is {outs[9].std():.3g} instead of about 1")


def observe_running_batchnorm_train_then_eval(ch, nf, batches, x_eval):
    rbn = ch.RunningBatchNorm(nf)
    outs = [rbn(x).detach() for x in batches]
    rbn.eval()
    return {"outs": outs, "eval_out": rbn(x_eval).detach()}


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_is_finite_for_tiny_batches(probe):
    for bs in (1, 2):
        seen = probe(observe_running_batchnorm_train_then_eval, 4, [images((bs, 4, 1, 1), seed=step) for step in range(30)],
                     images((3, 4, 1, 1), seed=50))
        for step, out in enumerate(seen["outs"]):
            assert out.isfinite().all(), f"RunningBatchNorm(4) on batches of {bs} single pixels: non-finite output at step {step}"
        out = seen["eval_out"]
        assert out.isfinite().all(), f"RunningBatchNorm(4) after batches of {bs}, in eval mode: non-finite output"
        assert out.abs().max() < 20, f"RunningBatchNorm(4) after batches of {bs}, in eval mode: output up to {out.abs().max():.3g}"


def observe_running_batchnorm_float64(ch, batches, x_eval):
    """A RunningBatchNorm(3) converted with .double(), trained on float64 batches, then in eval mode."""
    rbn = ch.RunningBatchNorm(3).double()
    outs = [rbn(x).detach() for x in batches]
    rbn.eval()
    eval_out = rbn(x_eval).detach()
    return {"outs": outs, "eval_out": eval_out, "dtypes": [str(o.dtype) for o in [*outs, eval_out]],
            "buffers": {name: str(b.dtype) for name, b in rbn.named_buffers()}}


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_in_float64(probe):
    batches = [images((bs, 3, 3, 3), seed=300 + i, dtype=torch.float64) for i, bs in enumerate([4, 1, 6])]
    x_eval = images((2, 3, 3, 3), seed=310, dtype=torch.float64)
    seen = probe(observe_running_batchnorm_float64, batches, x_eval)
    assert seen["dtypes"] == ["torch.float64"] * 4, (
        f"RunningBatchNorm(3).double() on float64 batches: outputs must be float64, got {seen['dtypes']}")
    floating = {name: dtype for name, dtype in seen["buffers"].items() if name != "batch"}
    assert floating == {"sums": "torch.float64", "sqrs": "torch.float64", "count": "torch.float64"}, (
        f"RunningBatchNorm(3).double(): the float buffers must be float64, got {seen['buffers']}")
    ones, zeros = torch.ones(3, 1, 1), torch.zeros(3, 1, 1)
    for i, out in enumerate(seen["outs"]):
        expected = expected_running_output(batches[:i + 1], batches[i], 0.1, 1e-5, ones, zeros, training=True)
        close(out.float(), expected, f"RunningBatchNorm(3).double(), training batch {i} (sizes 4, 1, 6): output "
              "(what is mixed into the float64 buffers must be made in their dtype and on their device)",
              atol=1e-4, rtol=1e-4)
    close(seen["eval_out"].float(), expected_running_output(batches, x_eval, 0.1, 1e-5, ones, zeros, training=False),
          "RunningBatchNorm(3).double() in eval mode: output", atol=1e-4, rtol=1e-4)


def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def observe_running_batchnorm_eval(ch, x_fresh, batches, x, other):
    rbn = ch.RunningBatchNorm(3)
    fresh = rbn.eval()(x_fresh)
    rbn.train()
    for batch in batches:
        rbn(batch)
    rbn.eval()
    state = state_of(rbn)
    out, out_other = rbn(x), rbn(other)
    return {"fresh": fresh, "out": out, "out_other": out_other, "state_before": state, "state_after": state_of(rbn)}


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_eval_uses_only_running_statistics(probe):
    x_fresh = images((2, 3, 2, 2), seed=1)
    batches = [images((8, 3, 4, 4), seed=step) for step in range(5)]
    x = images((4, 3, 4, 4), seed=20)
    other = x.clone()
    other[1:] *= 10
    seen = probe(observe_running_batchnorm_eval, x_fresh, batches, x, other)
    close(seen["fresh"], x_fresh, "a fresh RunningBatchNorm(3) in eval mode: expected x * mults + adds (x itself)")
    close(seen["out_other"][0], seen["out"][0],
          "RunningBatchNorm in eval mode: item 0's output must not depend on the rest of the batch")
    after = seen["state_after"]
    for k, v in seen["state_before"].items():
        close(after.get(k), v, f"RunningBatchNorm buffer {k!r} after eval-mode calls (must not change)")


def observe_running_batchnorm_restored(ch, weight, bias, batches, x):
    rbn = ch.RunningBatchNorm(3)
    set_mults_adds(rbn, weight, bias)
    for batch in batches:
        rbn(batch)
    restored = ch.RunningBatchNorm(3)
    restored.load_state_dict(rbn.state_dict())
    outs = {}
    for mode in ("eval", "train"):
        getattr(rbn, mode)(), getattr(restored, mode)()
        outs[mode] = {"restored": restored(x), "original": rbn(x)}
    return outs


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_state_dict_round_trip(probe):
    weight, bias = random_affine(3, seed=4)
    batches = [images((2, 3, 3, 3), seed=step, scale=0.05) for step in range(12)]  # 24 samples: past the 20-sample clamp
    outs = probe(observe_running_batchnorm_restored, weight, bias, batches, images((2, 3, 3, 3), seed=40, scale=0.05))
    for mode in ("eval", "train"):
        close(outs[mode]["restored"], outs[mode]["original"], f"RunningBatchNorm restored from state_dict, {mode} mode: "
              "output must match the original's exactly", atol=0, rtol=0)


def observe_running_batchnorm_training_steps(ch, xs):
    rbn = ch.RunningBatchNorm(3)
    opt = torch.optim.SGD(rbn.parameters(), lr=0.1)
    steps = []
    for x in xs:
        x.requires_grad_()
        rbn(x).pow(3).mean().backward()
        step = {"x_grad": x.grad is not None, "mults_grad": getattr(rbn.mults, "grad", None) is not None}
        opt.step()
        opt.zero_grad()
        step["buffers"] = {name: {"requires_grad": buffer.requires_grad, "has_grad_fn": buffer.grad_fn is not None}
                           for name, buffer in rbn.named_buffers()}
        steps.append(step)
    return steps


@exercise("ch08.RunningBatchNorm", points=3)
def test_running_batchnorm_trains_without_stale_graphs(probe):
    steps = probe(observe_running_batchnorm_training_steps, [images((4, 3, 4, 4), seed=step) for step in range(3)])
    for step in steps:
        assert step["x_grad"] and step["mults_grad"], "gradients must reach the input and mults"
        for name, buffer in step["buffers"].items():
            assert not buffer["has_grad_fn"] and not buffer["requires_grad"], (
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


def fold_case(bias, stride, padding, dilation, groups):
    """The convolution and BatchNorm of one case, made the same way (same seeds) in the observer and the test."""
    torch.manual_seed(groups + stride)
    conv = nn.Conv2d(4, 8, 3, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    return conv, trained_looking_bn(8, seed=stride)


FOLD_ATTRIBUTES = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")


def conv_and_bn_state(conv, bn):
    return {**{f"conv.{k}": v.detach().clone() for k, v in conv.state_dict().items()},
            **{f"bn.{k}": v.detach().clone() for k, v in bn.state_dict().items()}}


def observe_fold(ch, case, x):
    conv, bn = fold_case(*case)
    fused = ch.fold_batchnorm(conv, bn)
    return {"out": fused(x), "bias_is_none": getattr(fused, "bias", None) is None,
            "attributes": {attr: getattr(fused, attr, None) for attr in FOLD_ATTRIBUTES},
            "originals_after": conv_and_bn_state(conv, bn)}


@exercise("ch08.fold_batchnorm", points=2)
@pytest.mark.parametrize("bias,stride,padding,dilation,groups", [
    (False, 1, 1, 1, 1), (True, 2, 0, 1, 1), (True, 1, 2, 2, 2), (False, 2, 1, 1, 4)])
def test_fold_batchnorm_equals_conv_then_bn(probe, bias, stride, padding, dilation, groups):
    case = (bias, stride, padding, dilation, groups)
    x = images((2, 4, 9, 9), seed=3)
    seen = probe(observe_fold, case, x)
    conv, bn = fold_case(*case)  # the observed conv and bn, rebuilt from the same seeds
    with torch.no_grad():
        expected = bn(conv(x))
    close(seen["out"], expected, f"fold_batchnorm({conv}, BatchNorm2d(8, eps=1e-3)) applied to x, "
                                 "compared with bn(conv(x)) in eval mode", atol=1e-4, rtol=1e-4)
    assert not seen["bias_is_none"], "the folded convolution always needs a bias (it carries the BatchNorm's shift)"
    for attr in FOLD_ATTRIBUTES:
        assert seen["attributes"][attr] == getattr(conv, attr), f"folded conv's {attr}: expected {getattr(conv, attr)}"
    after = seen["originals_after"]
    for k, v in conv_and_bn_state(conv, bn).items():
        close(after.get(k), v, f"fold_batchnorm must leave the original conv and bn unchanged ({k})", atol=0, rtol=0)


def observe_fold_where(ch, where, x):
    """fold_batchnorm of a float64 conv and bn (its weight's dtype, its output on the float64 `x`), or of a conv
    and bn on the 'meta' device (standing in for a GPU): where its weight and bias are."""
    torch.manual_seed(3)
    if where == "meta":
        fused = ch.fold_batchnorm(nn.Conv2d(4, 8, 3, padding=1, device="meta"),
                                  nn.BatchNorm2d(8, device="meta").eval())
        return {"weight": str(fused.weight.device), "bias": str(fused.bias.device)}
    conv, bn = nn.Conv2d(4, 8, 3, padding=1).double(), trained_looking_bn(8, seed=3).double()
    fused = ch.fold_batchnorm(conv, bn)
    return {"weight": str(fused.weight.dtype), "bias": str(fused.bias.dtype),
            "out": fused(x) if fused.weight.dtype == fused.bias.dtype == x.dtype else None}


@exercise("ch08.fold_batchnorm", points=2)
@pytest.mark.parametrize("where", ["float64", "meta"])
def test_fold_batchnorm_keeps_dtype_and_device(probe, where):
    x = images((2, 4, 6, 6), seed=4, dtype=torch.float64)
    seen = probe(observe_fold_where, where, x)
    want = "torch.float64" if where == "float64" else "meta"
    assert (seen["weight"], seen["bias"]) == (want, want), (
        f"fold_batchnorm of a {where} conv and BatchNorm2d: the folded conv's weight and bias must be {want} "
        f"like the originals, got {seen['weight']} and {seen['bias']} (a new nn.Conv2d is float32 on the CPU "
        "until it is moved)")
    if where == "float64":
        torch.manual_seed(3)
        conv, bn = nn.Conv2d(4, 8, 3, padding=1).double(), trained_looking_bn(8, seed=3).double()
        with torch.no_grad():
            expected = bn(conv(x))
        close(seen["out"], expected, "float64 fold_batchnorm(conv, bn)(x) against bn(conv(x))", atol=1e-10, rtol=1e-10)


def observe_fold_padding_mode(ch, x):
    torch.manual_seed(6)
    fused = ch.fold_batchnorm(nn.Conv2d(4, 8, 3, padding=1, padding_mode="reflect"), trained_looking_bn(8, seed=6))
    return {"out": fused(x), "padding_mode": getattr(fused, "padding_mode", None)}


@exercise("ch08.fold_batchnorm", points=2)
def test_fold_batchnorm_keeps_the_padding_mode(probe):
    x = images((2, 4, 7, 7), seed=5)
    seen = probe(observe_fold_padding_mode, x)
    torch.manual_seed(6)
    conv, bn = nn.Conv2d(4, 8, 3, padding=1, padding_mode="reflect"), trained_looking_bn(8, seed=6)
    with torch.no_grad():
        expected = bn(conv(x))
    assert seen["padding_mode"] == "reflect", \
        f"fold_batchnorm of a conv with padding_mode='reflect': the folded conv has padding_mode={seen['padding_mode']!r}"
    close(seen["out"], expected, "fold_batchnorm(Conv2d(4, 8, 3, padding=1, padding_mode='reflect'), bn)(x) against "
                                 "bn(conv(x)) (the border pixels depend on the padding mode)", atol=1e-4, rtol=1e-4)


def observe_fold_independence(ch):
    torch.manual_seed(5)
    conv, bn = nn.Conv2d(2, 3, 3, bias=True), trained_looking_bn(3, seed=5)
    fused = ch.fold_batchnorm(conv, bn)
    seen = {"type": type(fused).__name__, "is_conv2d": isinstance(fused, nn.Conv2d)}
    if seen["is_conv2d"]:
        seen["weight_before"] = conv.weight.detach().clone()
        with torch.no_grad():
            fused.weight.zero_()
        seen["weight_after"] = conv.weight.detach()
    return seen


@exercise("ch08.fold_batchnorm", points=2)
def test_fold_batchnorm_returns_independent_weights(probe):
    seen = probe(observe_fold_independence)
    assert seen["is_conv2d"], f"fold_batchnorm must return an nn.Conv2d, got {seen['type']}"
    close(seen["weight_after"], seen["weight_before"],
          "changing the folded conv's weight must not change the original conv", atol=0, rtol=0)


def observe_fusion_builtin_calls(ch):
    conv, bn = nn.Conv2d(2, 3, 3, bias=False).eval(), trained_looking_bn(3, seed=6)
    with spying(FUSION_BUILTINS) as called:
        ch.fold_batchnorm(conv, bn)
    return called


@exercise("ch08.fold_batchnorm", points=2, handwritten=True)
def test_fold_batchnorm_is_written_by_hand(probe):
    call = "fold_batchnorm(conv, bn)"
    instead = ("PyTorch's own folding does the whole exercise. Scale each output channel's filter by "
               "weight / sqrt(running_var + eps) and work out the new bias yourself.")
    assert_written_by_hand(probe(observe_fusion_builtin_calls), call, instead)
    assert_no_oracle_in_source(probe.references("fold_batchnorm", FUSION_NAMES), call, instead)
