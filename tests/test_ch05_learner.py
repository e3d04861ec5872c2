"""Grades chapter 5: callbacks, the Runner and its events, statistics, schedules, the LR finder.

Oracles: the exact event sequence a fit must fire (written out by hand from the chapter's loop), a
plain PyTorch training loop (same data, same updates), whole-dataset statistics computed in one go
with PyTorch, `numpy.interp` for piecewise-linear schedules, the closed-form exponential schedule,
`torch.nn.utils.clip_grad_norm_`, and behaviour a caller can observe (what was restored, what ran).

Each test asks `probe(observe_..., *inputs)`: the `observe_...` function builds the model, the data, the
learner and the recording callbacks from plain parameters, runs the learner's code where it runs (this
process, or a sandboxed worker when a class is graded) and returns plain data (event lists, learning rates,
weights); the test judges that data here with its own oracles (grader/probe.py).
"""
import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.probe import outcome, tensor_info
from grader.testing import assert_no_oracle_in_source, assert_written_by_hand, spying

exercise = pytest.mark.exercise

EVENTS = ("begin_fit", "begin_epoch", "begin_batch", "after_pred", "after_loss", "after_backward",
          "after_step", "after_batch", "begin_validate", "after_epoch", "after_fit",
          "after_cancel_batch", "after_cancel_epoch", "after_cancel_train")
TRAIN_BATCH = ["begin_batch", "after_pred", "after_loss", "after_backward", "after_step", "after_batch"]
VALID_BATCH = ["begin_batch", "after_pred", "after_loss", "after_batch"]
IN_BATCH = TRAIN_BATCH[:-1]  # where a cancel exception may be raised inside a training batch


# --- helpers ------------------------------------------------------------------------------------

def regression_data(n_train=8, n_valid=3, bs=4, valid_bs=None, seed=0):
    """A tiny linear-regression problem, y = x @ w + 0.5 + noise, in unshuffled loaders."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(3, 1, generator=g)
    x = torch.randn(n_train + n_valid, 3, generator=g)
    y = x @ w + 0.5 + 0.01 * torch.randn(n_train + n_valid, 1, generator=g)
    return SimpleNamespace(train_dl=DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=bs),
                           valid_dl=DataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=valid_bs or 2 * bs),
                           c_out=1)


def make_learn(data=None, lr=0.1, momentum=0.0, loss_func=F.mse_loss, seed=0):
    torch.manual_seed(seed)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    return SimpleNamespace(model=model, opt=opt, loss_func=loss_func, data=data or regression_data())


def tracer(ch, log, raise_at=None, exc=None, in_valid=False, returns=None, order=0, tag=None):
    """A callback (subclass of the chapter's Callback) that appends every event it sees to `log`.

    It raises `exc` the first time event `raise_at` fires (in a validation pass only, if `in_valid`), and
    returns `returns[event]` from each event (None if absent)."""
    returns = returns or {}

    def handler(event):
        def method(self):
            log.append(event if tag is None else (tag, event))
            if event == raise_at and not self.raised and (not in_valid or not self.run.in_train):
                self.raised = True
                raise exc()
            return returns.get(event)
        return method

    cls = type("TraceCallback", (ch.Callback,), {**{e: handler(e) for e in EVENTS}, "_order": order})
    cb = cls()
    cb.raised = False
    return cb


def full_epoch(n_train=2, n_valid=1):
    return ["begin_epoch"] + TRAIN_BATCH * n_train + ["begin_validate"] + VALID_BATCH * n_valid + ["after_epoch"]


def explain(got, expected):
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            return f"first difference at event #{i}: expected {e!r}, got {g!r}; got {got}"
    return f"expected {len(expected)} events, got {len(got)}: {got}"


def plain_loop(learn, epochs):
    """The oracle: the same training, written as the plain PyTorch loop of the chapter's start."""
    for _ in range(epochs):
        learn.model.train()
        for xb, yb in learn.data.train_dl:
            loss = learn.loss_func(learn.model(xb), yb)
            loss.backward()
            learn.opt.step()
            learn.opt.zero_grad()


def state_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def scalar(value):
    """A number as a plain Python number for the observation (a numpy scalar or a one-element tensor through
    `.item()`, which the tests' approximate comparisons accepted); anything else unchanged."""
    if (isinstance(value, torch.Tensor) and value.numel() == 1) or type(value).__module__ == "numpy":
        try:
            return value.item()
        except (AttributeError, TypeError, ValueError, RuntimeError):
            return value
    return value


# --- Callback -----------------------------------------------------------------------------------

def observe_callback_name(ch, class_name):
    cls = ch.Callback if class_name == "Callback" else type(class_name, (ch.Callback,), {})
    return cls().name


@exercise("ch05.Callback")
@pytest.mark.parametrize("class_name, expected", [
    ("TrainEvalCallback", "train_eval"), ("AvgStatsCallback", "avg_stats"), ("LRFinder", "lr_finder"),
    ("Recorder", "recorder"), ("CallbackCounter", "callback_counter"), ("Callback", "callback"),
])
def test_callback_name(probe, class_name, expected):
    got = probe(observe_callback_name, class_name)
    assert got == expected, f"{class_name}().name: expected {expected!r}, got {got!r}"


def observe_lookup_on_the_runner(ch):
    cb = type("WatchCallback", (ch.Callback,), {"own": "mine"})()
    run = SimpleNamespace(n_iter=3, model="the model", own="the runner's")
    cb.set_runner(run)
    seen = {"n_iter": cb.n_iter, "model": cb.model}
    run.n_iter = 7
    seen["n_iter_later"] = cb.n_iter
    seen["own"] = cb.own
    seen["missing"] = outcome(lambda: cb.not_on_either)
    return seen


@exercise("ch05.Callback")
def test_callback_reads_missing_attributes_from_its_runner(probe):
    seen = probe(observe_lookup_on_the_runner)
    assert seen["n_iter"] == 3 and seen["model"] == "the model", "cb.n_iter and cb.model must come from cb.run"
    assert seen["n_iter_later"] == 7, "the look-up must read the runner's current value, not a copy taken at set_runner"
    assert seen["own"] == "mine", "an attribute the callback has itself must win over the runner's"
    assert seen["missing"].get("raised") == "AttributeError", \
        f"cb.not_on_either (on neither the callback nor its runner) must raise AttributeError; it gave {seen['missing']}"


def observe_lonely_callback(ch):
    cb = type("LonelyCallback", (ch.Callback,), {})()
    return {"anything": outcome(lambda: cb.anything), "hasattr": outcome(hasattr, cb, "anything"),
            "copy": outcome(copy.copy, cb)}


@exercise("ch05.Callback")
def test_callback_without_runner_raises_attribute_error_not_recursion(probe):
    seen = probe(observe_lonely_callback)
    raised = seen["anything"].get("raised")
    if raised == "RecursionError":
        pytest.fail("cb.anything before set_runner recursed forever: __getattr__ read self.run, "
                    "which is missing too, which called __getattr__ again")
    assert raised == "AttributeError", f"cb.anything before set_runner must raise AttributeError; it gave {seen['anything']}"
    assert seen["hasattr"] == {"returned": False}, f"hasattr(cb, 'anything') before set_runner gave {seen['hasattr']}"
    assert "raised" not in seen["copy"], (
        f"copy.copy(cb) before set_runner raised {seen['copy']['raised']}: copy looks up __setstate__ and friends, "
        "they must not recurse either")


def observe_callback_answers(ch):
    cls = type("AnswerCallback", (ch.Callback,), {"yes": lambda self: 1, "no": lambda self: None,
                                                  "empty": lambda self: []})
    cb = cls()
    cb.set_runner(SimpleNamespace(n_iter=0))
    return {"yes": cb("yes"), "no": cb("no"), "empty": cb("empty"), "after_fit": cb("after_fit")}


@exercise("ch05.Callback")
def test_callback_call_returns_a_bool(probe):
    seen = probe(observe_callback_answers)
    assert seen["yes"] is True, f"cb('yes') where yes() returns 1: expected True, got {seen['yes']!r}"
    assert seen["no"] is False, f"cb('no') where no() returns None: expected False, got {seen['no']!r}"
    assert seen["empty"] is False, f"cb('empty') where empty() returns []: expected False, got {seen['empty']!r}"
    assert seen["after_fit"] is False, "an event the callback does not define must return False without error"


def observe_callback_runs_the_method(ch):
    calls = []
    cb = type("CountCallback", (ch.Callback,), {"begin_fit": lambda self: calls.append("begin_fit")})()
    return {"answer": cb("begin_fit"), "calls": calls}


@exercise("ch05.Callback")
def test_callback_call_runs_the_method(probe):
    seen = probe(observe_callback_runs_the_method)
    assert seen["answer"] is False and seen["calls"] == ["begin_fit"], \
        f"cb('begin_fit') must call begin_fit once and return False; it returned {seen['answer']!r}, calls: {seen['calls']}"


# --- Runner -------------------------------------------------------------------------------------

def observe_fit_trace(ch, epochs=1, raise_at=None, exc_name=None, in_valid=False, returns=None):
    """The events one tracing callback saw during `Runner(cbs=[tracer]).fit(epochs, make_learn())`."""
    log = []
    exc = getattr(ch, exc_name) if exc_name else None
    ch.Runner(cbs=[tracer(ch, log, raise_at=raise_at, exc=exc, in_valid=in_valid, returns=returns)]).fit(
        epochs, make_learn())
    return log


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("epochs", [1, 2])
def test_runner_event_sequence(probe, epochs):
    got = probe(observe_fit_trace, epochs)
    expected = ["begin_fit"] + full_epoch() * epochs + ["after_fit"]
    assert got == expected, f"fit({epochs}) with 2 training and 1 validation batch: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", IN_BATCH)
@pytest.mark.parametrize("exc_name", ["CancelBatchException", "CancelEpochException", "CancelTrainException"])
def test_runner_cancel_in_a_training_batch(probe, exc_name, event):
    got = probe(observe_fit_trace, raise_at=event, exc_name=exc_name)
    start = ["begin_fit", "begin_epoch"] + IN_BATCH[:IN_BATCH.index(event) + 1]
    rest = {
        "CancelBatchException": ["after_cancel_batch", "after_batch"] + TRAIN_BATCH
        + ["begin_validate"] + VALID_BATCH + ["after_epoch", "after_fit"],
        "CancelEpochException": ["after_batch", "after_cancel_epoch", "begin_validate"] + VALID_BATCH
        + ["after_epoch", "after_fit"],
        "CancelTrainException": ["after_batch", "after_cancel_train", "after_fit"],
    }[exc_name]
    assert got == start + rest, f"{exc_name} raised in {event} of the first batch: " + explain(got, start + rest)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("exc_name, rest", [
    ("CancelBatchException", ["after_cancel_batch", "after_batch", "after_epoch", "after_fit"]),
    ("CancelEpochException", ["after_batch", "after_cancel_epoch", "after_epoch", "after_fit"]),
    ("CancelTrainException", ["after_batch", "after_cancel_train", "after_fit"]),
])
def test_runner_cancel_in_a_validation_batch(probe, exc_name, rest):
    got = probe(observe_fit_trace, raise_at="after_pred", exc_name=exc_name, in_valid=True)
    expected = (["begin_fit", "begin_epoch"] + TRAIN_BATCH * 2 + ["begin_validate", "begin_batch", "after_pred"]
                + rest)
    assert got == expected, f"{exc_name} raised in after_pred of a validation batch: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_fit", "begin_epoch", "begin_validate", "after_epoch"])
def test_runner_cancel_train_outside_batches(probe, event):
    got = probe(observe_fit_trace, 2, raise_at=event, exc_name="CancelTrainException")
    events = ["begin_fit"] + full_epoch() * 2
    expected = events[:events.index(event) + 1] + ["after_cancel_train", "after_fit"]
    assert got == expected, f"CancelTrainException raised in {event}: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_epoch", "begin_validate"])
def test_runner_true_skips_a_phase(probe, event):
    got = probe(observe_fit_trace, 2, returns={event: True})
    if event == "begin_epoch":
        epoch = ["begin_epoch", "begin_validate"] + VALID_BATCH + ["after_epoch"]
    else:
        epoch = ["begin_epoch"] + TRAIN_BATCH * 2 + ["begin_validate", "after_epoch"]
    expected = ["begin_fit"] + epoch * 2 + ["after_fit"]
    assert got == expected, f"a callback returning True from {event}: " + explain(got, expected)


def observe_combined_answers(ch, answers):
    """The events each of two tracing callbacks saw, the i-th answering answers[i] from begin_validate."""
    logs = [[] for _ in answers]
    cbs = [tracer(ch, log, returns={"begin_validate": answer}) for log, answer in zip(logs, answers)]
    ch.Runner(cbs=cbs).fit(1, make_learn())
    return logs


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("answers", [(True, None), (None, True), (True, True), (None, None), (False, True)])
def test_runner_combines_answers_with_or(probe, answers):
    logs = probe(observe_combined_answers, answers)
    skipped = any(answers)
    for i, log in enumerate(logs):
        assert "begin_validate" in log, (f"callback {i} (answers {answers}) never saw begin_validate: every "
                                         "callback must be called, even after another one returned True")
        n_valid = log[log.index("begin_validate"):].count("begin_batch")
        assert n_valid == (0 if skipped else 1), (
            f"begin_validate answers {answers}: expected {'no' if skipped else 'one'} validation batch, "
            f"got {n_valid} (one True among the callbacks must be enough: combine with `or`)")


def observe_ordered_callbacks(ch, orders):
    """(tag, event) for every event of tracing callbacks tagged and ordered as in `orders`, given in that order."""
    log = []
    cbs = [tracer(ch, log, order=o, tag=t) for t, o in orders.items()]
    ch.Runner(cbs=cbs).fit(1, make_learn())
    return log


@exercise("ch05.Runner", points=3)
def test_runner_sorts_callbacks_by_order(probe):
    orders = {"a": 2, "b": -1, "c": 0, "d": 5, "e": -1}
    log = probe(observe_ordered_callbacks, orders)
    got = [tag for tag, event in log if event == "begin_fit"]
    assert got == ["b", "e", "c", "a", "d"], (
        f"callbacks with _order {orders}, given in that order, ran begin_fit as {got}; expected them sorted by "
        "_order, ties in the order given: ['b', 'e', 'c', 'a', 'd']")
    batch = [tag for tag, event in log if event == "begin_batch"][:5]
    assert batch == ["b", "e", "c", "a", "d"], f"begin_batch ran in the order {batch}"


def observe_own_dispatch(ch):
    seen = []

    class Dispatcher(ch.Callback):  # handles events in __call__, as Callback's contract allows
        def __call__(self, cb_name):
            seen.append(cb_name)
            return False

    ch.Runner(cbs=[Dispatcher()]).fit(1, make_learn())
    return seen


@exercise("ch05.Runner", points=3)
def test_runner_calls_a_callback_with_its_own_dispatch_for_every_event(probe):
    seen = probe(observe_own_dispatch)
    expected = ["begin_fit"] + full_epoch() + ["after_fit"]
    assert seen == expected, ("a callback that overrides __call__ must be called for every event, like any "
                              "other callback: " + explain(seen, expected))


def observe_added_during_the_fit(ch):
    log = []
    late = tracer(ch, log, tag="late")

    class Adder(ch.Callback):
        def after_epoch(self):
            if late not in self.run.cbs:
                late.set_runner(self.run)
                self.run.cbs.append(late)

    ch.Runner(cbs=[Adder()]).fit(2, make_learn())
    return [event for tag, event in log]


@exercise("ch05.Runner", points=3)
def test_runner_calls_a_callback_added_during_the_fit(probe):
    got = probe(observe_added_during_the_fit)
    expected = full_epoch() + ["after_fit"]
    assert got == expected, (
        "a callback appended to run.cbs in after_epoch of the first epoch must see every event from the next "
        "one on, as in the lesson's Runner (which sorted run.cbs at every event): " + explain(got, expected))


def observe_escaping_cancel_epoch(ch, event):
    log = []
    run = ch.Runner(cbs=[tracer(ch, log, raise_at=event, exc=ch.CancelEpochException)])
    return {"fit": outcome(run.fit, 1, make_learn()), "log": log}


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_epoch", "begin_validate", "after_epoch"])
def test_runner_lets_cancel_epoch_outside_the_batches_escape(probe, event):
    seen = probe(observe_escaping_cancel_epoch, event)
    log = seen["log"]
    assert seen["fit"].get("raised") == "CancelEpochException", (
        f"CancelEpochException raised in {event} (outside a pass over the batches) must escape fit(); "
        f"fit() gave {seen['fit']}, the events were {log}")
    assert log[-1] == "after_fit" and "after_cancel_epoch" not in log, (
        f"CancelEpochException raised in {event} (outside a pass over the batches) is not caught: fit() runs "
        f"after_fit and lets it escape; got the events {log}")


def observe_trained_weights(ch, momentum):
    learn = make_learn(momentum=momentum)
    ch.Runner().fit(3, learn)
    return state_of(learn.model)


def valid_loss(data, weight, bias):
    x, y = data.valid_dl.dataset.tensors
    return F.mse_loss(F.linear(x, weight, bias), y).item()


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_runner_trains_like_a_plain_loop(probe, momentum):
    state = probe(observe_trained_weights, momentum)
    oracle = make_learn(momentum=momentum)
    data = oracle.data
    before = valid_loss(data, oracle.model.weight.detach(), oracle.model.bias.detach())
    plain_loop(oracle, 3)
    assert isinstance(state, dict) and list(state) == ["weight", "bias"], f"the model's state_dict came back as {state!r}"
    for (name, got), want in zip(state.items(), oracle.model.state_dict().values()):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=lambda m: (
            f"after Runner().fit(3, learn), {name} differs from a plain loop (forward, loss, backward, step, "
            f"zero_grad per training batch; nothing learnt from validation batches): {m}"))
    after = valid_loss(data, state["weight"], state["bias"])
    assert after < before / 2, f"validation loss went from {before:.4f} to {after:.4f}: the fit did not learn"


def observe_runner_state(ch):
    seen = []

    class Spy(ch.Callback):
        _order = 10

        def after_pred(self):
            seen.append(dict(in_train=self.in_train, grad=torch.is_grad_enabled(), training=self.model.training,
                             bs=len(self.xb), ybs=len(self.yb), pred=tuple(self.pred.shape), iters=self.iters,
                             epochs=self.epochs))

        def after_loss(self):
            seen[-1]["loss"] = self.loss.dim()

    run = ch.Runner(cb_funcs=Spy)
    run.fit(2, make_learn())
    spy = getattr(run, "spy", None)
    return {"spy_is_the_callback": spy is not None and spy is next((cb for cb in run.cbs if isinstance(cb, Spy)), None),
            "seen": seen, "n_iter": run.n_iter, "n_epochs": scalar(run.n_epochs)}


@exercise("ch05.Runner", points=3)
def test_runner_state_seen_by_callbacks(probe):
    got = probe(observe_runner_state)
    assert got["spy_is_the_callback"], "Runner(cb_funcs=Spy) must make one Spy, keep it in run.cbs and as run.spy"
    seen = got["seen"]
    expected = [dict(in_train=True, grad=True, training=True, bs=4, ybs=4, pred=(4, 1), iters=2, epochs=2, loss=0)] * 2 \
        + [dict(in_train=False, grad=False, training=False, bs=3, ybs=3, pred=(3, 1), iters=1, epochs=2, loss=0)]
    assert seen == expected * 2, (
        "what a callback sees in after_pred (validation without gradients, model in eval mode; xb, yb, pred, "
        f"iters = batches in the current loader, epochs): expected {expected * 2}, got {seen}")
    assert got["n_iter"] == 4 and got["n_epochs"] == pytest.approx(2.0), \
        f"after 2 epochs of 2 batches: expected n_iter 4 and n_epochs 2.0, got {got['n_iter']} and {got['n_epochs']}"


def observe_batch_positions(ch):
    """(in_train, iter, iters, whether dl is the loader of the current pass) at each after_pred of a 2-epoch fit."""
    seen = []

    class Where(ch.Callback):
        def after_pred(self):
            loader = self.data.train_dl if self.in_train else self.data.valid_dl
            seen.append((self.in_train, self.iter, self.iters, self.dl is loader))

    ch.Runner(cbs=[Where()]).fit(2, make_learn(regression_data(n_train=10, n_valid=3, bs=4)))
    return seen


@exercise("ch05.Runner", points=3)
def test_runner_sets_iter_and_dl_for_each_batch(probe):
    seen = probe(observe_batch_positions)
    # 10 training samples in batches of 4: 3 batches, the last one of 2; 3 validation samples: one batch of 3
    epoch = [(True, 0, 3, True), (True, 1, 3, True), (True, 2, 3, True), (False, 0, 1, True)]
    assert seen == epoch * 2, (
        "what a callback sees in after_pred, as (in_train, iter, iters, dl is the current loader): iter counts the "
        f"batches of the current pass from 0 (as enumerate does), iters is len(dl); expected {epoch * 2}, got {seen}")


def observe_two_fits(ch):
    log = []
    run = ch.Runner(cbs=[tracer(ch, log)])
    run.fit(1, make_learn())
    run.fit(1, make_learn(seed=1))
    return log


@exercise("ch05.Runner", points=3)
def test_runner_can_fit_again(probe):
    log = probe(observe_two_fits)
    expected = (["begin_fit"] + full_epoch() + ["after_fit"]) * 2
    assert log == expected, "two fits with the same Runner: " + explain(log, expected)


# --- AvgStats -----------------------------------------------------------------------------------

def batches_of(sizes, seed):
    g = torch.Generator().manual_seed(seed)
    n = sum(sizes)
    pred = torch.randn(n, 4, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    return pred, y, list(zip(pred.split(sizes), y.split(sizes)))


def accumulate_all(stats, batches, requires_grad=False):
    for pred, yb in batches:
        pred = pred.clone().requires_grad_(requires_grad)
        run = SimpleNamespace(xb=torch.zeros(len(yb), 784), yb=yb, pred=pred, loss=F.cross_entropy(pred, yb))
        stats.accumulate(run)


def accuracy(out, yb):
    return (out.argmax(dim=1) == yb).float().mean()


def observe_avg_stats(ch, batches):
    stats = ch.AvgStats([accuracy], in_train=True)
    stats.reset()
    accumulate_all(stats, batches)
    return {"count": stats.count, "avg_stats": stats.avg_stats}


@exercise("ch05.AvgStats", points=2)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_avg_stats_weights_by_batch_size(probe, sizes, seed):
    pred, y, batches = batches_of(sizes, seed)
    seen = probe(observe_avg_stats, batches)
    got = seen["avg_stats"]
    expected = [F.cross_entropy(pred, y).item(), (pred.argmax(1) == y).float().mean().item()]
    assert seen["count"] == sum(sizes), f"batches of sizes {sizes}: count should be {sum(sizes)}, got {seen['count']}"
    assert all(isinstance(v, float) for v in got), f"avg_stats must be a list of floats, got {got!r}"
    torch.testing.assert_close(torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                               rtol=1e-5, atol=1e-6, msg=lambda m: (
        f"batches of sizes {sizes}: avg_stats should be [loss, accuracy] over all {sum(sizes)} samples "
        f"{expected} (weight each batch mean by its size), got {got}: {m}"))


def observe_avg_stats_of_losses(ch, batches):
    """avg_stats of an AvgStats without metrics after batches of (size, loss)."""
    stats = ch.AvgStats([], in_train=False)
    stats.reset()
    for n, loss in batches:
        stats.accumulate(SimpleNamespace(xb=torch.zeros(n, 3), yb=torch.zeros(n), pred=torch.zeros(n, 2),
                                         loss=torch.tensor(loss)))
    return stats.avg_stats


@exercise("ch05.AvgStats", points=2)
def test_avg_stats_uneven_last_batch_by_hand(probe):
    got = probe(observe_avg_stats_of_losses, [(4, 1.0), (4, 2.0), (2, 7.0)])
    expected = (4 * 1.0 + 4 * 2.0 + 2 * 7.0) / 10  # 2.6, not the mean of batch means (3.333)
    assert got == pytest.approx([expected]), f"batch losses 1, 2, 7 on 4, 4, 2 samples: expected [{expected}], got {got}"


def observe_avg_stats_reset(ch, batches):
    stats = ch.AvgStats([accuracy], in_train=True)
    stats.reset()
    accumulate_all(stats, batches, requires_grad=True)
    totals = list(stats.all_stats)
    stats.reset()
    count = stats.count
    accumulate_all(stats, batches[1:])
    return {"totals": totals, "count_after_reset": count, "avg_stats": stats.avg_stats}


@exercise("ch05.AvgStats", points=2)
def test_avg_stats_reset_and_detach(probe):
    pred, y, batches = batches_of([5, 3], seed=1)
    seen = probe(observe_avg_stats_reset, batches)
    for total in seen["totals"]:
        assert not (isinstance(total, torch.Tensor) and tensor_info(total).requires_grad), \
            "the totals must be detached (loss.detach()): otherwise every batch's graph stays in memory"
    assert seen["count_after_reset"] == 0, f"reset() must zero the count, got {seen['count_after_reset']}"
    expected = [F.cross_entropy(pred[5:], y[5:]).item(), (pred[5:].argmax(1) == y[5:]).float().mean().item()]
    assert seen["avg_stats"] == pytest.approx(expected, rel=1e-5), \
        f"after reset() and one batch, avg_stats must cover that batch only: expected {expected}, got {seen['avg_stats']}"


def observe_avg_stats_without_batches(ch):
    """avg_stats of a new AvgStats with one metric, and again after a batch and a reset()."""
    stats = ch.AvgStats([accuracy], in_train=False)
    fresh = stats.avg_stats
    accumulate_all(stats, batches_of([3], seed=2)[2])
    stats.reset()
    return {"fresh": fresh, "after_reset": stats.avg_stats}


@exercise("ch05.AvgStats", points=2)
def test_avg_stats_of_an_empty_pass_are_nan(probe):
    seen = probe(observe_avg_stats_without_batches)
    for when, got in seen.items():
        assert isinstance(got, list) and len(got) == 2 and all(isinstance(v, float) and v != v for v in got), (
            f"avg_stats of AvgStats([accuracy]) with no batch ({when.replace('_', ' ')}), as in a skipped validation "
            f"pass, must be [nan, nan] (one per stat: the mean of nothing is not 0); got {got}")


# --- LRFinder -----------------------------------------------------------------------------------

def lr_logger(ch, log):
    """A callback that records each training batch's learning rate (read after begin_batch)."""
    def after_pred(self):
        if self.in_train:
            log.append(scalar(self.opt.param_groups[0]["lr"]))
    return type("LogLRCallback", (ch.Callback,), {"_order": 5, "after_pred": after_pred})()


def flat_loss(pred, yb):
    """A loss that never changes, so the finder stops only at max_iter."""
    return F.mse_loss(pred, yb) * 0 + 1.0


def finder_fit(ch, learn, epochs=10, **kwargs):
    lrs, log = [], []
    run = ch.Runner(cbs=[ch.LRFinder(**kwargs), lr_logger(ch, lrs), tracer(ch, log)])
    run.fit(epochs, learn)
    return lrs, log


def observe_finder(ch, max_iter, min_lr, max_lr, script=None):
    """An LR finder's fit on 4 training batches a epoch: the learning rates, the events, and (with `script`,
    the training losses to report one after the other) the training losses the finder was shown."""
    consumed = []
    if script is None:
        loss_func = flat_loss
    else:
        losses = iter(script)

        def loss_func(pred, yb):
            if not torch.is_grad_enabled():  # validation: not part of the script
                return F.mse_loss(pred, yb)
            consumed.append(next(losses))
            return F.mse_loss(pred, yb) * 0 + consumed[-1]

    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=loss_func)
    lrs, log = finder_fit(ch, learn, max_iter=max_iter, min_lr=min_lr, max_lr=max_lr)
    return {"lrs": lrs, "log": log, "consumed": consumed}


@exercise("ch05.LRFinder", points=3)
@pytest.mark.parametrize("max_iter, min_lr, max_lr", [(12, 1e-6, 1e-2), (5, 1e-4, 1.0)])
def test_lr_finder_exponential_schedule(probe, max_iter, min_lr, max_lr):
    seen = probe(observe_finder, max_iter, min_lr, max_lr)
    lrs, log = seen["lrs"], seen["log"]
    expected = [min_lr * (max_lr / min_lr) ** (i / max_iter) for i in range(max_iter + 1)]
    assert lrs == pytest.approx(expected, rel=1e-9), (
        f"LRFinder(max_iter={max_iter}, min_lr={min_lr}, max_lr={max_lr}): batch i must use "
        f"min_lr*(max_lr/min_lr)**(i/max_iter) for i = 0..max_iter and then stop; expected {expected}, got {lrs}")
    assert "after_cancel_train" in log and log[-1] == "after_fit", \
        "the finder must stop the fit with CancelTrainException"


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_skips_validation(probe):
    log = probe(observe_finder, 6, 1e-5, 1e-3)["log"]
    n_valid, validating = 0, False
    for event in log:
        validating = (validating or event == "begin_validate") and event != "begin_epoch"
        n_valid += validating and event == "begin_batch"
    assert n_valid == 0, f"the finder must skip validation (begin_validate returns True); {n_valid} validation batches ran"


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_stops_when_the_loss_explodes(probe):
    script = [5.0, 3.0, 2.0, 4.0, 20.0, 19.0, 25.0] + [1.0] * 50
    consumed = probe(observe_finder, 40, 1e-6, 1e-4, script)["consumed"]
    assert consumed == [5.0, 3.0, 2.0, 4.0, 20.0, 19.0, 25.0], (
        "training losses 5, 3, 2, 4, 20, 19, 25, 1, ...: the best is 2, so the finder must go on at 20 (not more "
        f"than 10x the best) and stop after 25; it saw {consumed}")


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_stops_at_a_nan_loss(probe):
    script = [5.0, 3.0, float("nan"), 2.0, 1.0] + [1.0] * 50
    consumed = probe(observe_finder, 40, 1e-6, 1e-4, script)["consumed"]
    assert len(consumed) == 3, (
        f"training losses 5, 3, nan, ...: a NaN loss is never greater than 10x the best, but the finder must stop "
        f"there (its docstring says so: nothing after a NaN is worth reading); it went on to see {consumed}")


def observe_finder_restores(ch, max_lr):
    """A model trained for an epoch with momentum (so momentum buffers exist), then an LR finder's fit: the
    weights and the optimiser's state when the finder started and after it."""
    learn = make_learn(regression_data(n_train=8, bs=2), lr=0.05, momentum=0.9)
    plain_loop(learn, 1)  # momentum buffers now exist
    params = list(learn.model.parameters())
    weights, opt_state = state_of(learn.model), copy.deepcopy(learn.opt.state_dict())
    lrs, _ = finder_fit(ch, learn, max_iter=15, min_lr=1e-4, max_lr=max_lr)
    now = learn.opt.state_dict()
    return {"lrs": lrs, "weights_before": weights, "weights_after": state_of(learn.model),
            "same_parameters": [p is q for p, q in zip(learn.model.parameters(), params)],
            "lr_before": opt_state["param_groups"][0]["lr"], "lr_after": scalar(now["param_groups"][0]["lr"]),
            "buffers_before": {key: state["momentum_buffer"] for key, state in opt_state["state"].items()},
            "buffers_after": {key: now["state"].get(key, {}).get("momentum_buffer") for key in opt_state["state"]}}


@exercise("ch05.LRFinder", points=3)
@pytest.mark.parametrize("max_lr", [1e-2, 1e3])
def test_lr_finder_restores_model_and_optimiser(probe, max_lr):
    seen = probe(observe_finder_restores, max_lr)
    assert len(seen["lrs"]) > 1, "the finder did not train"
    weights = seen["weights_before"]
    for name, value in seen["weights_after"].items():
        assert torch.equal(value, weights[name]), (
            f"after the LR finder (max_lr={max_lr}), model weight {name} is {value.flatten().tolist()}, expected it "
            f"restored to {weights[name].flatten().tolist()}: save a deep copy of the state_dict at begin_fit")
    assert seen["same_parameters"] == [True] * len(weights), \
        "restore the weights into the same Parameter objects (load_state_dict), so the optimiser still holds them"
    assert seen["lr_after"] == seen["lr_before"], \
        f"the optimiser's lr should be restored to {seen['lr_before']}, got {seen['lr_after']}"
    for key, buffer in seen["buffers_before"].items():
        after = seen["buffers_after"][key]
        assert isinstance(after, torch.Tensor) and torch.equal(after, buffer), \
            "the optimiser's momentum buffers must be restored too (save and load opt.state_dict())"


def observe_finder_groups(ch, max_iter, min_lr, max_lr):
    """An LR finder's fit with two parameter groups (lr 0.1 and 0.3): each group's learning rate at each training
    batch (read after begin_batch), and each group's learning rate after the fit."""
    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=flat_loss)
    model = learn.model
    learn.opt = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.3}], lr=0.1)
    lrs = []

    class GroupsLR(ch.Callback):
        _order = 5

        def after_pred(self):
            if self.in_train:
                lrs.append([scalar(pg["lr"]) for pg in self.opt.param_groups])

    ch.Runner(cbs=[ch.LRFinder(max_iter=max_iter, min_lr=min_lr, max_lr=max_lr), GroupsLR()]).fit(10, learn)
    return {"lrs": lrs, "after": [scalar(pg["lr"]) for pg in learn.opt.param_groups]}


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_sets_every_parameter_group(probe):
    seen = probe(observe_finder_groups, 6, 1e-4, 1e-1)
    expected = [1e-4 * (1e-1 / 1e-4) ** (i / 6) for i in range(7)]
    got = seen["lrs"]
    assert [len(g) for g in got] == [2] * len(got) and len(got) == 7, \
        f"LRFinder(max_iter=6) on an optimiser with two parameter groups: expected 7 batches of 2 lrs, got {got}"
    for group in (0, 1):
        assert [g[group] for g in got] == pytest.approx(expected, rel=1e-9), (
            f"LRFinder(max_iter=6, min_lr=1e-4, max_lr=0.1) with two parameter groups: every group gets the same "
            f"exponential schedule {expected}; group {group} had {[g[group] for g in got]}")
    assert seen["after"] == pytest.approx([0.1, 0.3]), \
        f"after the search each group's lr must be restored (0.1 and 0.3), got {seen['after']}"


def observe_finder_reused(ch, levels, max_iter=6):
    """One LRFinder through one fit per entry of `levels`, the model trained for an epoch before each: the losses
    reported are `levels[k]` (the gradients are mse's); for each fit the losses it was shown, and the weights at
    its start and after it."""
    fit = {"k": 0}
    consumed = [[] for _ in levels]

    def loss_func(pred, yb):
        mse = F.mse_loss(pred, yb)
        if not torch.is_grad_enabled():
            return mse
        consumed[fit["k"]].append(levels[fit["k"]])
        return mse - mse.detach() + levels[fit["k"]]

    learn = make_learn(regression_data(n_train=8, bs=2), lr=0.05)
    finder = ch.LRFinder(max_iter=max_iter, min_lr=1e-4, max_lr=1e-2)
    run = ch.Runner(cbs=[finder])
    before, after = [], []
    for k in range(len(levels)):
        fit["k"] = k
        learn.loss_func = F.mse_loss
        plain_loop(learn, 1)
        learn.loss_func = loss_func
        before.append(state_of(learn.model))
        run.fit(10, learn)
        after.append(state_of(learn.model))
    return {"consumed": consumed, "before": before, "after": after}


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_can_search_again(probe):
    seen = probe(observe_finder_reused, [0.01, 1.0])
    first, second = seen["consumed"]
    assert len(first) == 7, f"first search (max_iter=6, every loss 0.01): expected 7 batches, it ran {len(first)}"
    assert len(second) == 7, (
        f"a second search with the same LRFinder, every loss 1.0: expected 7 batches (the loss never exceeds 10x the "
        f"best of this search), it ran {len(second)}: reset best_loss to infinity in begin_fit, or the best of the "
        "first search (0.01) stops the second one at once")
    for k, (start, end) in enumerate(zip(seen["before"], seen["after"])):
        for name, value in end.items():
            assert torch.equal(value, start[name]), \
                f"after search {k + 1}, {name} must be restored to what it was when that search began"


# --- combine_scheds -----------------------------------------------------------------------------

def lin(a, b):
    return lambda pos: a + pos * (b - a)


@st.composite
def phases(draw):
    n = draw(st.integers(1, 6))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(-10, 10), min_size=n + 1, max_size=n + 1))
    return [r / sum(raw) for r in raw], values


def observe_linear_phases(ch, pcts, values, positions):
    """combine_scheds(pcts, linear phases through `values`) at each of `positions`."""
    f = ch.combine_scheds(pcts, [lin(a, b) for a, b in zip(values, values[1:])])
    return [scalar(f(p)) for p in positions]


@exercise("ch05.combine_scheds", points=2)
@given(phases())
def test_combine_scheds_matches_interpolation(probe, case):
    pcts, values = case
    knots = np.concatenate([[0.0], np.cumsum(pcts)])
    knots[-1] = 1.0
    positions = np.unique(np.concatenate([np.linspace(0, 1, 41), knots]))
    got = np.array(probe(observe_linear_phases, pcts, values, [float(p) for p in positions]))
    expected = np.interp(positions, knots, values)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=(
        f"combine_scheds({pcts}, linear phases through {values}) at positions {positions.tolist()}"))


def observe_local_positions(ch, pcts, positions):
    """The positions combine_scheds(pcts, recording schedules) passed on to the schedules."""
    seen = []
    f = ch.combine_scheds(pcts, [lambda pos: seen.append(pos) or 0.0 for _ in pcts])
    for p in positions:
        f(p)
    return [scalar(s) for s in seen]


@exercise("ch05.combine_scheds", points=2)
@given(phases())
def test_combine_scheds_local_positions_stay_in_0_1(probe, case):
    pcts, _ = case
    seen = probe(observe_local_positions, pcts, [float(p) for p in np.linspace(0, 1, 21)])
    bad = [s for s in seen if not 0.0 <= s <= 1.0]
    assert not bad, f"combine_scheds({pcts}): each schedule must be called with a position in [0, 1], got {bad}"


def observe_three_phases(ch, positions):
    f = ch.combine_scheds([0.6, 0.3, 0.1], [lambda pos: 1 + pos, lambda pos: 10 + pos, lambda pos: 100 + pos])
    values = [scalar(f(p)) for p in positions]
    g = ch.combine_scheds([0.25, 0.75], [lambda pos: 0.0, lambda pos: 5.0 + pos])
    return {"f": values, "g": scalar(g(0.25))}


@exercise("ch05.combine_scheds", points=2)
def test_combine_scheds_three_phases_and_the_end(probe):
    # pcts [0.6, 0.3, 0.1] sums to 0.9999999999999999 in floating point
    cases = [(0.0, 1.0), (0.3, 1.5), (0.75, 10.5), (0.95, 100.5), (1.0, 101.0)]
    seen = probe(observe_three_phases, [pos for pos, _ in cases])
    for (pos, expected), got in zip(cases, seen["f"]):
        assert got == pytest.approx(expected, abs=1e-9), \
            f"combine_scheds([0.6, 0.3, 0.1], [1+pos, 10+pos, 100+pos])({pos}): expected {expected}, got {got}"
    assert seen["g"] == 5.0, f"phase 2 starts at 0.25 (phases are [start, end)); f(0.25) gave {seen['g']}"


def observe_empty_phases(ch):
    empty_calls = []

    def never(pos):
        empty_calls.append(scalar(pos))
        return 0.0

    f = ch.combine_scheds([0.5, 0.0, 0.5], [lin(0, 1), never, lin(2, 3)])
    values = [scalar(f(p)) for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    g = ch.combine_scheds([0.5, 0.5, 0.0], [lin(0, 1), lin(2, 3), never])
    return {"f": values, "g_at_1": scalar(g(1.0)), "empty_phase_called_with": empty_calls}


@exercise("ch05.combine_scheds", points=2)
def test_combine_scheds_empty_phases_are_never_used(probe):
    seen = probe(observe_empty_phases)
    assert seen["empty_phase_called_with"] == [], \
        f"an empty phase's schedule was called (with positions {seen['empty_phase_called_with']}): it must never be used"
    assert seen["f"] == pytest.approx([0, 0.5, 2, 2.5, 3])
    assert seen["g_at_1"] == pytest.approx(3.0), \
        f"with an empty last phase, f(1.0) must end the last non-empty one; got {seen['g_at_1']}"


def observe_bad_fractions(ch, pcts, n_scheds):
    return outcome(ch.combine_scheds, pcts, [lin(0, 1)] * n_scheds)


@exercise("ch05.combine_scheds", points=2)
@pytest.mark.parametrize("pcts, n_scheds", [([0.5, 0.4], 2), ([0.5, 0.6], 2), ([0.5, 0.5], 3), ([1.2, -0.2], 2)])
def test_combine_scheds_rejects_bad_fractions(probe, pcts, n_scheds):
    got = probe(observe_bad_fractions, pcts, n_scheds)
    assert got.get("raised") == "ValueError", \
        f"combine_scheds({pcts}, {n_scheds} schedules) must raise ValueError; it gave {got}"


# --- EarlyStoppingCallback ----------------------------------------------------------------------

def early_stopping_fit(ch, cb, valid_losses):
    """Fit with validation batches of 3 and 1 samples whose losses in epoch e are valid_losses[e] (None: that
    epoch's validation pass is skipped, begin_validate returning True)."""
    state = {"epoch": 0, "batch": 0}

    def loss_func(pred, yb):
        if torch.is_grad_enabled():
            return F.mse_loss(pred, yb)
        a, b = valid_losses[state["epoch"]] if isinstance(valid_losses[state["epoch"]], tuple) \
            else (valid_losses[state["epoch"]],) * 2
        state["batch"] += 1
        return F.mse_loss(pred, yb) * 0 + (a if len(yb) == 3 else b)

    class EpochOf(ch.Callback):
        _order = -10

        def begin_epoch(self):
            state["epoch"] = self.epoch

        def begin_validate(self):
            return valid_losses[state["epoch"]] is None

    log = []
    learn = make_learn(regression_data(n_train=4, n_valid=4, bs=3, valid_bs=3), loss_func=loss_func)
    ch.Runner(cbs=[cb, EpochOf(), tracer(ch, log)]).fit(len(valid_losses), learn)
    return log.count("begin_epoch")


def observe_early_stopping(ch, fits, patience, min_delta=None):
    """One EarlyStoppingCallback through one fit per entry of `fits` (each epoch's validation losses): after
    each fit, the epochs run and what the callback holds."""
    cb = ch.EarlyStoppingCallback(patience=patience) if min_delta is None else \
        ch.EarlyStoppingCallback(patience=patience, min_delta=min_delta)
    results = []
    for valid_losses in fits:
        n = early_stopping_fit(ch, cb, valid_losses)
        results.append({"epochs": n, "stopped_epoch": scalar(cb.stopped_epoch), "best": scalar(cb.best),
                        "best_epoch": scalar(cb.best_epoch)})
    return results


def observe_new_early_stopping(ch):
    """What a new EarlyStoppingCallback holds before any fit, made with its defaults and with settings."""
    def state(cb):
        return {name: outcome(lambda: scalar(getattr(cb, name)))
                for name in ("patience", "min_delta", "best", "wait", "best_epoch", "stopped_epoch")}
    return {"defaults": state(ch.EarlyStoppingCallback()), "given": state(ch.EarlyStoppingCallback(5, 0.25))}


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_before_any_fit(probe):
    seen = probe(observe_new_early_stopping)
    for made, settings in [("defaults", (3, 0.0)), ("given", (5, 0.25))]:
        expected = {"patience": settings[0], "min_delta": settings[1], "best": float("inf"), "wait": 0,
                    "best_epoch": None, "stopped_epoch": None}
        got = seen[made]
        call = "EarlyStoppingCallback()" if made == "defaults" else "EarlyStoppingCallback(5, 0.25)"
        for name, value in expected.items():
            assert got[name] == {"returned": value}, (
                f"a new {call}, before any fit, should have {name} = {value!r} (set in __init__, not only in "
                f"begin_fit); reading it gave {got[name]}")


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_runs_on_while_improving(probe):
    (got,) = probe(observe_early_stopping, [[5.0, 4.0, 4.5, 3.0, 2.0]], 2)
    assert got["epochs"] == 5 and got["stopped_epoch"] is None, \
        f"validation losses 5, 4, 4.5, 3, 2 with patience 2: all 5 epochs must run; ran {got['epochs']}, " \
        f"stopped_epoch {got['stopped_epoch']}"
    assert got["best"] == pytest.approx(2.0) and got["best_epoch"] == 4, \
        f"best should be 2.0 at epoch 4, got {got['best']} at {got['best_epoch']}"


@exercise("ch05.EarlyStoppingCallback", points=2)
@pytest.mark.parametrize("patience, expected_epochs", [(1, 2), (2, 3), (3, 4)])
def test_early_stopping_patience(probe, patience, expected_epochs):
    (got,) = probe(observe_early_stopping, [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], patience)
    n = got["epochs"]
    assert n == expected_epochs and got["stopped_epoch"] == expected_epochs - 1, (
        f"validation losses 1, 2, 3, ... with patience {patience}: expected to stop after epoch "
        f"{expected_epochs - 1} ({expected_epochs} epochs run), ran {n} epochs, stopped_epoch {got['stopped_epoch']}")
    assert got["best"] == pytest.approx(1.0) and got["best_epoch"] == 0


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_min_delta(probe):
    (got,) = probe(observe_early_stopping, [[1.0, 0.95, 0.85, 0.7, 0.65, 0.62]], 2, 0.1)
    # 0.95: no (needs < 0.9); 0.85: yes; 0.7: yes; 0.65: no (needs < 0.6); 0.62: no -> stop after epoch 5
    assert got["epochs"] == 6 and got["stopped_epoch"] == 5 and got["best"] == pytest.approx(0.7), (
        f"losses 1, 0.95, 0.85, 0.7, 0.65, 0.62 with min_delta 0.1, patience 2: improvements only at 0.85 and 0.7, "
        f"stop after epoch 5; got {got['epochs']} epochs, stopped_epoch {got['stopped_epoch']}, best {got['best']}")


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_weights_batches_and_resets(probe):
    # (3 samples, 1 sample): weighted means 1.5, 1.25, 1.75; unweighted means 2.5, 3.0, 2.0
    first, second = probe(observe_early_stopping, [[(1.0, 3.0), (0.0, 5.0), (2.0, 0.0)], [3.0, 2.0]], 1)
    assert first["epochs"] == 3 and first["stopped_epoch"] == 2 and first["best"] == pytest.approx(1.25), (
        "validation batches of 3 and 1 samples with losses (1, 3), (0, 5), (2, 0): the epoch losses are "
        f"1.5, 1.25, 1.75 (weighted by batch size); expected best 1.25 and a stop after epoch 2, got best "
        f"{first['best']}, stopped_epoch {first['stopped_epoch']}, {first['epochs']} epochs")
    assert second["epochs"] == 2 and second["stopped_epoch"] is None and second["best"] == pytest.approx(2.0), \
        "a second fit with the same callback must start afresh (reset in begin_fit)"


@exercise("ch05.EarlyStoppingCallback", points=2)
@pytest.mark.parametrize("losses, min_delta", [([1.0, 0.5, 0.25], 0.5), ([1.0, 1.0, 0.5], 0.0)])
def test_early_stopping_a_loss_at_best_minus_min_delta_is_no_improvement(probe, losses, min_delta):
    (got,) = probe(observe_early_stopping, [losses], 1, min_delta)
    assert got["epochs"] == 2 and got["stopped_epoch"] == 1 and got["best"] == pytest.approx(1.0), (
        f"validation losses {losses} with min_delta {min_delta}, patience 1: epoch 1's loss {losses[1]} equals "
        f"best - min_delta = {1.0 - min_delta}, which is not below it, so it is no improvement and the callback stops "
        f"after epoch 1 (improvement means valid_loss < best - min_delta, strictly); got {got['epochs']} epochs, "
        f"stopped_epoch {got['stopped_epoch']}, best {got['best']}")


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_an_epoch_without_validation_changes_nothing(probe):
    (got,) = probe(observe_early_stopping, [[2.0, None, None, 3.0, 1.0]], 2)
    assert got["epochs"] == 5 and got["stopped_epoch"] is None, (
        "validation losses 2, (skipped), (skipped), 3, 1 with patience 2: an epoch with no validation batches "
        f"changes nothing (it is neither an improvement nor a wait), so all 5 epochs run; ran {got['epochs']}, "
        f"stopped_epoch {got['stopped_epoch']}")
    assert got["best"] == pytest.approx(1.0) and got["best_epoch"] == 4, \
        f"best should be 1.0 at epoch 4, got {got['best']} at {got['best_epoch']}"


# --- suggest_lr ---------------------------------------------------------------------------------

def ewma_debiased(values, mom):
    """Oracle: smooth_i = sum_j (1-mom)**(i-j) x_j / sum_j (1-mom)**(i-j), the debiased EWMA in closed form."""
    values = np.asarray(values, dtype=np.float64)
    out = []
    for i in range(len(values)):
        w = (1 - mom) ** np.arange(i, -1, -1.0)
        out.append(float(np.dot(w, values[:i + 1]) / w.sum()))
    return out


curves = st.lists(st.floats(0.01, 10.0), min_size=2, max_size=40)


def observe_suggest_lr(ch, lrs, losses, **kwargs):
    return scalar(ch.suggest_lr(lrs, losses, **kwargs))


@exercise("ch05.suggest_lr", points=2)
@given(losses=curves)
def test_suggest_lr_without_smoothing(probe, losses):
    lrs = [1e-6 * 1.5 ** i for i in range(len(losses))]
    got = probe(observe_suggest_lr, lrs, losses, mom=1)
    expected = lrs[int(np.argmin(losses))] / 10
    # A loss drawn twice is a tie: avg + 1 * (loss - avg) rounds, so either of the tied points is fine.
    tied = [lrs[i] / 10 for i, loss in enumerate(losses) if loss - min(losses) < 1e-9]
    assert any(got == pytest.approx(lr, rel=1e-12) for lr in tied), \
        f"suggest_lr(mom=1) on losses {losses}: the lowest loss is at lr {expected * 10}, expected {expected}, got {got}"


@exercise("ch05.suggest_lr", points=2)
@given(losses=curves, mom=st.sampled_from([0.5, 0.1, 0.02]), divisor=st.sampled_from([10.0, 3.0]))
# A curve on which the raw losses, the undebiased average, mom taken the other way round and the right rule
# all point at different learning rates, so a failure says which of them the code computed.
@example(losses=[4.9, 1.6, 1.8, 3.0, 2.3, 2.5], mom=0.1, divisor=10.0)
def test_suggest_lr_with_smoothing(probe, losses, mom, divisor):
    lrs = [1e-5 * 1.3 ** i for i in range(len(losses))]
    got = probe(observe_suggest_lr, lrs, losses, mom=mom, divisor=divisor)
    smooth = ewma_debiased(losses, mom)
    best = int(np.argmin(smooth))
    if sorted(smooth)[1] - smooth[best] < 1e-9:  # a near tie: either answer is fine
        return
    assert got == pytest.approx(lrs[best] / divisor, rel=1e-12), (
        f"suggest_lr(mom={mom}, divisor={divisor}) (mom is the weight of the new loss, as in chapter 3): the debiased smoothed losses {smooth} are lowest at lr "
        f"{lrs[best]}, expected {lrs[best] / divisor}, got {got}")


def observe_suggest_lr_refusals(ch):
    return [outcome(ch.suggest_lr, [1e-3, 1e-2], [float("nan"), float("inf")]),
            outcome(ch.suggest_lr, [1e-3, 1e-2], [1.0])]


@exercise("ch05.suggest_lr", points=2)
def test_suggest_lr_skips_nan_and_inf(probe):
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    losses = [2.0, 1.0, float("nan"), 0.5, float("inf"), 9.0]
    got = probe(observe_suggest_lr, lrs, losses, mom=0.5)
    smooth = ewma_debiased([2.0, 1.0, 0.5, 9.0], 0.5)  # the finite points only
    expected = [1e-4, 1e-3, 1e-1, 10.0][int(np.argmin(smooth))] / 10
    assert got == pytest.approx(expected), f"losses {losses}: NaN and inf must be skipped; expected {expected}, got {got}"
    no_finite, mismatched = probe(observe_suggest_lr_refusals)
    assert no_finite.get("raised") == "ValueError", \
        f"suggest_lr([1e-3, 1e-2], [nan, inf]) (no finite loss) must raise ValueError; it gave {no_finite}"
    assert mismatched.get("raised") == "ValueError", \
        f"suggest_lr([1e-3, 1e-2], [1.0]) (lengths differ) must raise ValueError; it gave {mismatched}"


@exercise("ch05.suggest_lr", points=2)
@pytest.mark.parametrize("bad", [float("inf"), float("-inf")])
def test_suggest_lr_skips_an_infinite_loss_before_the_minimum(probe, bad):
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    losses = [2.0, bad, 1.0, 0.5, 3.0]
    got = probe(observe_suggest_lr, lrs, losses, mom=0.5)
    finite = [(lr, loss) for lr, loss in zip(lrs, losses) if np.isfinite(loss)]
    smooth = ewma_debiased([loss for _, loss in finite], 0.5)
    expected = finite[int(np.argmin(smooth))][0] / 10
    assert got == pytest.approx(expected, rel=1e-12), (
        f"suggest_lr({lrs}, {losses}, mom=0.5): an infinite loss is skipped like a NaN (math.isfinite, not "
        f"math.isnan), so the curve after it still counts; expected {expected}, got {got}")


# --- GradClipCallback ---------------------------------------------------------------------------

def observe_clipped_fit(ch, max_norm):
    learn = make_learn(regression_data(n_train=8, n_valid=2, bs=8), lr=0.1)
    cb = ch.GradClipCallback(max_norm)
    ch.Runner(cbs=[cb]).fit(2, learn)
    return {"norms": [scalar(n) for n in cb.norms], "weights": state_of(learn.model)}


@exercise("ch05.GradClipCallback", points=2)
@pytest.mark.parametrize("max_norm", [0.05, 1e6])
def test_grad_clip_matches_torch(probe, max_norm):
    seen = probe(observe_clipped_fit, max_norm)
    oracle = make_learn(regression_data(n_train=8, n_valid=2, bs=8), lr=0.1)
    norms = []
    for _ in range(2):
        for xb, yb in oracle.data.train_dl:
            oracle.loss_func(oracle.model(xb), yb).backward()
            norms.append(torch.nn.utils.clip_grad_norm_(oracle.model.parameters(), max_norm).item())
            oracle.opt.step()
            oracle.opt.zero_grad()
    assert seen["norms"] == pytest.approx(norms, rel=1e-5), \
        f"norms should hold the total gradient norm before clipping of each training batch, {norms}; got {seen['norms']}"
    for (name, got), want in zip(seen["weights"].items(), oracle.model.state_dict().values()):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=lambda m: (
            f"GradClipCallback({max_norm}): {name} differs from training with torch.nn.utils.clip_grad_norm_: {m}"))


def observe_clipped_gradients(ch, seed):
    """A model's gradients (one parameter without) after GradClipCallback(max_norm=2).after_backward()."""
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    g = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=g) * 10
    model[2].bias.grad = None  # a parameter without a gradient is skipped
    cb = ch.GradClipCallback(max_norm=2.0)
    cb.set_runner(SimpleNamespace(model=model, in_train=True))
    cb.after_backward()
    return [p.grad for p in model.parameters()]


@exercise("ch05.GradClipCallback", points=2)
def test_grad_clip_norm_after_clipping(probe):
    grads = probe(observe_clipped_gradients, 3)
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads if g is not None))
    assert total.item() == pytest.approx(2.0, rel=1e-5), \
        f"after clipping to max_norm=2 the total gradient norm should be 2, got {total.item()}"


# torch.nn.utils.clip_grad_norm_ is the oracle above: a callback that only calls it learns nothing.
CLIP_ORACLES = [(owner, attr) for owner in (torch.nn.utils, torch.nn.utils.clip_grad)
                for attr in ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_", "get_total_norm")]
CLIP_NAMES = {attr for _, attr in CLIP_ORACLES}


def observe_clip_calls(ch):
    """The clipping built-ins GradClipCallback.after_backward called, however it reached them."""
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full(p.shape, 5.0)
    cb = ch.GradClipCallback(max_norm=1.0)
    cb.set_runner(SimpleNamespace(model=model, in_train=True))
    with spying(CLIP_ORACLES) as called:
        cb.after_backward()
    return called


@exercise("ch05.GradClipCallback", points=2, handwritten=True)
def test_grad_clip_is_written_by_hand(probe):
    call, instead = "GradClipCallback.after_backward", "Compute the total norm and scale the gradients yourself."
    assert_written_by_hand(probe(observe_clip_calls), call, instead)
    assert_no_oracle_in_source(probe.references("GradClipCallback", CLIP_NAMES), call, instead)
