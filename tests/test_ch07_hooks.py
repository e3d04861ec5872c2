"""Grades chapter 7: hooks, activation statistics and histograms, GeneralRelu, Kaiming init, LSUV.

Oracles: what PyTorch itself reports (the layer outputs computed directly, `module._forward_hooks`,
gradients from `retain_grad` and `gradcheck`), NumPy's `histogram` for the bin counts, closed-form
formulas (the GeneralRelu formula, Kaiming's standard deviation), direct counts of activations,
and `weakref` + `gc` for objects that must be freed.

Each test asks `probe(observe_..., *inputs)`: the `observe_...` function builds the model from seeds and
sizes, runs the learner's hooks and layers on it where the learner's code runs, and returns plain data
(recorded statistics, outputs, weights, hook counts, `a is b` flags); the test computes its oracles on the
same inputs (or on the same model rebuilt from the same seed) and judges here (grader/probe.py).
"""
import gc
import math
import weakref
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from grader.probe import outcome
from solutions.ch02_datamodel import ListContainer
from solutions.ch05_learner import (Callback, CancelTrainException, DataBunch, Dataset, Learner, Runner,
                                    get_dls)

exercise = pytest.mark.exercise


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These tensors are tiny: one thread is faster than several fighting over a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_cnn(seed=0):
    """Three layers whose outputs go negative and positive: conv, leaky ReLU, conv."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(4, 3, 3, stride=2))


def layer_outputs(model, x):
    """Each layer's output, computed directly (no hooks involved)."""
    outs = []
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            outs.append(x)
    return outs


def forward_hook_count(modules):
    return [len(m._forward_hooks) for m in modules]


def recorder(calls):
    def f(hook, mod, inp, outp):
        calls.append((hook, mod, inp, outp))
    return f


def index_of(items, obj):
    """The position of `obj` (by identity) in `items`, or -1: how an observer reports which object it saw."""
    return next((i for i, item in enumerate(items) if item is obj), -1)


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def observe_outcome(ch, name, *args, **kwargs):
    """What `ch.<name>(*args, **kwargs)` returned or raised, as data (for a test that expects an error)."""
    return outcome(getattr(ch, name), *args, **kwargs)


# --- Hook -----------------------------------------------------------------------------------------

def observe_hook_call(ch, weight, bias, x):
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    calls = []
    hook = ch.Hook(layer, recorder(calls))
    out = layer(x)
    hook.remove()
    seen = {"n_calls": len(calls)}
    if len(calls) == 1:
        h, mod, inp, outp = calls[0]
        seen.update(hook_is_hook=h is hook, mod_is_layer=mod is layer,
                    inp_is_tuple_of_x=isinstance(inp, tuple) and len(inp) > 0 and inp[0] is x,
                    outp=outp, outp_is_out=outp is out)
    return seen


@exercise("ch07.Hook", points=2)
def test_hook_calls_f_with_the_hook_module_input_and_output(probe):
    g = torch.Generator().manual_seed(0)
    weight, bias, x = torch.randn(2, 3, generator=g), torch.randn(2, generator=g), torch.randn(4, 3, generator=g)
    seen = probe(observe_hook_call, weight, bias, x)
    assert seen["n_calls"] == 1, f"one forward pass should call f once; it was called {seen['n_calls']} times"
    assert seen["hook_is_hook"], "f's first argument must be the Hook object itself (register partial(f, self))"
    assert seen["mod_is_layer"], "f's second argument must be the module the hook is on"
    assert seen["inp_is_tuple_of_x"], "f's third argument is the tuple of the module's inputs"
    outp = seen["outp"]
    assert isinstance(outp, torch.Tensor), f"f's fourth argument must be the module's output, got {outp!r}"
    assert_close(outp, F.linear(x, weight, bias), rtol=1e-6, atol=1e-6,
                 msg="f's fourth argument must be the module's output")
    assert seen["outp_is_out"]


def observe_hook_removal(ch, x):
    calls = []
    layer = nn.ReLU()
    hook = ch.Hook(layer, recorder(calls))
    seen = {"registered": forward_hook_count([layer])}
    hook.remove()
    hook.remove()  # a second remove is harmless
    layer(x)
    seen.update(calls_after_remove=len(calls), after_remove=forward_hook_count([layer]))
    ref = weakref.ref(hook)
    del hook
    gc.collect()
    seen["freed"] = ref() is None
    return seen


@exercise("ch07.Hook", points=2)
def test_hook_remove_unregisters_and_frees_the_hook(probe):
    seen = probe(observe_hook_removal, randn(3, seed=1))
    assert seen["registered"] == [1], "Hook(m, f) must register exactly one forward hook on m"
    assert seen["calls_after_remove"] == 0, "after hook.remove() the function must not be called any more"
    assert seen["after_remove"] == [0], f"after remove() the module still has {seen['after_remove'][0]} forward hook(s)"
    assert seen["freed"], "once removed and no longer referenced, the Hook object must be freed"


# --- Hooks ----------------------------------------------------------------------------------------

def observe_hooks_on_layers(ch, x):
    model = small_cnn()
    calls = []
    with ch.Hooks(model, recorder(calls)) as hooks:
        seen = {"is_list_container": isinstance(hooks, ListContainer), "len": len(hooks),
                "counts": forward_hook_count(model)}
        model(x)
    items = list(getattr(hooks, "items", None) or [])
    seen["modules_called"] = [index_of(model, c[1]) for c in calls]
    seen["hooks_called"] = [index_of(items, c[0]) for c in calls]
    seen["n_items"] = len(items)
    return seen


@exercise("ch07.Hooks", points=3)
def test_hooks_puts_one_hook_on_each_module(probe):
    seen = probe(observe_hooks_on_layers, randn(2, 2, 6, 6, seed=2))
    assert seen["is_list_container"], "Hooks must subclass ListContainer"
    assert seen["len"] == 3, f"expected 3 hooks (one per layer), got {seen['len']}"
    assert seen["counts"] == [1, 1, 1], f"forward hooks per layer: {seen['counts']}"
    assert seen["modules_called"] == [0, 1, 2], "each layer's hook must fire once, in order"
    assert seen["n_items"] == 3 and seen["hooks_called"] == [0, 1, 2], "hooks[i] must be the Hook that fires for layer i"


def observe_hooks_freed(ch):
    model = small_cnn()
    with ch.Hooks(model, recorder([])) as hooks:
        refs = [weakref.ref(h) for h in hooks]
    seen = {"counts": forward_hook_count(model)}
    del hooks
    gc.collect()
    seen["freed"] = [r() is None for r in refs]
    return seen


@exercise("ch07.Hooks", points=3)
def test_hooks_are_removed_and_freed_after_with(probe):
    seen = probe(observe_hooks_freed)
    assert seen["counts"] == [0, 0, 0], \
        f"after the with block, forward hooks per layer are {seen['counts']}; expected none"
    assert all(seen["freed"]), "after the with block the Hook objects must be garbage-collectable"


def raise_inside_hooks(ch, model):
    with ch.Hooks(model, recorder([])):
        raise ValueError("raised inside the block")


def observe_hooks_when_the_block_raises(ch):
    model = small_cnn()
    return {"outcome": outcome(raise_inside_hooks, ch, model), "counts": forward_hook_count(model)}


@exercise("ch07.Hooks", points=3)
def test_hooks_are_removed_when_the_block_raises(probe):
    seen = probe(observe_hooks_when_the_block_raises)
    result = seen["outcome"]
    assert result.get("raised") == "ValueError" and "inside the block" in result.get("message", ""), (
        f"a ValueError raised inside `with Hooks(...)` must propagate out of the block, got {result}")
    assert seen["counts"] == [0, 0, 0], \
        f"an exception in the with block left hooks behind: {seen['counts']}"


def observe_hooks_delitem(ch, x):
    model = small_cnn()
    calls = []
    hooks = ch.Hooks(model, recorder(calls))
    del hooks[0]
    seen = {"len_after_del": len(hooks), "after_del": forward_hook_count(model)}
    hooks.remove()
    seen["after_remove"] = forward_hook_count(model)
    model(x)
    seen["calls"] = len(calls)
    return seen


@exercise("ch07.Hooks", points=3)
def test_hooks_remove_and_delitem(probe):
    seen = probe(observe_hooks_delitem, randn(1, 2, 6, 6, seed=3))
    assert seen["len_after_del"] == 2, f"after del hooks[0], expected 2 hooks left, got {seen['len_after_del']}"
    assert seen["after_del"] == [0, 1, 1], f"del hooks[0] must remove the first layer's hook: {seen['after_del']}"
    assert seen["after_remove"] == [0, 0, 0], f"hooks.remove() must remove all hooks: {seen['after_remove']}"
    assert seen["calls"] == 0


def observe_hooks_del_slice(ch, x):
    """`del hooks[1:]` on three hooks, then `del hooks[-1]` on the one left."""
    model = small_cnn()
    calls = []
    hooks = ch.Hooks(model, recorder(calls))
    del hooks[1:]
    seen = {"len_after_slice": len(hooks), "after_slice": forward_hook_count(model)}
    model(x)
    seen["called_after_slice"] = [index_of(model, c[1]) for c in calls]
    del hooks[-1]
    seen.update(len_after_last=len(hooks), after_last=forward_hook_count(model))
    return seen


@exercise("ch07.Hooks", points=3)
def test_hooks_del_of_a_slice_removes_each_hook(probe):
    seen = probe(observe_hooks_del_slice, randn(1, 2, 6, 6, seed=5))
    assert (seen["len_after_slice"], seen["after_slice"]) == (1, [1, 0, 0]), (
        "del hooks[1:] must remove the hooks of layers 1 and 2 from their modules and drop them: expected 1 hook "
        f"left and forward hooks per layer [1, 0, 0], got {seen['len_after_slice']} and {seen['after_slice']}")
    assert seen["called_after_slice"] == [0], \
        f"after del hooks[1:] only layer 0's hook may fire; fired: {seen['called_after_slice']}"
    assert (seen["len_after_last"], seen["after_last"]) == (0, [0, 0, 0]), (
        f"del hooks[-1] on the last hook: expected none left and no forward hooks, got {seen['len_after_last']} "
        f"and {seen['after_last']}")


def observe_hooks_on_an_iterator(ch, x):
    """Hooks given `model.children()`, an iterator that can be read only once."""
    model = small_cnn()
    calls = []
    with ch.Hooks(model.children(), recorder(calls)) as hooks:
        seen = {"len": len(hooks), "counts": forward_hook_count(model)}
        model(x)
    seen["modules_called"] = [index_of(model, c[1]) for c in calls]
    seen["after"] = forward_hook_count(model)
    return seen


@exercise("ch07.Hooks", points=3)
def test_hooks_takes_an_iterator_of_modules(probe):
    seen = probe(observe_hooks_on_an_iterator, randn(2, 2, 6, 6, seed=4))
    assert (seen["len"], seen["counts"]) == (3, [1, 1, 1]), (
        "Hooks(model.children(), f) (an iterator, readable once) must put one hook on each of the 3 layers; "
        f"got {seen['len']} hooks and forward hooks per layer {seen['counts']}")
    assert seen["modules_called"] == [0, 1, 2], "each layer's hook must fire once, in order"
    assert seen["after"] == [0, 0, 0], f"after the with block, forward hooks per layer are {seen['after']}"


# --- HooksCallback (beyond) -----------------------------------------------------------------------

def tiny_fit(ch, epochs=2, extra_cbs=(), modules=None):
    """Fit a 3-layer MLP on 12 random points (3 training batches, 1 validation batch per epoch)."""
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randn(12, 2)
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:4], y[:4]), bs=4))
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    calls = []

    def count(hook, mod, inp, outp):
        calls.append((mod, mod.training))

    cb = ch.HooksCallback(count, modules=modules(model) if modules else None)
    run = Runner(cbs=[cb, *extra_cbs])
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.mse_loss, data)
    return run, learn, model, cb, calls


def observe_hooks_callback_fit(ch, epochs, layers=None):
    """Fit with HooksCallback (on `layers`, indices into the model, or by default); which layers its hook saw."""
    modules = None if layers is None else (lambda model: [model[i] for i in layers])
    run, learn, model, cb, calls = tiny_fit(ch, epochs=epochs, modules=modules)
    run.fit(epochs, learn)
    return {"counts": forward_hook_count(model), "n_hooks": len(cb.hooks),
            "calls": [(index_of(model, mod), bool(training)) for mod, training in calls]}


@exercise("ch07.HooksCallback", points=2)
def test_hooks_callback_hooks_every_layer_for_the_fit(probe):
    seen = probe(observe_hooks_callback_fit, 2)
    assert seen["counts"] == [0, 0, 0], f"hooks left on the layers after the fit: {seen['counts']}"
    assert seen["n_hooks"] == 3, f"expected one hook per layer of the model (3), got {seen['n_hooks']}"
    for i, layer in enumerate(("Linear(4, 5)", "ReLU()", "Linear(5, 2)")):
        n_train = sum(1 for index, training in seen["calls"] if index == i and training)
        n_valid = sum(1 for index, training in seen["calls"] if index == i and not training)
        assert (n_train, n_valid) == (6, 2), \
            f"{layer}: 2 epochs of 3 training and 1 validation batches should call its hook (6, 2) times, got {(n_train, n_valid)}"


def observe_hooks_callback_two_fits(ch):
    """One HooksCallback (default modules) on one runner, fitted twice: what its hook saw in each fit."""
    run, learn, model, cb, calls = tiny_fit(ch)
    run.fit(1, learn)
    first = [index_of(model, mod) for mod, _ in calls]
    del calls[:]
    counts_between = forward_hook_count(model)
    run.fit(1, learn)
    return {"first": first, "second": [index_of(model, mod) for mod, _ in calls],
            "between": counts_between, "after": forward_hook_count(model)}


@exercise("ch07.HooksCallback", points=2)
def test_hooks_callback_hooks_again_on_a_second_fit(probe):
    seen = probe(observe_hooks_callback_two_fits)
    expected = [0, 1, 2] * 4  # 3 training and 1 validation batch per epoch, 3 layers
    assert seen["first"] == expected, f"first fit: the hooked layers fired {seen['first']}, expected {expected}"
    assert seen["between"] == [0, 0, 0], f"hooks left on the layers after the first fit: {seen['between']}"
    assert seen["second"] == expected, (
        "the same HooksCallback fitted a second time must hook the model's children again (model.children() "
        f"is an iterator: read it anew at each begin_fit); the hooked layers fired {seen['second']}, "
        f"expected {expected}")
    assert seen["after"] == [0, 0, 0], f"hooks left on the layers after the second fit: {seen['after']}"


class StopAtOnce(Callback):
    def after_step(self):
        raise CancelTrainException()


class Crash(Callback):
    def after_pred(self):
        raise KeyError("crash inside the fit")


def observe_hooks_callback_stopped(ch):
    run, learn, model, cb, calls = tiny_fit(ch, extra_cbs=[StopAtOnce()])
    run.fit(2, learn)
    seen = {"cancelled": forward_hook_count(model)}
    run, learn, model, cb, calls = tiny_fit(ch, extra_cbs=[Crash()])
    seen["crash"] = outcome(run.fit, 1, learn)
    seen["crashed"] = forward_hook_count(model)
    return seen


@exercise("ch07.HooksCallback", points=2)
def test_hooks_callback_removes_hooks_when_the_fit_stops_early(probe):
    seen = probe(observe_hooks_callback_stopped)
    assert seen["cancelled"] == [0, 0, 0], f"a cancelled fit left hooks behind: {seen['cancelled']}"
    assert seen["crash"].get("raised") == "KeyError", \
        f"a KeyError raised inside the fit must propagate out of run.fit, got {seen['crash']}"
    assert seen["crashed"] == [0, 0, 0], f"a fit that crashed left hooks behind: {seen['crashed']}"


@exercise("ch07.HooksCallback", points=2)
def test_hooks_callback_uses_the_modules_it_is_given(probe):
    seen = probe(observe_hooks_callback_fit, 1, [0, 2])
    hooked = {index for index, _ in seen["calls"]}
    assert hooked == {0, 2}, "HooksCallback(f, modules=[...]) must hook exactly those modules"
    assert seen["counts"] == [0, 0, 0]


# --- StatsCallback ----------------------------------------------------------------------------------

def stats_fit(ch, every, epochs=2, extra_cbs=(), n_train=20, bs=4, **kwargs):
    """Fit a small CNN on random 'images' (5 training batches, 1 validation batch per epoch) with
    StatsCallback(every=every, **kwargs) and the extra callbacks; returns (run, model, stats callback)."""
    torch.manual_seed(1)
    x, y = torch.randn(n_train, 2, 6, 6), torch.randint(0, 3, (n_train,))
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:bs], y[:bs]), bs=bs), c_out=3)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, stride=2), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    cb = ch.StatsCallback(every=every, **kwargs)
    run = Runner(cbs=[cb, *extra_cbs])
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data)
    run.fit(epochs, learn)
    return run, model, cb


class HookCounter(Callback):
    """After each forward pass, notes how many forward hooks the model's layers carry, per batch."""
    _order = 10

    def begin_fit(self):
        self.seen = []

    def after_pred(self):
        self.seen.append((self.in_train, int(self.n_iter), sum(len(m._forward_hooks) for m in self.model.modules())))


class OutputCapture(Callback):
    """Keeps the outputs of the model's layers 0 and 2 (the ones with parameters) at every training batch."""
    _order = -5

    def begin_fit(self):
        self.outputs = {}
        self.handles = [self.model[k].register_forward_hook(partial(self.keep, k)) for k in (0, 2)]

    def keep(self, k, mod, inp, outp):
        if mod.training:
            self.outputs.setdefault(int(self.run.n_iter), {})[k] = outp.detach().clone()

    def after_fit(self):
        for handle in self.handles:
            handle.remove()


class StopInTheMiddle(Callback):
    _order = 10

    def after_pred(self):
        if self.in_train and self.n_iter == 3:
            raise CancelTrainException()


def observe_stats_rows(ch, every):
    run, model, cb = stats_fit(ch, every)
    return {"iters": cb.iters, "rows": {key: list(value.shape) for key, value in cb.stats.items()}}


@exercise("ch07.StatsCallback", points=3)
@pytest.mark.parametrize("every", [1, 2, 3, 7])
def test_stats_callback_records_every_nth_training_batch(probe, every):
    seen = probe(observe_stats_rows, every)
    expected = list(range(0, 10, every))
    assert seen["iters"] == expected, (f"StatsCallback(every={every}) over 2 epochs of 5 training batches must record "
                                       f"the batches with n_iter % every == 0, {expected}; it recorded {seen['iters']}")
    assert all(shape[0] == len(expected) for shape in seen["rows"].values()), \
        f"every statistic needs one row per recorded batch ({len(expected)}): {seen['rows']}"


def observe_stats_hooks_per_batch(ch, every):
    counter = HookCounter()
    run, model, cb = stats_fit(ch, every, extra_cbs=[counter])
    return {"seen": counter.seen, "n_with_parameters": len([m for m in model.children() if any(True for _ in m.parameters())]),
            "left": sum(len(m._forward_hooks) for m in model.modules())}


@exercise("ch07.StatsCallback", points=3)
@pytest.mark.parametrize("every", [1, 3])
def test_stats_callback_hooks_only_the_batches_it_records(probe, every):
    seen = probe(observe_stats_hooks_per_batch, every)
    n_hooked = seen["n_with_parameters"]
    for in_train, n_iter, hooks in seen["seen"]:
        recorded = in_train and n_iter % every == 0
        assert hooks == (n_hooked if recorded else 0), (
            f"StatsCallback(every={every}): during {'training' if in_train else 'validation'} batch n_iter={n_iter} the "
            f"model carried {hooks} forward hooks; expected {n_hooked if recorded else 0}: hooks belong only to the batches "
            "that are recorded (register them in begin_batch, remove them in after_batch), so that the others cost nothing")
    assert seen["left"] == 0, "hooks were left on the model after the fit"


def observe_stats_cancelled(ch):
    run, model, cb = stats_fit(ch, 3, extra_cbs=[StopInTheMiddle()])
    return {"left": sum(len(m._forward_hooks) for m in model.modules()), "iters": cb.iters}


@exercise("ch07.StatsCallback", points=3)
def test_stats_callback_leaves_no_hook_when_the_fit_is_cancelled(probe):
    seen = probe(observe_stats_cancelled)
    assert seen["left"] == 0, "a fit cancelled in a recorded batch left hooks behind"
    assert seen["iters"] == [0, 3], f"the fit stopped in batch 3: the batches recorded were {seen['iters']}, expected [0, 3]"


def observe_stats_and_outputs(ch, every):
    capture = OutputCapture()
    run, model, cb = stats_fit(ch, every, extra_cbs=[capture], bins=8, lo=0.0, hi=2.0, floor=0.0, width=0.5)
    return {"iters": cb.iters, "stats": cb.stats, "outputs": capture.outputs}


@exercise("ch07.StatsCallback", points=3)
@pytest.mark.parametrize("every", [1, 2])
def test_stats_callback_statistics_are_those_of_the_outputs(probe, every):
    seen = probe(observe_stats_and_outputs, every)
    stats = seen["stats"]
    for row, n_iter in enumerate(seen["iters"]):
        for column, k in enumerate((0, 2)):
            out = seen["outputs"][n_iter][k]
            where = f"batch n_iter={n_iter} (row {row}), layer {k}"
            assert_close(stats["mean"][row, column], out.mean(), rtol=1e-5, atol=1e-6, msg=f"{where}: mean")
            assert_close(stats["std"][row, column], out.std(), rtol=1e-5, atol=1e-6, msg=f"{where}: std (unbiased)")
            hist = torch.histc(out, 8, 0.0, 2.0)
            assert_close(stats["hist"][row, column], hist, rtol=0, atol=0, msg=f"{where}: histogram over [0, 2]")
            assert_close(stats["near_floor"][row, column], hist[:2].sum() / out.numel(), rtol=1e-5, atol=1e-7,
                         msg=f"{where}: share of all values in [0, 0.5)")


# --- update_to_data_ratio (beyond) ----------------------------------------------------------------------

@exercise("ch07.update_to_data_ratio", points=2)
@given(shapes=st.lists(st.sampled_from([(3,), (4, 5), (2, 3, 2), (7,)]), min_size=1, max_size=4),
       step=st.sampled_from([1e-4, 1e-3, 0.05]), seed=st.integers(0, 1000))
def test_update_to_data_ratio_is_log10_of_the_spread_of_the_step(probe, shapes, step, seed):
    g = torch.Generator().manual_seed(seed)
    before = [torch.randn(shape, generator=g) * 0.3 + 0.1 for shape in shapes]
    after = [b - step * torch.randn(b.shape, generator=g) for b in before]
    got = probe.update_to_data_ratio(before, after)
    expected = [math.log10(np.std((a - b).double().numpy(), ddof=1) / np.std(b.double().numpy(), ddof=1))
                for b, a in zip(before, after)]
    assert isinstance(got, torch.Tensor) and got.shape == (len(shapes),), (
        f"update_to_data_ratio of {len(shapes)} parameters must return a tensor of shape ({len(shapes)},), got "
        f"{type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
    assert_close(got.double(), torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-5, msg=(
        f"update_to_data_ratio for parameters of shapes {shapes} moved by about {step}: expected "
        f"log10(std(after - before) / std(before)) with unbiased stds, {[round(e, 4) for e in expected]}"))


@exercise("ch07.update_to_data_ratio", points=2)
def test_update_to_data_ratio_edges(probe):
    zero_bias = torch.zeros(4)
    got = probe.update_to_data_ratio([zero_bias, torch.ones(2, 2) * 3],
                                     [torch.tensor([1e-3, -1e-3, 2e-3, 0.0]), torch.ones(2, 2) * 3])
    assert isinstance(got, torch.Tensor) and got.shape == (2,), f"expected a tensor of shape (2,), got {got!r}"
    assert math.isinf(got[0].item()) and got[0] > 0, f"a bias that was all zeros and moved: ratio +inf, got {got[0]}"
    assert math.isnan(got[1].item()), f"a parameter with no spread that did not move: 0/0, nan; got {got[1]}"
    more = probe(observe_outcome, "update_to_data_ratio", [torch.ones(3)], [torch.ones(3), torch.ones(3)])
    assert more.get("raised") == "ValueError", \
        f"update_to_data_ratio(1 parameter before, 2 after) must raise ValueError, it gave {more}"
    reshaped = probe(observe_outcome, "update_to_data_ratio", [torch.ones(3)], [torch.ones(4)])
    assert reshaped.get("raised") == "ValueError", \
        f"update_to_data_ratio(a parameter of shape (3,) before, (4,) after) must raise ValueError, it gave {reshaped}"


# --- append_stats ---------------------------------------------------------------------------------

def observe_append_stats(ch, seed, xs, bins, lo, hi):
    model = small_cnn(seed)
    with ch.Hooks(model, partial(ch.append_stats, bins=bins, lo=lo, hi=hi)) as hooks:
        for x in xs:
            model(x)
    return [getattr(hook, "stats", None) for hook in hooks]


@exercise("ch07.append_stats", points=3)
@settings(max_examples=15)
@given(bins=st.integers(5, 50), lo=st.sampled_from([-8.0, -2.5, 0.0]), hi=st.sampled_from([1.0, 4.0, 10.0]),
       seed=st.integers(0, 1000))
def test_append_stats_matches_statistics_of_the_layer_outputs(probe, bins, lo, hi, seed):
    g = torch.Generator().manual_seed(seed)
    xs = [2 * torch.randn(3, 2, 6, 6, generator=g) for _ in range(2)]
    recorded = probe(observe_append_stats, seed, xs, bins, lo, hi)
    model = small_cnn(seed)  # the observed model, rebuilt from the same seed
    assert len(recorded) == len(model), f"expected one Hook per layer ({len(model)}), got {len(recorded)}"
    for i, stats in enumerate(recorded):
        assert isinstance(stats, tuple) and len(stats) == 3, \
            f"layer {i}: hook.stats must be the tuple (means, stds, hists), got {stats!r}"
        means, stds, hists = stats
        assert len(means) == len(stds) == len(hists) == len(xs), \
            f"layer {i}: expected {len(xs)} entries per list after {len(xs)} forward passes, got {len(means)}, {len(stds)}, {len(hists)}"
    for b, x in enumerate(xs):
        for i, (stats, out) in enumerate(zip(recorded, layer_outputs(model, x))):
            means, stds, hists = stats
            where = f"layer {i}, batch {b} (append_stats with bins={bins}, lo={lo}, hi={hi})"
            assert_close(means[b], out.mean(), rtol=1e-5, atol=1e-6, msg=f"{where}: mean of the output")
            assert_close(stds[b], out.std(), rtol=1e-5, atol=1e-6, msg=f"{where}: std (torch's default, unbiased)")
            expected, _ = np.histogram(out.numpy(), bins=bins, range=(lo, hi))
            assert hists[b].shape == (bins,), f"{where}: histogram shape {tuple(hists[b].shape)}, expected ({bins},)"
            # atol=1: a value within float rounding of a bin edge may fall on either side of it.
            assert_close(hists[b].double(), torch.from_numpy(expected).double(), rtol=0, atol=1,
                         msg=f"{where}: histogram counts of the values in [{lo}, {hi}]")


def describe_value(value):
    """What a recorded statistic is: its type and, for a tensor, whether it is detached, where, of what dtype."""
    seen = {"type": type(value).__name__}
    if isinstance(value, torch.Tensor):
        seen.update(requires_grad=value.requires_grad, has_grad_fn=value.grad_fn is not None,
                    device=value.device.type, dtype=str(value.dtype), floating=value.dtype.is_floating_point)
    return seen


def observe_append_stats_values(ch, x):
    layer = nn.Linear(6, 5)
    hook = ch.Hook(layer, ch.append_stats)
    out = layer(x.requires_grad_())
    hook.remove()
    return {"out_requires_grad": out.requires_grad,
            "first": [describe_value(values[0]) for values in hook.stats]}


@exercise("ch07.append_stats", points=3)
def test_append_stats_records_detached_cpu_tensors(probe):
    seen = probe(observe_append_stats_values, randn(4, 6, seed=4))
    assert seen["out_requires_grad"]
    assert len(seen["first"]) == 3, f"hook.stats must hold three lists (means, stds, hists), got {len(seen['first'])}"
    for name, value in zip(("means", "stds", "hists"), seen["first"]):
        assert value["type"] in ("Tensor", "Parameter"), f"{name} entries must be tensors, got {value['type']}"
        assert not value["requires_grad"] and not value["has_grad_fn"], \
            f"{name} entries are attached to the autograd graph: detach the output before computing statistics"
        assert value["device"] == "cpu", f"{name} entries must be on the CPU, found {value['device']}"
        assert value["floating"], f"{name} entries must be float, got {value['dtype']}"


def observe_append_stats_modes(ch, xs):
    model = small_cnn()
    with ch.Hooks(model, ch.append_stats) as hooks:
        model(xs[0])
        model.eval()
        model(xs[1])
        model.train()
        model(xs[2])
    return [len(h.stats[0]) for h in hooks]


@exercise("ch07.append_stats", points=3)
def test_append_stats_ignores_eval_mode(probe):
    lengths = probe(observe_append_stats_modes, [randn(2, 2, 6, 6, seed=s) for s in (5, 6, 7)])
    assert lengths == [2, 2, 2], f"2 training and 1 eval forward pass should record 2 entries per layer, got {lengths}"


def observe_append_stats_eval_first(ch, xs):
    """Hooks with append_stats whose first forward pass is in eval mode (a validation pass before training)."""
    model = small_cnn().eval()
    with ch.Hooks(model, ch.append_stats) as hooks:
        model(xs[0])
        seen = {"after_eval": [[len(entries) for entries in getattr(h, "stats", ())] for h in hooks]}
        model.train()
        model(xs[1])
    seen["after_train"] = [[len(entries) for entries in getattr(h, "stats", ())] for h in hooks]
    return seen


@exercise("ch07.append_stats", points=3)
def test_append_stats_creates_its_lists_on_an_eval_first_call(probe):
    seen = probe(observe_append_stats_eval_first, [randn(2, 2, 6, 6, seed=s) for s in (8, 9)])
    assert seen["after_eval"] == [[0, 0, 0]] * 3, (
        "after a first forward pass in eval mode, each hook.stats must exist as three empty lists (it is "
        f"created on the first call, whatever the mode); got list lengths {seen['after_eval']} ([] if missing)")
    assert seen["after_train"] == [[1, 1, 1]] * 3, \
        f"then one training pass records one entry per list: got {seen['after_train']}"


# --- get_hist -------------------------------------------------------------------------------------

def observe_get_hist(ch, hists):
    return ch.get_hist(SimpleNamespace(stats=([], [], hists)))


@exercise("ch07.get_hist")
@given(n_batches=st.integers(1, 9), bins=st.integers(2, 40), seed=st.integers(0, 1000))
def test_get_hist_is_log1p_of_counts_bins_by_batches(probe, n_batches, bins, seed):
    gen = torch.Generator().manual_seed(seed)
    hists = [torch.randint(0, 500, (bins,), generator=gen).float() for _ in range(n_batches)]
    got = probe(observe_get_hist, hists)
    expected = torch.tensor([[math.log1p(hists[j][i].item()) for j in range(n_batches)] for i in range(bins)])
    assert isinstance(got, torch.Tensor), f"get_hist must return a tensor, got {got!r}"
    assert got.shape == (bins, n_batches), f"get_hist: expected shape (bins, n_batches) = {(bins, n_batches)}, got {tuple(got.shape)}"
    assert_close(got.float(), expected, rtol=1e-5, atol=1e-6,
                 msg="get_hist()[i, j] must be log(1 + count of bin i in batch j)")


# --- get_min --------------------------------------------------------------------------------------

def histograms_of(batches, bins, lo, hi):
    return [torch.histc(b, bins, lo, hi) for b in batches]


def observe_get_min(ch, hists, **kwargs):
    return ch.get_min(SimpleNamespace(stats=([], [], hists)), **kwargs)


def direct_near_floor(batch, bins, lo, hi, floor, width):
    """Count directly: the activations in the bins overlapping [floor, floor + width), over those in [lo, hi]."""
    w = (hi - lo) / bins
    overlapping = [i for i in range(bins) if lo + i * w < floor + width and lo + (i + 1) * w > floor]
    start, stop = lo + overlapping[0] * w, lo + (overlapping[-1] + 1) * w
    counted = (batch >= lo) & (batch <= hi)
    near = counted & (batch >= start) & ((batch < stop) | ((batch == hi) & (overlapping[-1] == bins - 1)))
    return near.sum().item() / counted.sum().item()


@exercise("ch07.get_min", points=2)
@given(bins=st.integers(8, 50), lo=st.sampled_from([-7.0, -3.0, 0.0]), hi=st.sampled_from([5.0, 10.0]),
       floor_at=st.floats(0.05, 0.6), in_bin=st.floats(0.1, 0.6), width_bins=st.floats(0.3, 4.0),
       seed=st.integers(0, 1000))
def test_get_min_equals_a_direct_count(probe, bins, lo, hi, floor_at, in_bin, width_bins, seed):
    w = (hi - lo) / bins
    # the floor inside a bin (not on an edge), width in units of bins: no rounding ties
    floor = lo + (math.floor(floor_at * bins) + in_bin) * w
    width = (math.floor(width_bins) + 0.25) * w
    gen = torch.Generator().manual_seed(seed)
    batches = [3 * torch.randn(400, generator=gen) + floor for _ in range(3)]
    got = probe(observe_get_min, histograms_of(batches, bins, lo, hi), lo=lo, hi=hi, floor=floor, width=width)
    expected = torch.tensor([direct_near_floor(b, bins, lo, hi, floor, width) for b in batches])
    assert isinstance(got, torch.Tensor), f"get_min must return a tensor, got {got!r}"
    assert got.shape == (len(batches),), f"get_min must return one fraction per batch, shape {(len(batches),)}; got {tuple(got.shape)}"
    assert_close(got.float(), expected.float(), rtol=1e-5, atol=1e-6,
                 msg=f"get_min(h, lo={lo}, hi={hi}, floor={floor:.4f}, width={width:.4f}) with {bins} bins")


@exercise("ch07.get_min", points=2)
def test_get_min_counts_the_bin_holding_general_relus_floor(probe):
    gen = torch.Generator().manual_seed(7)
    pre = [torch.randn(2000, generator=gen) for _ in range(4)]
    acts = [F.relu(p) - 0.4 for p in pre]  # GeneralRelu(sub=0.4): every dead activation is exactly -0.4
    got = probe(observe_get_min, histograms_of(acts, 40, -7, 7), lo=-7, hi=7, floor=-0.4, width=0.5)
    # with 40 bins over [-7, 7] (0.35 wide), [-0.4, 0.1) is covered by bins 18-20: [-0.7, 0.35)
    expected = torch.tensor([((a >= -0.7) & (a < 0.35)).float().mean().item() for a in acts])
    dead = torch.tensor([(p <= 0).float().mean().item() for p in pre])
    assert isinstance(got, torch.Tensor) and got.shape == (4,), f"get_min must return a tensor of shape (4,), got {got!r}"
    assert bool((got >= dead - 1e-6).all()), \
        f"get_min must count the bin holding the floor -0.4, where the dead activations are: got {got.tolist()}, " \
        f"but at least {dead.tolist()} of the activations sit exactly at -0.4"
    assert_close(got.float(), expected, rtol=1e-5, atol=1e-6, msg="fraction in bins 18-20 of histc(40, -7, 7)")


@exercise("ch07.get_min", points=2)
def test_get_min_defaults_are_the_relu_case(probe):
    gen = torch.Generator().manual_seed(3)
    acts = [F.relu(torch.randn(1000, generator=gen) * 2) for _ in range(3)]
    got = probe(observe_get_min, histograms_of(acts, 40, 0, 10))
    expected = torch.tensor([((a < 0.5).sum() / (a <= 10).sum()).item() for a in acts])
    assert isinstance(got, torch.Tensor), f"get_min must return a tensor, got {got!r}"
    assert_close(got.float(), expected, rtol=1e-5, atol=1e-6,
                 msg="get_min(h) with histc(40, 0, 10): the fraction of counted activations in [0, 0.5)")


def observe_update_ratio_kinds(ch):
    """dtype, device and shape of update_to_data_ratio's result for float32 meta tensors, CPU tensors, and none."""
    def describe(got):
        return {"type": type(got).__name__, "dtype": str(getattr(got, "dtype", None)),
                "device": str(getattr(got, "device", None)), "shape": list(getattr(got, "shape", [None]))}
    meta = [torch.zeros(3, 2, device="meta"), torch.zeros(4, device="meta")]
    cpu = [randn(3, 2, seed=1), randn(4, seed=2)]
    return {"meta": describe(ch.update_to_data_ratio(meta, [m + 1 for m in meta])),
            "cpu": describe(ch.update_to_data_ratio(cpu, [c * 1.01 for c in cpu])),
            "empty": describe(ch.update_to_data_ratio([], []))}


@exercise("ch07.update_to_data_ratio", points=2)
def test_update_to_data_ratio_is_float64_on_the_parameters_device(probe):
    seen = probe(observe_update_ratio_kinds)
    meta = seen["meta"]
    assert meta["device"] == "meta", (
        "update_to_data_ratio of two float32 parameters on the 'meta' device (standing in for a GPU): the ratios "
        f"must stay on the parameters' device, got device {meta['device']}")
    for case, n in (("meta", 2), ("cpu", 2), ("empty", 0)):
        got = seen[case]
        assert (got["type"], got["dtype"], got["shape"]) == ("Tensor", "torch.float64", [n]), (
            f"update_to_data_ratio of {n} float32 parameters ({case}): expected a float64 tensor of shape ({n},), "
            f"got {got['type']} of dtype {got['dtype']} and shape {got['shape']}")


# --- dead_channels (beyond) -----------------------------------------------------------------------

@exercise("ch07.dead_channels", points=2)
@given(n=st.integers(1, 6), c=st.integers(1, 8), spatial=st.sampled_from([(), (3,), (4, 5)]),
       floor=st.sampled_from([0.0, -0.4]), seed=st.integers(0, 1000))
def test_dead_channels_against_a_loop(probe, n, c, spatial, floor, seed):
    gen = torch.Generator().manual_seed(seed)
    acts = torch.randn(n, c, *spatial, generator=gen).clamp_min(floor)  # exactly `floor` where "dead"
    planted = torch.rand(c, generator=gen) < 0.4
    acts[:, planted] = floor
    got = probe.dead_channels(acts, floor=floor)
    expected = torch.tensor([all(v <= floor for v in acts[:, j].flatten().tolist()) for j in range(c)])
    assert isinstance(got, torch.Tensor), f"dead_channels must return a tensor, got {got!r}"
    assert got.shape == (c,), f"dead_channels on shape {tuple(acts.shape)}: expected shape ({c},), got {tuple(got.shape)}"
    assert torch.equal(got.bool(), expected), \
        f"dead_channels(acts, floor={floor}): expected {expected.tolist()}, got {got.tolist()}"


@exercise("ch07.dead_channels", points=2)
def test_dead_channels_needs_every_activation_at_the_floor(probe):
    acts = torch.zeros(4, 3, 2, 2)
    acts[3, 1, 1, 0] = 1e-3  # one activation above 0 keeps channel 1 alive
    got = probe.dead_channels(F.relu(acts))
    assert isinstance(got, torch.Tensor), f"dead_channels must return a tensor, got {got!r}"
    assert got.tolist() == [True, False, True], f"expected [True, False, True], got {got.tolist()}"


def layout_of(acts, layout):
    """`acts` (n, c, h, w) as the same values in another memory layout (the probe's round trip makes tensors
    contiguous, so the observer rearranges them where the learner's code runs)."""
    return {"contiguous": acts, "transposed": acts.transpose(2, 3), "channels_last": acts.to(memory_format=torch.channels_last),
            "one_item_sliced": acts[1:2, :, ::2]}[layout]


def observe_dead_channels_layout(ch, acts, layout):
    acts = layout_of(acts, layout)
    return {"got": ch.dead_channels(acts), "shape": list(acts.shape), "contiguous": acts.is_contiguous()}


@exercise("ch07.dead_channels", points=2)
@pytest.mark.parametrize("layout", ["transposed", "channels_last", "one_item_sliced"])
def test_dead_channels_of_non_contiguous_activations(probe, layout):
    base = torch.randn(3, 4, 5, 6, generator=torch.Generator().manual_seed(5)).clamp_min(0.0)
    base[:, 1] = 0.0
    base[:, 3, 2:] = 0.0
    seen = probe(observe_dead_channels_layout, base, layout)
    acts = layout_of(base, layout)
    expected = torch.tensor([bool((acts[:, j] <= 0).all()) for j in range(4)])
    got = seen["got"]
    assert isinstance(got, torch.Tensor), f"dead_channels must return a tensor, got {got!r}"
    assert got.shape == (4,) and torch.equal(got.bool(), expected), (
        f"dead_channels of {layout} activations of shape {tuple(acts.shape)} (contiguous: {seen['contiguous']}): "
        f"expected {expected.tolist()}, got {got.tolist()}")


# --- GeneralRelu ----------------------------------------------------------------------------------

def general_relu_formula(x, leak, sub, maxv):
    y = torch.where(x > 0, x, x * (leak or 0.0))
    if sub is not None:
        y = y - sub
    if maxv is not None:
        y = torch.minimum(y, torch.tensor(maxv, dtype=y.dtype))
    return y


optional = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731
MISSING = "<no such attribute>"


def observe_general_relu(ch, x, leak, sub, maxv):
    act = ch.GeneralRelu(leak=leak, sub=sub, maxv=maxv)
    got = act(x)
    return {"out": got, "input_after": x, "is_module": isinstance(act, nn.Module),
            "attributes": tuple(getattr(act, name, MISSING) for name in ("leak", "sub", "maxv"))}


@exercise("ch07.GeneralRelu", points=3)
@given(leak=optional(st.floats(0.01, 0.5)), sub=optional(st.floats(0.0, 1.0)), maxv=optional(st.floats(0.5, 8.0)),
       seed=st.integers(0, 1000))
def test_general_relu_follows_its_formula(probe, leak, sub, maxv, seed):
    x = 4 * torch.randn(6, 5, generator=torch.Generator().manual_seed(seed))
    seen = probe(observe_general_relu, x, leak, sub, maxv)
    assert seen["is_module"], "GeneralRelu must be an nn.Module"
    assert seen["attributes"] == (leak, sub, maxv), \
        f"keep leak, sub and maxv as attributes: expected {(leak, sub, maxv)}, found {seen['attributes']}"
    got = seen["out"]
    assert isinstance(got, torch.Tensor), f"GeneralRelu must return a tensor, got {got!r}"
    assert_close(got, general_relu_formula(x, leak, sub, maxv), rtol=1e-6, atol=1e-6,
                 msg=f"GeneralRelu(leak={leak}, sub={sub}, maxv={maxv}) on random inputs")
    assert torch.equal(seen["input_after"], x), "GeneralRelu must not modify its input"


@exercise("ch07.GeneralRelu", points=3)
@pytest.mark.parametrize("leak,sub,maxv", [(0.1, None, 0.0), (None, 0.5, 0.0), (0.0, 0.0, 0.0)])
def test_general_relu_knobs_set_to_zero_still_apply(probe, leak, sub, maxv):
    x = 3 * torch.randn(40, generator=torch.Generator().manual_seed(2))
    seen = probe(observe_general_relu, x, leak, sub, maxv)
    got = seen["out"]
    assert isinstance(got, torch.Tensor), f"GeneralRelu must return a tensor, got {got!r}"
    assert_close(got, general_relu_formula(x, leak, sub, maxv), rtol=1e-6, atol=1e-6, msg=(
        f"GeneralRelu(leak={leak}, sub={sub}, maxv={maxv}): a knob given as 0.0 is given (only None leaves it out; "
        "0.0 is falsy, so test `is not None`): maxv=0.0 clamps every output to at most 0"))


def observe_general_relu_grad(ch, x, sub, maxv):
    x.requires_grad_()
    y = ch.GeneralRelu(leak=None, sub=sub, maxv=maxv)(x)
    y.sum().backward()  # an in-place op on F.relu's output makes this raise
    return x.grad


@exercise("ch07.GeneralRelu", points=3)
@given(sub=optional(st.floats(0.0, 1.0)), maxv=optional(st.floats(0.5, 8.0)))
def test_general_relu_backward_works_without_leak(probe, sub, maxv):
    x = 3 * torch.randn(50, generator=torch.Generator().manual_seed(1))
    grad = probe(observe_general_relu_grad, x, sub, maxv)
    relu_then_sub = x.clamp_min(0) - (sub or 0.0)
    passes = (x > 0) & ((relu_then_sub < maxv) if maxv is not None else True)
    assert isinstance(grad, torch.Tensor), f"x.grad after GeneralRelu(x).sum().backward() is {grad!r}"
    assert_close(grad, passes.float(), rtol=0, atol=0,
                 msg=f"d GeneralRelu(sub={sub}, maxv={maxv}) / dx: 1 where x > 0 and below the clamp, else 0")


def observe_general_relu_gradcheck(ch, x, leak, sub, maxv):
    act = ch.GeneralRelu(leak=leak, sub=sub, maxv=maxv)
    return torch.autograd.gradcheck(act, (x.requires_grad_(),), eps=1e-6, atol=1e-5, raise_exception=False)


@exercise("ch07.GeneralRelu", points=3)
@given(leak=optional(st.floats(0.01, 0.5)), sub=optional(st.floats(0.0, 1.0)), maxv=optional(st.floats(1.0, 8.0)))
def test_general_relu_gradcheck(probe, leak, sub, maxv):
    x = torch.tensor([-2.3, -0.7, 0.45, 0.9, 1.6, 12.0], dtype=torch.float64)
    if maxv is not None:  # keep every input away from the kink at the clamp, where gradcheck is undefined
        x = x[((x.clamp_min(0) - (sub or 0) - maxv).abs() > 0.05) | (x < 0)]
    assert probe(observe_general_relu_gradcheck, x, leak, sub, maxv) is True, \
        f"GeneralRelu(leak={leak}, sub={sub}, maxv={maxv}): analytical and numerical gradients differ"


# --- init_cnn -------------------------------------------------------------------------------------

def kaiming_std(weight, a):
    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
    return math.sqrt(2 / (1 + a * a)) / math.sqrt(fan_in)


def nested_model():
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(16, 64, 3), nn.ReLU()),
        nn.Sequential(nn.Sequential(nn.Conv2d(64, 32, 3, bias=False), nn.ReLU())),
        nn.Conv1d(32, 48, 5),
        nn.Linear(48, 10),
    )


def nested_convs(model):
    return [model[0][0], model[1][0][0], model[2]]


CONV_NAMES = ("Conv2d(16, 64, 3)", "Conv2d(64, 32, 3, bias=False)", "Conv1d(32, 48, 5)")


def observe_init_cnn(ch, seed, **kwargs):
    torch.manual_seed(seed)
    model = nested_model()
    result = ch.init_cnn(model, **kwargs)
    return {"returned_the_model": result is model, "weights": [conv.weight.detach() for conv in nested_convs(model)]}


@exercise("ch07.init_cnn", points=3)
@pytest.mark.parametrize("a", [0.0, 0.1, 1.0, 3.0])
def test_init_cnn_gives_every_conv_the_kaiming_std(probe, a):
    seen = probe(observe_init_cnn, 0, a=a)
    assert seen["returned_the_model"], "init_cnn must return the model it was given"
    for conv, w in zip(CONV_NAMES, seen["weights"]):
        expected = kaiming_std(w, a)
        # the sample std of n normal draws is within a few 1/sqrt(2n) of the true one
        assert abs(w.std().item() / expected - 1) < 0.05, \
            f"{conv}: weight std {w.std().item():.5f}, expected gain/sqrt(fan_in) = {expected:.5f} (a={a})"
        assert abs(w.mean().item()) < 5 * expected / math.sqrt(w.numel()), f"{conv}: weight mean {w.mean().item():.5f} is not ~0"
        assert abs(((w / expected) ** 4).mean().item() - 3) < 0.3, f"{conv}: weights do not look normal (uniform=False)"


@exercise("ch07.init_cnn", points=3)
def test_init_cnn_uniform_stays_within_the_kaiming_bound(probe):
    seen = probe(observe_init_cnn, 1, uniform=True, a=0.1)
    for conv, w in zip(CONV_NAMES, seen["weights"]):
        bound = math.sqrt(3) * kaiming_std(w, 0.1)
        assert w.abs().max().item() <= bound * (1 + 1e-6), f"{conv}: uniform weights must lie in [-{bound:.5f}, {bound:.5f}]"
        assert w.abs().max().item() > 0.95 * bound, f"{conv}: uniform weights should reach close to the bound {bound:.5f}"
        assert abs(w.std().item() / (bound / math.sqrt(3)) - 1) < 0.05, f"{conv}: std of the uniform weights"


def observe_init_cnn_biases(ch, seed):
    torch.manual_seed(seed)
    model = nested_model()
    model[0][0].bias.data.fill_(3.0)
    model[2].bias.data.fill_(-1.0)
    ch.init_cnn(model)  # one conv has bias=False: its bias is None and must be skipped
    return {"biases": [model[0][0].bias.detach(), model[2].bias.detach()], "no_bias_is_none": model[1][0][0].bias is None,
            "linear": [p.detach() for p in model[3].parameters()]}


@exercise("ch07.init_cnn", points=3)
def test_init_cnn_zeroes_biases_and_leaves_other_layers_alone(probe):
    seen = probe(observe_init_cnn_biases, 2)
    torch.manual_seed(2)
    linear_before = list(nested_model()[3].parameters())  # the observed model before init_cnn, from the same seed
    assert all(torch.count_nonzero(b) == 0 for b in seen["biases"]), "init_cnn must set every conv bias to zero"
    assert seen["no_bias_is_none"]
    assert len(seen["linear"]) == len(linear_before)
    for before, after in zip(linear_before, seen["linear"]):
        assert torch.equal(before.detach(), after), "init_cnn must only change convolutions, not the linear layer"


# --- GradStatsHook (beyond) -----------------------------------------------------------------------

def mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4), nn.Sigmoid(), nn.Linear(4, 3))


def output_grad_norms(model, x, y):
    """The norms of dloss/d(output of each layer), from retain_grad on a hook-free run."""
    outs, h = [], x
    for layer in model:
        h = layer(h)
        h.retain_grad()
        outs.append(h)
    F.mse_loss(h, y).backward()
    return [o.grad.norm().item() for o in outs]


def observe_grad_stats(ch, seed, batches):
    model = mlp(seed)
    with ch.GradStatsHook(model) as grads:
        for x, y in batches:
            F.mse_loss(model(x), y).backward()
    return grads.norms


@exercise("ch07.GradStatsHook", points=3)
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_grad_stats_hook_records_output_gradient_norms(probe):
    gen = torch.Generator().manual_seed(0)
    batches = [(torch.randn(6, 5, generator=gen), torch.randn(6, 3, generator=gen)) for _ in range(2)]
    norms = probe(observe_grad_stats, 0, batches)
    model = mlp(0)  # the observed model, rebuilt from the same seed
    expected = [output_grad_norms(model, x, y) for x, y in batches]
    assert isinstance(norms, list) and len(norms) == len(model), \
        f"one list of norms per module: expected {len(model)}, got {norms!r}"
    for i in range(len(model)):
        got = norms[i]
        assert len(got) == len(batches), f"module {i}: {len(batches)} backward passes, but {len(got)} norms recorded"
        assert_close(torch.tensor(got), torch.tensor([e[i] for e in expected]), rtol=1e-5, atol=1e-7,
                     msg=f"module {i} ({model[i]}): norm of the gradient w.r.t. its output")


def observe_grad_stats_removal(ch, seed, x):
    model = mlp(seed)
    with ch.GradStatsHook(model) as grads:
        model(x).sum().backward()
    counts = [len(m._backward_hooks) for m in model]
    model(x).sum().backward()
    return {"counts": counts, "lengths": [len(n) for n in grads.norms]}


@exercise("ch07.GradStatsHook", points=3)
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_grad_stats_hook_removes_its_hooks(probe):
    seen = probe(observe_grad_stats_removal, 1, randn(4, 5, seed=8))
    assert seen["counts"] == [0] * 5, f"backward hooks left after the with block: {seen['counts']}"
    assert seen["lengths"] == [1] * 5, \
        "after removal nothing is recorded, and each module has its own list of norms"


def observe_grad_stats_on_an_iterator(ch, seed, x):
    """GradStatsHook given `model.children()`, an iterator that can be read only once."""
    model = mlp(seed)
    with ch.GradStatsHook(model.children()) as grads:
        model(x).sum().backward()
    return {"lengths": [len(n) for n in grads.norms], "after": [len(m._backward_hooks) for m in model],
            "types": sorted({type(v).__name__ for norms in grads.norms for v in norms})}


@exercise("ch07.GradStatsHook", points=3)
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_grad_stats_hook_takes_an_iterator_of_modules(probe):
    seen = probe(observe_grad_stats_on_an_iterator, 2, randn(4, 5, seed=9))
    assert seen["lengths"] == [1] * 5, (
        "GradStatsHook(model.children()) (an iterator, readable once) must hook each of the 5 layers: after one "
        f"backward pass each list should hold one norm, got lengths {seen['lengths']}")
    assert seen["after"] == [0] * 5, f"backward hooks left after the with block: {seen['after']}"
    assert seen["types"] == ["float"], (
        f"each recorded norm must be a Python float (`.item()`), not a tensor that keeps its memory alive; got "
        f"{seen['types']}")


# --- lsuv_init (beyond) ---------------------------------------------------------------------------

class ShiftedLeaky(nn.Module):
    """leaky_relu(x, 0.1) - 0.4, written here so these tests do not depend on ch.GeneralRelu."""

    def forward(self, x):
        return F.leaky_relu(x, 0.1) - 0.4


def conv_stack(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 6, 5, stride=2, padding=2), ShiftedLeaky()),
        nn.Sequential(nn.Conv2d(6, 8, 3, stride=2, padding=1), ShiftedLeaky()),
        nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=1), ShiftedLeaky()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )


def observe_lsuv(ch, seed, xb):
    model = conv_stack(seed)
    params = list(model.parameters())
    results = [ch.lsuv_init(model, layer[1], layer[0], xb) for layer in model[:3]]
    after = list(model.parameters())
    return {"results": results, "same_parameters": len(after) == len(params) and all(a is b for a, b in zip(after, params)),
            "hooks": forward_hook_count(model.modules()), "weights": {k: v.detach() for k, v in model.state_dict().items()}}


@exercise("ch07.lsuv_init", points=3)
@pytest.mark.parametrize("seed", [0, 1])
def test_lsuv_init_gives_each_layer_unit_variance(probe, seed):
    xb = torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(seed))
    seen = probe(observe_lsuv, seed, xb)
    assert seen["same_parameters"], \
        "lsuv_init must change the weights and biases in place, not replace the parameters (an optimiser holds them)"
    assert seen["hooks"] == [0] * len(seen["hooks"]), "lsuv_init left a hook behind"
    model = conv_stack(seed)
    model.load_state_dict(seen["weights"])  # the weights lsuv_init left
    with torch.no_grad():
        h = xb
        for i, layer in enumerate(model[:3]):
            h = layer(h)
            mean, std = seen["results"][i]
            assert abs(h.mean().item()) < 1.5e-3 and abs(h.std().item() - 1) < 1.5e-3, \
                f"layer {i}: after lsuv_init its output has mean {h.mean().item():.5f}, std {h.std().item():.5f}; expected 0 and 1"
            assert_close(torch.tensor([mean, std]), torch.tensor([h.mean().item(), h.std().item()]), rtol=0, atol=1e-5,
                         msg=f"layer {i}: lsuv_init must return the mean and std of the output it measured last")


def observe_lsuv_max_iter(ch, xb):
    torch.manual_seed(0)
    conv, act = nn.Conv2d(1, 4, 3), nn.ReLU()  # a ReLU's output cannot have mean 0 and std 1
    model = nn.Sequential(conv, act)
    calls = []
    model.register_forward_pre_hook(lambda mod, inp: calls.append(1))
    mean, std = ch.lsuv_init(model, act, conv, xb, max_iter=5)
    return {"forward_passes": len(calls), "result": (mean, std), "weight": conv.weight.detach(),
            "bias": conv.bias.detach(), "hooks": forward_hook_count([conv, act])}


@exercise("ch07.lsuv_init", points=3)
def test_lsuv_init_stops_after_max_iter_and_removes_its_hook(probe):
    xb = randn(16, 1, 8, 8, seed=9)
    seen = probe(observe_lsuv_max_iter, xb)
    assert seen["forward_passes"] <= 6, f"with max_iter=5, expected at most 6 forward passes, got {seen['forward_passes']}"
    out = F.relu(F.conv2d(xb, seen["weight"], seen["bias"]))
    mean, std = seen["result"]
    assert_close(torch.tensor([mean, std]), torch.tensor([out.mean().item(), out.std().item()]), rtol=0, atol=1e-5,
                 msg="after max_iter adjustments, lsuv_init must return the statistics of the adjusted layer (measure again)")
    assert seen["hooks"] == [0, 0], "lsuv_init left a hook behind"


def observe_lsuv_error(ch, xb):
    conv, act = nn.Conv2d(1, 4, 3), nn.ReLU()

    def broken_model(x):
        act(conv(x))
        raise RuntimeError("model failed")

    return {"outcome": outcome(ch.lsuv_init, broken_model, act, conv, xb), "hooks": forward_hook_count([conv, act])}


@exercise("ch07.lsuv_init", points=3)
def test_lsuv_init_removes_its_hook_on_error(probe):
    seen = probe(observe_lsuv_error, randn(4, 1, 8, 8, seed=10))
    result = seen["outcome"]
    assert result.get("raised") == "RuntimeError" and "model failed" in result.get("message", ""), \
        f"the model's error must propagate, got {result}"
    assert seen["hooks"] == [0, 0], "lsuv_init must remove its hook even when the model raises"
