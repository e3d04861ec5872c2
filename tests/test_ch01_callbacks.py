"""Grades chapter 1: callbacks, closures, partial and callable classes.

Oracles: the arithmetic of the sum (closed form), Python's own `functools.partial`, and the
behaviour a caller can observe (what was printed, which hooks were called, in what order).

Each test asks `probe(observe_..., *inputs)`: the `observe_...` function runs the learner's code where it
runs (this process, or a sandboxed worker when a class is graded) and returns plain data; the test judges
that data here (grader/probe.py).
"""
import functools
import operator
import time
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.probe import outcome, printed

exercise = pytest.mark.exercise
words = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)


def squares_until(limit_check, steps):
    """Closed-form oracle: running sums of i*i, stopping after the first step where limit_check is true."""
    total = 0
    for i in range(steps):
        total += i * i
        if limit_check(i, total):
            break
    return total


def not_sleeping():
    """The exercises sleep to look slow; the tests must not. Records the requested delays instead."""
    return mock.patch.object(time, "sleep", side_effect=lambda seconds: None)


class Recorder:
    """A callback object that logs every hook call it receives."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def before_calc(self, epoch):
        self.calls.append(("before", epoch))

    def after_calc(self, epoch, val):
        self.calls.append(("after", epoch, val))
        return self.stop_at is not None and epoch >= self.stop_at


# --- make_show_progress -------------------------------------------------------------------------

def observe_show_progress(ch, exclamation, epoch):
    with printed() as out:
        callback = ch.make_show_progress(exclamation)
    seen = {"callable": callable(callback), "printed_when_made": out.getvalue()}
    if seen["callable"]:
        with printed() as out:
            callback(epoch)
        seen["printed"] = out.getvalue()
    return seen


@exercise("ch01.make_show_progress")
@given(exclamation=words, epoch=st.integers(0, 99))
def test_make_show_progress_prints_the_message(probe, exclamation, epoch):
    seen = probe(observe_show_progress, exclamation, epoch)
    assert seen["callable"], "make_show_progress must return a function"
    assert seen["printed_when_made"] == "", "make_show_progress itself must not print: the returned function does"
    assert seen["printed"] == f"{exclamation}! We've finished epoch {epoch}!\n", \
        f"make_show_progress({exclamation!r})({epoch}) printed {seen['printed']!r}"


def observe_two_closures(ch):
    with printed() as out:
        nice, great = ch.make_show_progress("Nice"), ch.make_show_progress("Great")
        great(1)
        nice(2)
    return out.getvalue()


@exercise("ch01.make_show_progress")
def test_make_show_progress_closures_are_independent(probe):
    assert probe(observe_two_closures) == "Great! We've finished epoch 1!\nNice! We've finished epoch 2!\n", \
        "each closure must remember its own exclamation"


def observe_show_progress_texts(ch, exclamations, epochs):
    seen = []
    for exclamation in exclamations:
        callback = ch.make_show_progress(exclamation)
        with printed() as out:
            for epoch in epochs:
                callback(epoch)
        seen.append(out.getvalue())
    return seen


@exercise("ch01.make_show_progress")
def test_make_show_progress_prints_any_exclamation_each_time(probe):
    exclamations, epochs = ["100% {done}", "{0}", "", "Nice"], [0, 1, 7]
    seen = probe(observe_show_progress_texts, exclamations, epochs)
    for exclamation, got in zip(exclamations, seen):
        expected = "".join(f"{exclamation}! We've finished epoch {epoch}!\n" for epoch in epochs)
        assert got == expected, (f"make_show_progress({exclamation!r}) called with the epochs {epochs}: expected "
                                 f"{expected!r}, got {got!r} (the exclamation is text, not a format string)")


# --- slow_calculation ---------------------------------------------------------------------------

def observe_slow_calculation(ch, steps):
    with not_sleeping():
        return ch.slow_calculation(steps=steps, delay=0)


@exercise("ch01.slow_calculation")
@given(steps=st.integers(0, 12))
def test_slow_calculation_without_callback_sums_squares(probe, steps):
    got = probe(observe_slow_calculation, steps)
    assert got == sum(i * i for i in range(steps)), f"slow_calculation(steps={steps}) returned {got!r}"


def observe_sleeps(ch):
    with not_sleeping() as sleep:
        ch.slow_calculation(steps=4, delay=0.25)
    return [call.args[0] if call.args else call.kwargs for call in sleep.call_args_list]


@exercise("ch01.slow_calculation")
def test_slow_calculation_sleeps_once_per_step(probe):
    assert probe(observe_sleeps) == [0.25] * 4, "call time.sleep(delay) once per step"


def observe_hooks(ch, steps, stop_at=None):
    cb = Recorder(stop_at)
    with not_sleeping():
        result = ch.slow_calculation(cb, steps=steps, delay=0)
    return {"calls": [list(c) for c in cb.calls], "result": result}


@exercise("ch01.slow_calculation")
@given(steps=st.integers(1, 10))
def test_slow_calculation_calls_both_hooks_in_order(probe, steps):
    seen = probe(observe_hooks, steps)
    expected, total = [], 0
    for i in range(steps):
        total += i * i
        expected += [["before", i], ["after", i, total]]
    assert seen["calls"] == expected, "before_calc(i) before each step, after_calc(i, val=running sum) after it"
    assert seen["result"] == total


@exercise("ch01.slow_calculation")
@given(steps=st.integers(1, 10), stop_at=st.integers(0, 9))
def test_slow_calculation_stops_when_after_calc_returns_true(probe, steps, stop_at):
    seen = probe(observe_hooks, steps, stop_at)
    assert seen["result"] == squares_until(lambda i, total: i >= stop_at, steps)
    assert seen["calls"][-1][0] == "after" and seen["calls"][-1][1] == min(stop_at, steps - 1), \
        "no hook may run after after_calc returned True"


class OnlyAfter:
    def after_calc(self, epoch, val):
        return val > 10


class OnlyBefore:
    def __init__(self):
        self.epochs = []

    def before_calc(self, epoch):
        self.epochs.append(epoch)


class KeywordOnly:
    def after_calc(self, epoch, *, val):
        return False


def observe_optional_hooks(ch):
    with not_sleeping():
        only_before = OnlyBefore()
        return {"only_after": ch.slow_calculation(OnlyAfter(), delay=0),
                "only_before": ch.slow_calculation(only_before, steps=3, delay=0), "epochs": only_before.epochs,
                "neither": ch.slow_calculation(object(), steps=3, delay=0)}


@exercise("ch01.slow_calculation")
def test_slow_calculation_hooks_are_optional(probe):
    seen = probe(observe_optional_hooks)
    assert seen["only_after"] == 14, "the lesson's example: stop once the sum passes 10"
    assert seen["only_before"] == 5
    assert seen["epochs"] == [0, 1, 2]
    assert seen["neither"] == 5, "a callback with neither hook is fine"


def observe_keyword_only(ch):
    with not_sleeping():
        return ch.slow_calculation(KeywordOnly(), steps=3, delay=0)


@exercise("ch01.slow_calculation")
def test_slow_calculation_passes_val_by_keyword(probe):
    assert probe(observe_keyword_only) == 5, "call after_calc(i, val=res)"


# What after_calc returns at each step, and whether Python's `if` takes it as "stop" (the oracle: bool()).
REPLIES = [[None, None, None, None, None], [False, 0, 0.0, "", []], [None, 1, None, None, None],
           [None, None, "stop", None, None], [0, [0], None, None, None], [None, None, None, 0.5, None],
           [None, None, None, None, True]]


class Replies:
    """after_calc returns the next of the given replies and logs the epochs it saw."""

    def __init__(self, replies):
        self.replies, self.epochs = list(replies), []

    def after_calc(self, epoch, val):
        self.epochs.append(epoch)
        return self.replies[epoch]


def observe_replies(ch, replies_per_run):
    seen = []
    with not_sleeping():
        for replies in replies_per_run:
            cb = Replies(replies)
            seen.append({"result": ch.slow_calculation(cb, steps=len(replies), delay=0), "epochs": cb.epochs})
    return seen


@exercise("ch01.slow_calculation")
def test_slow_calculation_stops_on_any_truthy_reply(probe):
    seen = probe(observe_replies, REPLIES)
    for replies, got in zip(REPLIES, seen):
        stop = next((i for i, reply in enumerate(replies) if reply), len(replies) - 1)
        expected = squares_until(lambda i, total: bool(replies[i]), len(replies))
        assert got == {"result": expected, "epochs": list(range(stop + 1))}, (
            f"after_calc returned {replies} at the steps 0..{len(replies) - 1}: a truthy reply (not only True) "
            f"stops, a falsy one (None, False, 0, '', []) does not; expected the sum {expected} after the steps "
            f"0..{stop}, got {got}")


class Log(list):
    """A callback that is also a list: empty, hence falsy, but a callback all the same."""

    def before_calc(self, epoch):
        self.append(["before", epoch])

    def after_calc(self, epoch, val):
        self.append(["after", epoch, val])


def observe_falsy_callback(ch):
    log = Log()
    with not_sleeping():
        result = ch.slow_calculation(log, steps=2, delay=0)
    return {"result": result, "log": list(log)}


@exercise("ch01.slow_calculation")
def test_slow_calculation_uses_a_falsy_callback(probe):
    seen = probe(observe_falsy_callback)
    assert seen == {"result": 1, "log": [["before", 0], ["after", 0, 0], ["before", 1], ["after", 1, 1]]}, (
        "slow_calculation(Log(), steps=2) where Log is an (empty, so falsy) list with hooks: its hooks must be "
        f"called; only cb=None means no callback (test `cb is not None`, not `if cb`); got {seen}")


# --- ProgressShowingCallback --------------------------------------------------------------------

def observe_progress_callback(ch, exclamation, epoch):
    cb = ch.ProgressShowingCallback(exclamation)
    with printed() as out:
        cb(epoch)
    return {"exclamation": getattr(cb, "exclamation", None), "printed": out.getvalue()}


@exercise("ch01.ProgressShowingCallback")
@given(exclamation=words, epoch=st.integers(0, 99))
def test_progress_showing_callback_prints(probe, exclamation, epoch):
    seen = probe(observe_progress_callback, exclamation, epoch)
    assert seen["exclamation"] == exclamation, "keep the exclamation in self.exclamation"
    assert seen["printed"] == f"{exclamation}! We've finished epoch {epoch}!\n"


def observe_progress_default(ch):
    with printed() as out:
        cb = ch.ProgressShowingCallback()
        cb(0)
        cb.exclamation = "Changed"
        cb(1)
    return out.getvalue()


@exercise("ch01.ProgressShowingCallback")
def test_progress_showing_callback_default_and_state(probe):
    assert probe(observe_progress_default) == "Awesome! We've finished epoch 0!\nChanged! We've finished epoch 1!\n", \
        "the default is 'Awesome', and __call__ must read self.exclamation each time"


def observe_two_progress_callbacks(ch):
    with printed() as out:
        first, second = ch.ProgressShowingCallback("First"), ch.ProgressShowingCallback("Second")
        first(1)
        second(2)
        ch.ProgressShowingCallback()(3)
        first(4)
    return out.getvalue()


@exercise("ch01.ProgressShowingCallback")
def test_progress_showing_callbacks_are_independent(probe):
    got = probe(observe_two_progress_callbacks)
    expected = ("First! We've finished epoch 1!\nSecond! We've finished epoch 2!\n"
                "Awesome! We've finished epoch 3!\nFirst! We've finished epoch 4!\n")
    assert got == expected, ("each ProgressShowingCallback keeps its own exclamation (on the instance, self); "
                             f"expected {expected!r}, got {got!r}")


# --- SlowCalculator -----------------------------------------------------------------------------

class Modifying:
    def __init__(self):
        self.seen = []

    def after_calc(self, calc, epoch):
        self.seen.append(calc.res)
        if calc.res > 10:
            return True
        if calc.res < 3:
            calc.res = calc.res * 2


def observe_modifying(ch):
    cb = Modifying()
    with not_sleeping():
        calc = ch.SlowCalculator(cb, delay=0)
        calc.calc()
    return {"seen": cb.seen, "res": calc.res}


@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_modifying_callback(probe):
    seen = probe(observe_modifying)
    assert seen["seen"] == [0, 1, 6, 15], "the lesson's example: the callback doubles small sums and stops past 10"
    assert seen["res"] == 15


class Scaling:
    def __init__(self, scale):
        self.scale, self.events = scale, []

    def before_calc(self, calc, epoch):
        self.events.append(["before", epoch, calc.res])

    def after_calc(self, calc, epoch):
        calc.res *= self.scale
        self.events.append(["after", epoch, calc.res])


def observe_scaling(ch, steps, scale):
    cb = Scaling(scale)
    with not_sleeping():
        calc = ch.SlowCalculator(cb, steps=steps, delay=0)
        calc.calc()
    return {"events": cb.events, "res": calc.res}


@exercise("ch01.SlowCalculator", points=2)
@given(steps=st.integers(0, 10), scale=st.integers(-3, 3))
def test_slow_calculator_passes_itself_and_applies_changes(probe, steps, scale):
    seen = probe(observe_scaling, steps, scale)
    expected, res = [], 0
    for i in range(steps):
        expected.append(["before", i, res])
        res = (res + i * i) * scale
        expected.append(["after", i, res])
    assert seen["events"] == expected
    assert seen["res"] == res


class Answer:
    def before_calc(self, calc, epoch):
        return ("answer", calc, epoch)


def observe_callback_method(ch):
    with not_sleeping():
        calc = ch.SlowCalculator(Answer(), delay=0)
        answer = calc.callback("before_calc", 7)
        missing = calc.callback("after_calc", 7)
        plain = ch.SlowCalculator(steps=4, delay=0)
        plain.calc()
        first = plain.res
        plain.calc()
    shaped = type(answer) is tuple and len(answer) == 3
    return {"answer": [answer[0], answer[1] is calc, answer[2]] if shaped else repr(answer)[:200],
            "missing": repr(missing)[:200], "first": first, "second": plain.res}


@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_callback_returns_result_and_skips_missing(probe):
    seen = probe(observe_callback_method)
    assert seen["answer"] == ["answer", True, 7], "callback(name, epoch) returns the hook's answer to hook(self, epoch)"
    assert seen["missing"] == "None", "a missing hook is skipped and gives None"
    assert seen["first"] == 14
    assert seen["second"] == 14, "calc() starts again from 0 each time"


class CalcReplies:
    """after_calc(calc, epoch) returns the next of the given replies and logs the epochs it saw."""

    def __init__(self, replies):
        self.replies, self.epochs = list(replies), []

    def after_calc(self, calc, epoch):
        self.epochs.append(epoch)
        return self.replies[epoch]


def observe_calc_replies(ch, replies_per_run):
    seen = []
    with not_sleeping():
        for replies in replies_per_run:
            cb = CalcReplies(replies)
            calc = ch.SlowCalculator(cb, steps=len(replies), delay=0)
            calc.calc()
            seen.append({"res": calc.res, "epochs": cb.epochs})
    return seen


@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_stops_on_any_truthy_reply(probe):
    seen = probe(observe_calc_replies, REPLIES)
    for replies, got in zip(REPLIES, seen):
        stop = next((i for i, reply in enumerate(replies) if reply), len(replies) - 1)
        expected = squares_until(lambda i, total: bool(replies[i]), len(replies))
        assert got == {"res": expected, "epochs": list(range(stop + 1))}, (
            f"after_calc returned {replies} at the steps 0..{len(replies) - 1}: a truthy reply (not only True) "
            f"stops, a falsy one (None, False, 0, '', []) does not; expected res {expected} after the steps "
            f"0..{stop}, got {got}")


class CalcLog(list):
    """A callback that is also a list: empty, hence falsy, but a callback all the same."""

    def before_calc(self, calc, epoch):
        self.append(["before", epoch, calc.res])

    def after_calc(self, calc, epoch):
        self.append(["after", epoch, calc.res])


def observe_falsy_calc_callback(ch):
    log = CalcLog()
    with not_sleeping():
        calc = ch.SlowCalculator(log, steps=2, delay=0)
        calc.calc()
    return {"res": calc.res, "log": list(log)}


@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_uses_a_falsy_callback(probe):
    seen = probe(observe_falsy_calc_callback)
    assert seen == {"res": 1, "log": [["before", 0, 0], ["after", 0, 0], ["before", 1, 0], ["after", 1, 1]]}, (
        "SlowCalculator(CalcLog(), steps=2) where CalcLog is an (empty, so falsy) list with hooks: its hooks must "
        f"be called; only cb=None means no callback (do not test `if self.cb`); got {seen}")


# --- make_counter -------------------------------------------------------------------------------

def observe_counter(ch, start, step, calls):
    counter = ch.make_counter(start, step=step)
    return [counter() for _ in range(calls)]


@exercise("ch01.make_counter")
@given(start=st.integers(-50, 50), step=st.integers(-5, 5), calls=st.integers(1, 20))
def test_make_counter_counts(probe, start, step, calls):
    assert probe(observe_counter, start, step, calls) == [start + step * k for k in range(1, calls + 1)]


def observe_independent_counters(ch):
    first, second = ch.make_counter(), ch.make_counter(100)
    counts = [first(), first(), second(), first(), second()]
    third = ch.make_counter()
    return {"counts": counts, "third": third()}


@exercise("ch01.make_counter")
def test_make_counter_counters_are_independent(probe):
    seen = probe(observe_independent_counters)
    assert seen["counts"] == [1, 2, 101, 3, 102], \
        "each counter keeps its own count: keep it in the closure, not in a global or a default argument"
    assert seen["third"] == 1, "a new counter starts from scratch"


# --- my_partial ---------------------------------------------------------------------------------

def record(*args, **kwargs):
    return [list(args), kwargs]


keys = st.sampled_from(["a", "b", "c", "lr", "mom"])


def observe_partial_call(ch, frozen, frozen_kw, later, later_kw):
    return ch.my_partial(record, *frozen, **frozen_kw)(*later, **later_kw)


@exercise("ch01.my_partial", points=2)
@given(frozen=st.lists(st.integers(), max_size=3), frozen_kw=st.dictionaries(keys, st.integers(), max_size=3),
       later=st.lists(st.integers(), max_size=3), later_kw=st.dictionaries(keys, st.integers(), max_size=3))
def test_my_partial_calls_like_functools_partial(probe, frozen, frozen_kw, later, later_kw):
    theirs = functools.partial(record, *frozen, **frozen_kw)(*later, **later_kw)
    assert probe(observe_partial_call, frozen, frozen_kw, later, later_kw) == theirs


def observe_partial_attributes(ch):
    mine = ch.my_partial(record, 1, 2, lr=0.1)
    seen = {"func_is_record": getattr(mine, "func", None) is record, "args": repr(getattr(mine, "args", None)),
            "args_is_tuple": type(getattr(mine, "args", None)) is tuple, "keywords": repr(getattr(mine, "keywords", None))}
    mine(3, lr=0.5)
    seen["keywords_after"] = repr(getattr(mine, "keywords", None))
    return seen


@exercise("ch01.my_partial", points=2)
def test_my_partial_exposes_func_args_keywords(probe):
    seen = probe(observe_partial_attributes)
    assert seen["func_is_record"], "keep the wrapped function in .func"
    assert seen["args"] == "(1, 2)" and seen["args_is_tuple"], "keep the frozen positional arguments in .args, a tuple"
    assert seen["keywords"] == "{'lr': 0.1}", "keep the frozen keyword arguments in .keywords, a dict"
    assert seen["keywords_after"] == "{'lr': 0.1}", "a call-time keyword must not change the frozen keywords"


def observe_partial_reuse(ch):
    add_ten = ch.my_partial(lambda x, y: x + y, 10)
    return {"calls": [add_ten(i) for i in range(3)], "not_callable": outcome(ch.my_partial, 42)}


@exercise("ch01.my_partial", points=2)
def test_my_partial_is_reusable_and_rejects_non_callables(probe):
    seen = probe(observe_partial_reuse)
    assert seen["calls"] == [10, 11, 12]
    assert seen["not_callable"].get("raised") == "TypeError", \
        f"my_partial(42) must raise TypeError (42 is not callable); it gave {seen['not_callable']}"


class Affine:
    def __init__(self, scale):
        self.scale = scale

    def __call__(self, x, shift=0):
        return self.scale * x + shift

    def apply(self, x):
        return self.scale * x


def without_message(result):
    """An `outcome` without the error's message (which may show an object's address)."""
    return {key: value for key, value in result.items() if key != "message"}


def observe_partial_of_any_callable(ch):
    seen = {"builtin": outcome(lambda: ch.my_partial(operator.sub, 10)(3)),
            "class": outcome(lambda: ch.my_partial(int, base=2)("101")),
            "object": outcome(lambda: ch.my_partial(Affine(3), shift=1)(2)),
            "bound_method": outcome(lambda: ch.my_partial(Affine(5).apply)(2)),
            "builtin_method": outcome(lambda: ch.my_partial("-".join)(["a", "b"])),
            "functools_partial": outcome(lambda: ch.my_partial(functools.partial(record, 1), 2)(3))}
    seen = {name: without_message(result) for name, result in seen.items()}
    seen["not_callable"] = [outcome(ch.my_partial, thing).get("raised") for thing in (None, "record", [record])]
    return seen


@exercise("ch01.my_partial", points=2)
def test_my_partial_freezes_any_callable(probe):
    seen = probe(observe_partial_of_any_callable)
    expected = {"builtin": 7, "class": 5, "object": 7, "bound_method": 10, "builtin_method": "a-b",
                "functools_partial": [[1, 2, 3], {}]}
    calls = {"builtin": "my_partial(operator.sub, 10)(3)", "class": "my_partial(int, base=2)('101')",
             "object": "my_partial(Affine(3), shift=1)(2), a callable object", "bound_method":
             "my_partial(Affine(5).apply)(2), a bound method", "builtin_method": "my_partial('-'.join)(['a', 'b'])",
             "functools_partial": "my_partial(functools.partial(record, 1), 2)(3)"}
    for name, value in expected.items():
        assert seen[name] == {"returned": value}, (
            f"{calls[name]} should give {value!r}: anything callable() accepts can be frozen, not only a Python "
            f"function; it gave {seen[name]}")
    assert seen["not_callable"] == ["TypeError"] * 3, ("my_partial(None), my_partial('record'), my_partial([record]) "
                                                     f"must raise TypeError; they gave {seen['not_callable']}")


# --- call_with_accepted_kwargs ------------------------------------------------------------------

def after_calc(epoch, val):
    return [epoch, val]


def keyword_only(*, lr, mom=0.9):
    return [lr, mom]


def greedy(epoch, **kwargs):
    return [epoch, kwargs]


def wants_a_and_lr(a=None, *, lr=None):
    return {"a": a, "lr": lr}


def positional_only(x, /, y=0):
    return [x, y]


class Hook:
    def __call__(self, epoch, val=None):
        return [epoch, val]


def observe_filtered_calls(ch):
    call = ch.call_with_accepted_kwargs
    return [call(after_calc, 3, val=14, lr=0.1), call(keyword_only, lr=0.5, val=1, epoch=2),
            call(keyword_only, lr=0.5, mom=0.8)]


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_filters_by_signature(probe):
    assert probe(observe_filtered_calls) == [[3, 14], [0.5, 0.9], [0.5, 0.8]]


def observe_var_keyword(ch):
    return ch.call_with_accepted_kwargs(greedy, 1, val=2, lr=0.1)


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_passes_everything_to_var_keyword(probe):
    assert probe(observe_var_keyword) == [1, {"val": 2, "lr": 0.1}]


def observe_offered(ch, offered):
    return ch.call_with_accepted_kwargs(wants_a_and_lr, **offered)


@exercise("ch01.call_with_accepted_kwargs")
@given(offered=st.dictionaries(keys, st.integers(), max_size=5))
def test_call_with_accepted_kwargs_matches_signature(probe, offered):
    assert probe(observe_offered, offered) == {"a": offered.get("a"), "lr": offered.get("lr")}


def observe_positional_only(ch):
    return ch.call_with_accepted_kwargs(positional_only, 1, x=5, y=2)


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_does_not_pass_positional_only_by_name(probe):
    assert probe(observe_positional_only) == [1, 2], "x is positional-only: it cannot be passed by keyword, so drop it"


def observe_callable_object(ch):
    return ch.call_with_accepted_kwargs(Hook(), 4, val=1, lr=0.3)


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_works_on_callable_objects(probe):
    assert probe(observe_callable_object) == [4, 1], \
        "a callable object's signature is that of its __call__, without self"


def takes_options(epoch, **options):
    return [epoch, options]


def named_kwargs(epoch, kwargs=None):
    return [epoch, kwargs]


def with_varargs(epoch, *args, lr=None):
    return [epoch, list(args), lr]


def observe_var_parameters(ch):
    call = ch.call_with_accepted_kwargs
    return {"options": outcome(call, takes_options, 1, val=2, lr=0.1),
            "named_kwargs": outcome(call, named_kwargs, 1, kwargs=3, lr=0.1),
            "varargs": outcome(call, with_varargs, 1, 2, args=5, lr=0.1)}


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_knows_parameters_by_kind_not_name(probe):
    seen = probe(observe_var_parameters)
    assert seen["options"] == {"returned": [1, {"val": 2, "lr": 0.1}]}, (
        "takes_options(epoch, **options) takes every keyword: a var-keyword parameter is known by its kind "
        f"(inspect.Parameter.VAR_KEYWORD), whatever its name; it gave {seen['options']}")
    assert seen["named_kwargs"] == {"returned": [1, 3]}, (
        "named_kwargs(epoch, kwargs=None) has an ordinary parameter called kwargs: it takes kwargs=3 but not lr; "
        f"it gave {seen['named_kwargs']}")
    assert seen["varargs"] == {"returned": [1, [2], 0.1]}, (
        "with_varargs(epoch, *args, lr=None): *args cannot be given by keyword, so args=5 is dropped and lr kept; "
        f"it gave {seen['varargs']}")
