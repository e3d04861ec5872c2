"""Grades chapter 5: callbacks, the Runner and its events, statistics, schedules, the LR finder.

Oracles: the exact event sequence a fit must fire (written out by hand from the chapter's loop), a
plain PyTorch training loop (same data, same updates), whole-dataset statistics computed in one go
with PyTorch, `numpy.interp` for piecewise-linear schedules, the closed-form exponential schedule,
`torch.nn.utils.clip_grad_norm_`, and behaviour a caller can observe (what was restored, what ran).
"""
import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.testing import assert_written_by_hand, calls_during

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


def tracer(ch, log, raise_at=None, exc=None, when=None, returns=None, order=0, tag=None):
    """A callback (subclass of the chapter's Callback) that appends every event it sees to `log`.

    It raises `exc` the first time event `raise_at` fires while `when(run)` holds, and returns
    `returns[event]` from each event (None if absent)."""
    returns = returns or {}

    def handler(event):
        def method(self):
            log.append(event if tag is None else (tag, event))
            if event == raise_at and not self.raised and (when is None or when(self.run)):
                self.raised = True
                raise exc()
            return returns.get(event)
        return method

    cls = type("TraceCallback", (ch.Callback,), {**{e: handler(e) for e in EVENTS}, "_order": order})
    cb = cls()
    cb.raised = False
    return cb


def fit_trace(ch, epochs=1, **tracer_kwargs):
    log = []
    ch.Runner(cbs=[tracer(ch, log, **tracer_kwargs)]).fit(epochs, make_learn())
    return log


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


# --- Callback -----------------------------------------------------------------------------------

@exercise("ch05.Callback")
@pytest.mark.parametrize("class_name, expected", [
    ("TrainEvalCallback", "train_eval"), ("AvgStatsCallback", "avg_stats"), ("LRFinder", "lr_finder"),
    ("Recorder", "recorder"), ("CallbackCounter", "callback_counter"), ("Callback", "callback"),
])
def test_callback_name(ch, class_name, expected):
    cls = ch.Callback if class_name == "Callback" else type(class_name, (ch.Callback,), {})
    got = cls().name
    assert got == expected, f"{class_name}().name: expected {expected!r}, got {got!r}"


@exercise("ch05.Callback")
def test_callback_reads_missing_attributes_from_its_runner(ch):
    cb = type("WatchCallback", (ch.Callback,), {"own": "mine"})()
    run = SimpleNamespace(n_iter=3, model="the model", own="the runner's")
    cb.set_runner(run)
    assert cb.n_iter == 3 and cb.model == "the model", "cb.n_iter and cb.model must come from cb.run"
    run.n_iter = 7
    assert cb.n_iter == 7, "the look-up must read the runner's current value, not a copy taken at set_runner"
    assert cb.own == "mine", "an attribute the callback has itself must win over the runner's"
    with pytest.raises(AttributeError):
        cb.not_on_either


@exercise("ch05.Callback")
def test_callback_without_runner_raises_attribute_error_not_recursion(ch):
    cb = type("LonelyCallback", (ch.Callback,), {})()
    try:
        cb.anything
    except AttributeError:
        pass
    except RecursionError:
        pytest.fail("cb.anything before set_runner recursed forever: __getattr__ read self.run, "
                    "which is missing too, which called __getattr__ again")
    else:
        pytest.fail("cb.anything before set_runner must raise AttributeError")
    assert not hasattr(cb, "anything")
    copy.copy(cb)  # copy looks up __setstate__ and friends: they must not recurse either


@exercise("ch05.Callback")
def test_callback_call_returns_a_bool(ch):
    cls = type("AnswerCallback", (ch.Callback,), {"yes": lambda self: 1, "no": lambda self: None,
                                                  "empty": lambda self: []})
    cb = cls()
    cb.set_runner(SimpleNamespace(n_iter=0))
    assert cb("yes") is True, f"cb('yes') where yes() returns 1: expected True, got {cb('yes')!r}"
    assert cb("no") is False, f"cb('no') where no() returns None: expected False, got {cb('no')!r}"
    assert cb("empty") is False, f"cb('empty') where empty() returns []: expected False, got {cb('empty')!r}"
    assert cb("after_fit") is False, "an event the callback does not define must return False without error"


@exercise("ch05.Callback")
def test_callback_call_runs_the_method(ch):
    calls = []
    cb = type("CountCallback", (ch.Callback,), {"begin_fit": lambda self: calls.append("begin_fit")})()
    assert cb("begin_fit") is False and calls == ["begin_fit"], f"cb('begin_fit') must call begin_fit once; calls: {calls}"


# --- Runner -------------------------------------------------------------------------------------

@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("epochs", [1, 2])
def test_runner_event_sequence(ch, epochs):
    got = fit_trace(ch, epochs=epochs)
    expected = ["begin_fit"] + full_epoch() * epochs + ["after_fit"]
    assert got == expected, f"fit({epochs}) with 2 training and 1 validation batch: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", IN_BATCH)
@pytest.mark.parametrize("exc_name", ["CancelBatchException", "CancelEpochException", "CancelTrainException"])
def test_runner_cancel_in_a_training_batch(ch, exc_name, event):
    got = fit_trace(ch, raise_at=event, exc=getattr(ch, exc_name))
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
def test_runner_cancel_in_a_validation_batch(ch, exc_name, rest):
    got = fit_trace(ch, raise_at="after_pred", exc=getattr(ch, exc_name), when=lambda run: not run.in_train)
    expected = (["begin_fit", "begin_epoch"] + TRAIN_BATCH * 2 + ["begin_validate", "begin_batch", "after_pred"]
                + rest)
    assert got == expected, f"{exc_name} raised in after_pred of a validation batch: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_fit", "begin_epoch", "begin_validate", "after_epoch"])
def test_runner_cancel_train_outside_batches(ch, event):
    got = fit_trace(ch, epochs=2, raise_at=event, exc=ch.CancelTrainException)
    events = ["begin_fit"] + full_epoch() * 2
    expected = events[:events.index(event) + 1] + ["after_cancel_train", "after_fit"]
    assert got == expected, f"CancelTrainException raised in {event}: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_epoch", "begin_validate"])
def test_runner_true_skips_a_phase(ch, event):
    got = fit_trace(ch, epochs=2, returns={event: True})
    if event == "begin_epoch":
        epoch = ["begin_epoch", "begin_validate"] + VALID_BATCH + ["after_epoch"]
    else:
        epoch = ["begin_epoch"] + TRAIN_BATCH * 2 + ["begin_validate", "after_epoch"]
    expected = ["begin_fit"] + epoch * 2 + ["after_fit"]
    assert got == expected, f"a callback returning True from {event}: " + explain(got, expected)


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("answers", [(True, None), (None, True), (True, True), (None, None), (False, True)])
def test_runner_combines_answers_with_or(ch, answers):
    logs = [[], []]
    cbs = [tracer(ch, log, returns={"begin_validate": answer}) for log, answer in zip(logs, answers)]
    ch.Runner(cbs=cbs).fit(1, make_learn())
    skipped = any(answers)
    for i, log in enumerate(logs):
        assert "begin_validate" in log, (f"callback {i} (answers {answers}) never saw begin_validate: every "
                                         "callback must be called, even after another one returned True")
        n_valid = log[log.index("begin_validate"):].count("begin_batch")
        assert n_valid == (0 if skipped else 1), (
            f"begin_validate answers {answers}: expected {'no' if skipped else 'one'} validation batch, "
            f"got {n_valid} (one True among the callbacks must be enough: combine with `or`)")


@exercise("ch05.Runner", points=3)
def test_runner_sorts_callbacks_by_order(ch):
    log = []
    orders = {"a": 2, "b": -1, "c": 0, "d": 5, "e": -1}
    cbs = [tracer(ch, log, order=o, tag=t) for t, o in orders.items()]
    ch.Runner(cbs=cbs).fit(1, make_learn())
    got = [tag for tag, event in log if event == "begin_fit"]
    assert got == ["b", "e", "c", "a", "d"], (
        f"callbacks with _order {orders}, given in that order, ran begin_fit as {got}; expected them sorted by "
        "_order, ties in the order given: ['b', 'e', 'c', 'a', 'd']")
    batch = [tag for tag, event in log if event == "begin_batch"][:5]
    assert batch == ["b", "e", "c", "a", "d"], f"begin_batch ran in the order {batch}"


@exercise("ch05.Runner", points=3)
def test_runner_calls_a_callback_with_its_own_dispatch_for_every_event(ch):
    seen = []

    class Dispatcher(ch.Callback):  # handles events in __call__, as Callback's contract allows
        def __call__(self, cb_name):
            seen.append(cb_name)
            return False

    ch.Runner(cbs=[Dispatcher()]).fit(1, make_learn())
    expected = ["begin_fit"] + full_epoch() + ["after_fit"]
    assert seen == expected, ("a callback that overrides __call__ must be called for every event, like any "
                              "other callback: " + explain(seen, expected))


@exercise("ch05.Runner", points=3)
def test_runner_calls_a_callback_added_during_the_fit(ch):
    log = []
    late = tracer(ch, log, tag="late")

    class Adder(ch.Callback):
        def after_epoch(self):
            if late not in self.run.cbs:
                late.set_runner(self.run)
                self.run.cbs.append(late)

    ch.Runner(cbs=[Adder()]).fit(2, make_learn())
    got = [event for tag, event in log]
    expected = full_epoch() + ["after_fit"]
    assert got == expected, (
        "a callback appended to run.cbs in after_epoch of the first epoch must see every event from the next "
        "one on, as in the lesson's Runner (which sorted run.cbs at every event): " + explain(got, expected))


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("event", ["begin_epoch", "begin_validate", "after_epoch"])
def test_runner_lets_cancel_epoch_outside_the_batches_escape(ch, event):
    log = []
    with pytest.raises(ch.CancelEpochException):
        ch.Runner(cbs=[tracer(ch, log, raise_at=event, exc=ch.CancelEpochException)]).fit(1, make_learn())
    assert log[-1] == "after_fit" and "after_cancel_epoch" not in log, (
        f"CancelEpochException raised in {event} (outside a pass over the batches) is not caught: fit() runs "
        f"after_fit and lets it escape; got the events {log}")


@exercise("ch05.Runner", points=3)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_runner_trains_like_a_plain_loop(ch, momentum):
    learn, oracle = make_learn(momentum=momentum), make_learn(momentum=momentum)
    data = learn.data
    before = F.mse_loss(learn.model(data.valid_dl.dataset.tensors[0]), data.valid_dl.dataset.tensors[1]).item()
    ch.Runner().fit(3, learn)
    plain_loop(oracle, 3)
    for (name, got), want in zip(learn.model.state_dict().items(), oracle.model.state_dict().values()):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=lambda m: (
            f"after Runner().fit(3, learn), {name} differs from a plain loop (forward, loss, backward, step, "
            f"zero_grad per training batch; nothing learnt from validation batches): {m}"))
    after = F.mse_loss(learn.model(data.valid_dl.dataset.tensors[0]), data.valid_dl.dataset.tensors[1]).item()
    assert after < before / 2, f"validation loss went from {before:.4f} to {after:.4f}: the fit did not learn"


@exercise("ch05.Runner", points=3)
def test_runner_state_seen_by_callbacks(ch):
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
    assert run.spy is next(cb for cb in run.cbs if isinstance(cb, Spy)), \
        "Runner(cb_funcs=Spy) must make one Spy, keep it in run.cbs and as run.spy"
    expected = [dict(in_train=True, grad=True, training=True, bs=4, ybs=4, pred=(4, 1), iters=2, epochs=2, loss=0)] * 2 \
        + [dict(in_train=False, grad=False, training=False, bs=3, ybs=3, pred=(3, 1), iters=1, epochs=2, loss=0)]
    assert seen == expected * 2, (
        "what a callback sees in after_pred (validation without gradients, model in eval mode; xb, yb, pred, "
        f"iters = batches in the current loader, epochs): expected {expected * 2}, got {seen}")
    assert run.n_iter == 4 and run.n_epochs == pytest.approx(2.0), \
        f"after 2 epochs of 2 batches: expected n_iter 4 and n_epochs 2.0, got {run.n_iter} and {run.n_epochs}"


@exercise("ch05.Runner", points=3)
def test_runner_can_fit_again(ch):
    log = []
    run = ch.Runner(cbs=[tracer(ch, log)])
    run.fit(1, make_learn())
    run.fit(1, make_learn(seed=1))
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


@exercise("ch05.AvgStats", points=2)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_avg_stats_weights_by_batch_size(ch, sizes, seed):
    pred, y, batches = batches_of(sizes, seed)
    stats = ch.AvgStats([accuracy], in_train=True)
    stats.reset()
    accumulate_all(stats, batches)
    got = stats.avg_stats
    expected = [F.cross_entropy(pred, y).item(), (pred.argmax(1) == y).float().mean().item()]
    assert stats.count == sum(sizes), f"batches of sizes {sizes}: count should be {sum(sizes)}, got {stats.count}"
    assert all(isinstance(v, float) for v in got), f"avg_stats must be a list of floats, got {got!r}"
    torch.testing.assert_close(torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64),
                               rtol=1e-5, atol=1e-6, msg=lambda m: (
        f"batches of sizes {sizes}: avg_stats should be [loss, accuracy] over all {sum(sizes)} samples "
        f"{expected} (weight each batch mean by its size), got {got}: {m}"))


@exercise("ch05.AvgStats", points=2)
def test_avg_stats_uneven_last_batch_by_hand(ch):
    stats = ch.AvgStats([], in_train=False)
    stats.reset()
    for n, loss in [(4, 1.0), (4, 2.0), (2, 7.0)]:
        stats.accumulate(SimpleNamespace(xb=torch.zeros(n, 3), yb=torch.zeros(n), pred=torch.zeros(n, 2),
                                         loss=torch.tensor(loss)))
    expected = (4 * 1.0 + 4 * 2.0 + 2 * 7.0) / 10  # 2.6, not the mean of batch means (3.333)
    assert stats.avg_stats == pytest.approx([expected]), \
        f"batch losses 1, 2, 7 on 4, 4, 2 samples: expected [{expected}], got {stats.avg_stats}"


@exercise("ch05.AvgStats", points=2)
def test_avg_stats_reset_and_detach(ch):
    pred, y, batches = batches_of([5, 3], seed=1)
    stats = ch.AvgStats([accuracy], in_train=True)
    stats.reset()
    accumulate_all(stats, batches, requires_grad=True)
    for total in stats.all_stats:
        assert not getattr(total, "requires_grad", False), \
            "the totals must be detached (loss.detach()): otherwise every batch's graph stays in memory"
    stats.reset()
    assert stats.count == 0, f"reset() must zero the count, got {stats.count}"
    accumulate_all(stats, batches[1:])
    expected = [F.cross_entropy(pred[5:], y[5:]).item(), (pred[5:].argmax(1) == y[5:]).float().mean().item()]
    assert stats.avg_stats == pytest.approx(expected, rel=1e-5), \
        f"after reset() and one batch, avg_stats must cover that batch only: expected {expected}, got {stats.avg_stats}"


# --- LRFinder -----------------------------------------------------------------------------------

class LogLR:
    """Records each training batch's learning rate (read after begin_batch)."""

    @staticmethod
    def make(ch, log):
        def after_pred(self):
            if self.in_train:
                log.append(self.opt.param_groups[0]["lr"])
        return type("LogLRCallback", (ch.Callback,), {"_order": 5, "after_pred": after_pred})()


def flat_loss(pred, yb):
    """A loss that never changes, so the finder stops only at max_iter."""
    return F.mse_loss(pred, yb) * 0 + 1.0


def finder_fit(ch, learn, epochs=10, **kwargs):
    lrs, log = [], []
    run = ch.Runner(cbs=[ch.LRFinder(**kwargs), LogLR.make(ch, lrs), tracer(ch, log)])
    run.fit(epochs, learn)
    return lrs, log


@exercise("ch05.LRFinder", points=3)
@pytest.mark.parametrize("max_iter, min_lr, max_lr", [(12, 1e-6, 1e-2), (5, 1e-4, 1.0)])
def test_lr_finder_exponential_schedule(ch, max_iter, min_lr, max_lr):
    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=flat_loss)
    lrs, log = finder_fit(ch, learn, max_iter=max_iter, min_lr=min_lr, max_lr=max_lr)
    expected = [min_lr * (max_lr / min_lr) ** (i / max_iter) for i in range(max_iter + 1)]
    assert lrs == pytest.approx(expected, rel=1e-9), (
        f"LRFinder(max_iter={max_iter}, min_lr={min_lr}, max_lr={max_lr}): batch i must use "
        f"min_lr*(max_lr/min_lr)**(i/max_iter) for i = 0..max_iter and then stop; expected {expected}, got {lrs}")
    assert "after_cancel_train" in log and log[-1] == "after_fit", \
        "the finder must stop the fit with CancelTrainException"


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_skips_validation(ch):
    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=flat_loss)
    _, log = finder_fit(ch, learn, max_iter=6, min_lr=1e-5, max_lr=1e-3)
    n_valid, validating = 0, False
    for event in log:
        validating = (validating or event == "begin_validate") and event != "begin_epoch"
        n_valid += validating and event == "begin_batch"
    assert n_valid == 0, f"the finder must skip validation (begin_validate returns True); {n_valid} validation batches ran"


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_stops_when_the_loss_explodes(ch):
    script = iter([5.0, 3.0, 2.0, 4.0, 20.0, 19.0, 25.0] + [1.0] * 50)
    consumed = []

    def scripted_loss(pred, yb):
        if not torch.is_grad_enabled():  # validation: not part of the script
            return F.mse_loss(pred, yb)
        consumed.append(next(script))
        return F.mse_loss(pred, yb) * 0 + consumed[-1]

    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=scripted_loss)
    finder_fit(ch, learn, max_iter=40, min_lr=1e-6, max_lr=1e-4)
    assert consumed == [5.0, 3.0, 2.0, 4.0, 20.0, 19.0, 25.0], (
        "training losses 5, 3, 2, 4, 20, 19, 25, 1, ...: the best is 2, so the finder must go on at 20 (not more "
        f"than 10x the best) and stop after 25; it saw {consumed}")


@exercise("ch05.LRFinder", points=3)
def test_lr_finder_stops_at_a_nan_loss(ch):
    script = iter([5.0, 3.0, float("nan"), 2.0, 1.0] + [1.0] * 50)
    consumed = []

    def scripted_loss(pred, yb):
        if not torch.is_grad_enabled():
            return F.mse_loss(pred, yb)
        consumed.append(next(script))
        return F.mse_loss(pred, yb) * 0 + consumed[-1]

    learn = make_learn(regression_data(n_train=8, bs=2), loss_func=scripted_loss)
    finder_fit(ch, learn, max_iter=40, min_lr=1e-6, max_lr=1e-4)
    assert len(consumed) == 3, (
        f"training losses 5, 3, nan, ...: a NaN loss is never greater than 10x the best, but the finder must stop "
        f"there (its docstring says so: nothing after a NaN is worth reading); it went on to see {consumed}")


@exercise("ch05.LRFinder", points=3)
@pytest.mark.parametrize("max_lr", [1e-2, 1e3])
def test_lr_finder_restores_model_and_optimiser(ch, max_lr):
    learn = make_learn(regression_data(n_train=8, bs=2), lr=0.05, momentum=0.9)
    plain_loop(learn, 1)  # momentum buffers now exist
    params = list(learn.model.parameters())
    weights, opt_state = state_of(learn.model), copy.deepcopy(learn.opt.state_dict())
    seen_lrs, _ = finder_fit(ch, learn, max_iter=15, min_lr=1e-4, max_lr=max_lr)
    assert len(seen_lrs) > 1, "the finder did not train"
    for name, value in learn.model.state_dict().items():
        assert torch.equal(value, weights[name]), (
            f"after the LR finder (max_lr={max_lr}), model weight {name} is {value.flatten().tolist()}, expected it "
            f"restored to {weights[name].flatten().tolist()}: save a deep copy of the state_dict at begin_fit")
    assert [p is q for p, q in zip(learn.model.parameters(), params)] == [True] * len(params), \
        "restore the weights into the same Parameter objects (load_state_dict), so the optimiser still holds them"
    now = learn.opt.state_dict()
    assert now["param_groups"][0]["lr"] == opt_state["param_groups"][0]["lr"], \
        f"the optimiser's lr should be restored to {opt_state['param_groups'][0]['lr']}, got {now['param_groups'][0]['lr']}"
    for key, state in opt_state["state"].items():
        assert torch.equal(now["state"][key]["momentum_buffer"], state["momentum_buffer"]), \
            "the optimiser's momentum buffers must be restored too (save and load opt.state_dict())"


# --- combine_scheds -----------------------------------------------------------------------------

def lin(a, b):
    return lambda pos: a + pos * (b - a)


@st.composite
def phases(draw):
    n = draw(st.integers(1, 6))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(-10, 10), min_size=n + 1, max_size=n + 1))
    return [r / sum(raw) for r in raw], values


@exercise("ch05.combine_scheds", points=2)
@given(phases())
def test_combine_scheds_matches_interpolation(ch, case):
    pcts, values = case
    f = ch.combine_scheds(pcts, [lin(a, b) for a, b in zip(values, values[1:])])
    knots = np.concatenate([[0.0], np.cumsum(pcts)])
    knots[-1] = 1.0
    positions = np.unique(np.concatenate([np.linspace(0, 1, 41), knots]))
    got = np.array([f(float(p)) for p in positions])
    expected = np.interp(positions, knots, values)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=(
        f"combine_scheds({pcts}, linear phases through {values}) at positions {positions.tolist()}"))


@exercise("ch05.combine_scheds", points=2)
@given(phases())
def test_combine_scheds_local_positions_stay_in_0_1(ch, case):
    pcts, _ = case
    seen = []
    f = ch.combine_scheds(pcts, [lambda pos: seen.append(pos) or 0.0 for _ in pcts])
    for p in np.linspace(0, 1, 21):
        f(float(p))
    bad = [s for s in seen if not 0.0 <= s <= 1.0]
    assert not bad, f"combine_scheds({pcts}): each schedule must be called with a position in [0, 1], got {bad}"


@exercise("ch05.combine_scheds", points=2)
def test_combine_scheds_three_phases_and_the_end(ch):
    pcts = [0.6, 0.3, 0.1]  # sums to 0.9999999999999999 in floating point
    scheds = [lambda pos: 1 + pos, lambda pos: 10 + pos, lambda pos: 100 + pos]
    f = ch.combine_scheds(pcts, scheds)
    for pos, expected in [(0.0, 1.0), (0.3, 1.5), (0.75, 10.5), (0.95, 100.5), (1.0, 101.0)]:
        got = f(pos)
        assert got == pytest.approx(expected, abs=1e-9), \
            f"combine_scheds([0.6, 0.3, 0.1], [1+pos, 10+pos, 100+pos])({pos}): expected {expected}, got {got}"
    g = ch.combine_scheds([0.25, 0.75], [lambda pos: 0.0, lambda pos: 5.0 + pos])
    assert g(0.25) == 5.0, f"phase 2 starts at 0.25 (phases are [start, end)); f(0.25) gave {g(0.25)}"


@exercise("ch05.combine_scheds", points=2)
def test_combine_scheds_empty_phases_are_never_used(ch):
    def never(pos):
        raise AssertionError("an empty phase's schedule was called")

    f = ch.combine_scheds([0.5, 0.0, 0.5], [lin(0, 1), never, lin(2, 3)])
    assert [f(p) for p in (0.0, 0.25, 0.5, 0.75, 1.0)] == pytest.approx([0, 0.5, 2, 2.5, 3])
    g = ch.combine_scheds([0.5, 0.5, 0.0], [lin(0, 1), lin(2, 3), never])
    assert g(1.0) == pytest.approx(3.0), f"with an empty last phase, f(1.0) must end the last non-empty one; got {g(1.0)}"


@exercise("ch05.combine_scheds", points=2)
@pytest.mark.parametrize("pcts, n_scheds", [([0.5, 0.4], 2), ([0.5, 0.6], 2), ([0.5, 0.5], 3), ([1.2, -0.2], 2)])
def test_combine_scheds_rejects_bad_fractions(ch, pcts, n_scheds):
    with pytest.raises(ValueError):
        ch.combine_scheds(pcts, [lin(0, 1)] * n_scheds)
        pytest.fail(f"combine_scheds({pcts}, {n_scheds} schedules) must raise ValueError")


# --- EarlyStoppingCallback ----------------------------------------------------------------------

def early_stopping_fit(ch, cb, valid_losses, epochs=None):
    """Fit with validation batches of 3 and 1 samples whose losses in epoch e are valid_losses[e]."""
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

    log = []
    learn = make_learn(regression_data(n_train=4, n_valid=4, bs=3, valid_bs=3), loss_func=loss_func)
    ch.Runner(cbs=[cb, EpochOf(), tracer(ch, log)]).fit(epochs or len(valid_losses), learn)
    return log.count("begin_epoch")


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_runs_on_while_improving(ch):
    cb = ch.EarlyStoppingCallback(patience=2)
    n = early_stopping_fit(ch, cb, [5.0, 4.0, 4.5, 3.0, 2.0])
    assert n == 5 and cb.stopped_epoch is None, \
        f"validation losses 5, 4, 4.5, 3, 2 with patience 2: all 5 epochs must run; ran {n}, stopped_epoch {cb.stopped_epoch}"
    assert cb.best == pytest.approx(2.0) and cb.best_epoch == 4, f"best should be 2.0 at epoch 4, got {cb.best} at {cb.best_epoch}"


@exercise("ch05.EarlyStoppingCallback", points=2)
@pytest.mark.parametrize("patience, expected_epochs", [(1, 2), (2, 3), (3, 4)])
def test_early_stopping_patience(ch, patience, expected_epochs):
    cb = ch.EarlyStoppingCallback(patience=patience)
    n = early_stopping_fit(ch, cb, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert n == expected_epochs and cb.stopped_epoch == expected_epochs - 1, (
        f"validation losses 1, 2, 3, ... with patience {patience}: expected to stop after epoch "
        f"{expected_epochs - 1} ({expected_epochs} epochs run), ran {n} epochs, stopped_epoch {cb.stopped_epoch}")
    assert cb.best == pytest.approx(1.0) and cb.best_epoch == 0


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_min_delta(ch):
    cb = ch.EarlyStoppingCallback(patience=2, min_delta=0.1)
    n = early_stopping_fit(ch, cb, [1.0, 0.95, 0.85, 0.7, 0.65, 0.62])
    # 0.95: no (needs < 0.9); 0.85: yes; 0.7: yes; 0.65: no (needs < 0.6); 0.62: no -> stop after epoch 5
    assert n == 6 and cb.stopped_epoch == 5 and cb.best == pytest.approx(0.7), (
        f"losses 1, 0.95, 0.85, 0.7, 0.65, 0.62 with min_delta 0.1, patience 2: improvements only at 0.85 and 0.7, "
        f"stop after epoch 5; got {n} epochs, stopped_epoch {cb.stopped_epoch}, best {cb.best}")


@exercise("ch05.EarlyStoppingCallback", points=2)
def test_early_stopping_weights_batches_and_resets(ch):
    cb = ch.EarlyStoppingCallback(patience=1)
    # (3 samples, 1 sample): weighted means 1.5, 1.25, 1.75; unweighted means 2.5, 3.0, 2.0
    n = early_stopping_fit(ch, cb, [(1.0, 3.0), (0.0, 5.0), (2.0, 0.0)])
    assert n == 3 and cb.stopped_epoch == 2 and cb.best == pytest.approx(1.25), (
        "validation batches of 3 and 1 samples with losses (1, 3), (0, 5), (2, 0): the epoch losses are "
        f"1.5, 1.25, 1.75 (weighted by batch size); expected best 1.25 and a stop after epoch 2, got best "
        f"{cb.best}, stopped_epoch {cb.stopped_epoch}, {n} epochs")
    n = early_stopping_fit(ch, cb, [3.0, 2.0])
    assert n == 2 and cb.stopped_epoch is None and cb.best == pytest.approx(2.0), \
        "a second fit with the same callback must start afresh (reset in begin_fit)"


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


@exercise("ch05.suggest_lr", points=2)
@given(losses=curves)
def test_suggest_lr_without_smoothing(ch, losses):
    lrs = [1e-6 * 1.5 ** i for i in range(len(losses))]
    got = ch.suggest_lr(lrs, losses, mom=1)
    expected = lrs[int(np.argmin(losses))] / 10
    assert got == pytest.approx(expected, rel=1e-12), \
        f"suggest_lr(mom=1) on losses {losses}: the lowest loss is at lr {expected * 10}, expected {expected}, got {got}"


@exercise("ch05.suggest_lr", points=2)
@given(losses=curves, mom=st.sampled_from([0.5, 0.1, 0.02]), divisor=st.sampled_from([10.0, 3.0]))
def test_suggest_lr_with_smoothing(ch, losses, mom, divisor):
    lrs = [1e-5 * 1.3 ** i for i in range(len(losses))]
    smooth = ewma_debiased(losses, mom)
    best = int(np.argmin(smooth))
    if sorted(smooth)[1] - smooth[best] < 1e-9:  # a near tie: either answer is fine
        return
    got = ch.suggest_lr(lrs, losses, mom=mom, divisor=divisor)
    assert got == pytest.approx(lrs[best] / divisor, rel=1e-12), (
        f"suggest_lr(mom={mom}, divisor={divisor}) (mom is the weight of the new loss, as in chapter 3): the debiased smoothed losses {smooth} are lowest at lr "
        f"{lrs[best]}, expected {lrs[best] / divisor}, got {got}")


@exercise("ch05.suggest_lr", points=2)
def test_suggest_lr_skips_nan_and_inf(ch):
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    losses = [2.0, 1.0, float("nan"), 0.5, float("inf"), 9.0]
    got = ch.suggest_lr(lrs, losses, mom=0.5)
    smooth = ewma_debiased([2.0, 1.0, 0.5, 9.0], 0.5)  # the finite points only
    expected = [1e-4, 1e-3, 1e-1, 10.0][int(np.argmin(smooth))] / 10
    assert got == pytest.approx(expected), f"losses {losses}: NaN and inf must be skipped; expected {expected}, got {got}"
    with pytest.raises(ValueError):
        ch.suggest_lr([1e-3, 1e-2], [float("nan"), float("inf")])
    with pytest.raises(ValueError):
        ch.suggest_lr([1e-3, 1e-2], [1.0])


# --- GradClipCallback ---------------------------------------------------------------------------

@exercise("ch05.GradClipCallback", points=2)
@pytest.mark.parametrize("max_norm", [0.05, 1e6])
def test_grad_clip_matches_torch(ch, max_norm):
    data = regression_data(n_train=8, n_valid=2, bs=8)
    learn, oracle = make_learn(data, lr=0.1), make_learn(data, lr=0.1)
    cb = ch.GradClipCallback(max_norm)
    ch.Runner(cbs=[cb]).fit(2, learn)
    norms = []
    for _ in range(2):
        for xb, yb in data.train_dl:
            oracle.loss_func(oracle.model(xb), yb).backward()
            norms.append(torch.nn.utils.clip_grad_norm_(oracle.model.parameters(), max_norm).item())
            oracle.opt.step()
            oracle.opt.zero_grad()
    assert cb.norms == pytest.approx(norms, rel=1e-5), \
        f"norms should hold the total gradient norm before clipping of each training batch, {norms}; got {cb.norms}"
    for (name, got), want in zip(learn.model.state_dict().items(), oracle.model.state_dict().values()):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=lambda m: (
            f"GradClipCallback({max_norm}): {name} differs from training with torch.nn.utils.clip_grad_norm_: {m}"))


@exercise("ch05.GradClipCallback", points=2)
def test_grad_clip_norm_after_clipping(ch):
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    g = torch.Generator().manual_seed(3)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=g) * 10
    model[2].bias.grad = None  # a parameter without a gradient is skipped
    cb = ch.GradClipCallback(max_norm=2.0)
    cb.set_runner(SimpleNamespace(model=model, in_train=True))
    cb.after_backward()
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None))
    assert total.item() == pytest.approx(2.0, rel=1e-5), \
        f"after clipping to max_norm=2 the total gradient norm should be 2, got {total.item()}"


@exercise("ch05.GradClipCallback", points=2)
def test_grad_clip_is_written_by_hand(ch, monkeypatch):
    # torch.nn.utils.clip_grad_norm_ is the oracle above: a callback that only calls it learns nothing.
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full(p.shape, 5.0)
    utils = torch.nn.utils
    oracles = [(owner, attr) for owner in (utils, utils.clip_grad)
               for attr in ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_", "get_total_norm")]
    cb = ch.GradClipCallback(max_norm=1.0)
    cb.set_runner(SimpleNamespace(model=model, in_train=True))
    called = calls_during(monkeypatch, oracles, cb.after_backward)
    assert_written_by_hand(called, "GradClipCallback.after_backward", "Compute the total norm and scale the gradients yourself.")
