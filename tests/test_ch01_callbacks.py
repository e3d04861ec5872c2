"""Grades chapter 1: callbacks, closures, partial and callable classes.

Oracles: the arithmetic of the sum (closed form), Python's own `functools.partial`, and the
behaviour a caller can observe (what was printed, which hooks were called, in what order).
"""
import functools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch):
    """The exercises sleep to look slow; the tests must not. Record the requested delays instead."""
    delays = []
    monkeypatch.setattr(time, "sleep", delays.append)
    return delays


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

@exercise("ch01.make_show_progress")
@given(exclamation=words, epoch=st.integers(0, 99))
def test_make_show_progress_prints_the_message(ch, capfd, exclamation, epoch):
    capfd.readouterr()
    callback = ch.make_show_progress(exclamation)
    assert callable(callback), "make_show_progress must return a function"
    assert capfd.readouterr().out == "", "make_show_progress itself must not print: the returned function does"
    callback(epoch)
    assert capfd.readouterr().out == f"{exclamation}! We've finished epoch {epoch}!\n"


@exercise("ch01.make_show_progress")
def test_make_show_progress_closures_are_independent(ch, capfd):
    nice, great = ch.make_show_progress("Nice"), ch.make_show_progress("Great")
    great(1)
    nice(2)
    assert capfd.readouterr().out == "Great! We've finished epoch 1!\nNice! We've finished epoch 2!\n", \
        "each closure must remember its own exclamation"


# --- slow_calculation ---------------------------------------------------------------------------

@exercise("ch01.slow_calculation")
@given(steps=st.integers(0, 12))
def test_slow_calculation_without_callback_sums_squares(ch, steps):
    assert ch.slow_calculation(steps=steps, delay=0) == sum(i * i for i in range(steps))


@exercise("ch01.slow_calculation")
def test_slow_calculation_sleeps_once_per_step(ch, no_sleeping):
    ch.slow_calculation(steps=4, delay=0.25)
    assert no_sleeping == [0.25] * 4, "call time.sleep(delay) once per step"


@exercise("ch01.slow_calculation")
@given(steps=st.integers(1, 10))
def test_slow_calculation_calls_both_hooks_in_order(ch, steps):
    cb = Recorder()
    result = ch.slow_calculation(cb, steps=steps, delay=0)
    expected, total = [], 0
    for i in range(steps):
        total += i * i
        expected += [("before", i), ("after", i, total)]
    assert cb.calls == expected, "before_calc(i) before each step, after_calc(i, val=running sum) after it"
    assert result == total


@exercise("ch01.slow_calculation")
@given(steps=st.integers(1, 10), stop_at=st.integers(0, 9))
def test_slow_calculation_stops_when_after_calc_returns_true(ch, steps, stop_at):
    cb = Recorder(stop_at=stop_at)
    result = ch.slow_calculation(cb, steps=steps, delay=0)
    assert result == squares_until(lambda i, total: i >= stop_at, steps)
    assert cb.calls[-1][0] == "after" and cb.calls[-1][1] == min(stop_at, steps - 1), \
        "no hook may run after after_calc returned True"


@exercise("ch01.slow_calculation")
def test_slow_calculation_hooks_are_optional(ch):
    class OnlyAfter:
        def after_calc(self, epoch, val):
            return val > 10

    class OnlyBefore:
        def __init__(self):
            self.epochs = []

        def before_calc(self, epoch):
            self.epochs.append(epoch)

    assert ch.slow_calculation(OnlyAfter(), delay=0) == 14, "the lesson's example: stop once the sum passes 10"
    only_before = OnlyBefore()
    assert ch.slow_calculation(only_before, steps=3, delay=0) == 5
    assert only_before.epochs == [0, 1, 2]
    assert ch.slow_calculation(object(), steps=3, delay=0) == 5, "a callback with neither hook is fine"


@exercise("ch01.slow_calculation")
def test_slow_calculation_passes_val_by_keyword(ch):
    class KeywordOnly:
        def after_calc(self, epoch, *, val):
            return False

    assert ch.slow_calculation(KeywordOnly(), steps=3, delay=0) == 5, "call after_calc(i, val=res)"


# --- ProgressShowingCallback --------------------------------------------------------------------

@exercise("ch01.ProgressShowingCallback")
@given(exclamation=words, epoch=st.integers(0, 99))
def test_progress_showing_callback_prints(ch, capfd, exclamation, epoch):
    capfd.readouterr()
    cb = ch.ProgressShowingCallback(exclamation)
    assert cb.exclamation == exclamation
    cb(epoch)
    assert capfd.readouterr().out == f"{exclamation}! We've finished epoch {epoch}!\n"


@exercise("ch01.ProgressShowingCallback")
def test_progress_showing_callback_default_and_state(ch, capfd):
    cb = ch.ProgressShowingCallback()
    cb(0)
    cb.exclamation = "Changed"
    cb(1)
    assert capfd.readouterr().out == "Awesome! We've finished epoch 0!\nChanged! We've finished epoch 1!\n", \
        "the default is 'Awesome', and __call__ must read self.exclamation each time"


# --- SlowCalculator -----------------------------------------------------------------------------

@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_modifying_callback(ch):
    seen = []

    class Modifying:
        def after_calc(self, calc, epoch):
            seen.append(calc.res)
            if calc.res > 10:
                return True
            if calc.res < 3:
                calc.res = calc.res * 2

    calc = ch.SlowCalculator(Modifying(), delay=0)
    calc.calc()
    assert seen == [0, 1, 6, 15], "the lesson's example: the callback doubles small sums and stops past 10"
    assert calc.res == 15


@exercise("ch01.SlowCalculator", points=2)
@given(steps=st.integers(0, 10), scale=st.integers(-3, 3))
def test_slow_calculator_passes_itself_and_applies_changes(ch, steps, scale):
    events = []

    class Scaling:
        def before_calc(self, calc, epoch):
            events.append(("before", epoch, calc.res))

        def after_calc(self, calc, epoch):
            calc.res *= scale
            events.append(("after", epoch, calc.res))

    calc = ch.SlowCalculator(Scaling(), steps=steps, delay=0)
    calc.calc()
    expected, res = [], 0
    for i in range(steps):
        expected.append(("before", i, res))
        res = (res + i * i) * scale
        expected.append(("after", i, res))
    assert events == expected
    assert calc.res == res


@exercise("ch01.SlowCalculator", points=2)
def test_slow_calculator_callback_returns_result_and_skips_missing(ch):
    class Answer:
        def before_calc(self, calc, epoch):
            return ("answer", calc, epoch)

    calc = ch.SlowCalculator(Answer(), delay=0)
    assert calc.callback("before_calc", 7) == ("answer", calc, 7)
    assert calc.callback("after_calc", 7) is None, "a missing hook is skipped and gives None"
    plain = ch.SlowCalculator(steps=4, delay=0)
    plain.calc()
    assert plain.res == 14
    plain.calc()
    assert plain.res == 14, "calc() starts again from 0 each time"


# --- make_counter -------------------------------------------------------------------------------

@exercise("ch01.make_counter")
@given(start=st.integers(-50, 50), step=st.integers(-5, 5), calls=st.integers(1, 20))
def test_make_counter_counts(ch, start, step, calls):
    counter = ch.make_counter(start, step=step)
    assert [counter() for _ in range(calls)] == [start + step * k for k in range(1, calls + 1)]


@exercise("ch01.make_counter")
def test_make_counter_counters_are_independent(ch):
    first, second = ch.make_counter(), ch.make_counter(100)
    assert (first(), first(), second(), first(), second()) == (1, 2, 101, 3, 102), \
        "each counter keeps its own count: keep it in the closure, not in a global or a default argument"
    third = ch.make_counter()
    assert third() == 1, "a new counter starts from scratch"


# --- my_partial ---------------------------------------------------------------------------------

def record(*args, **kwargs):
    return args, kwargs


keys = st.sampled_from(["a", "b", "c", "lr", "mom"])


@exercise("ch01.my_partial", points=2)
@given(frozen=st.lists(st.integers(), max_size=3), frozen_kw=st.dictionaries(keys, st.integers(), max_size=3),
       later=st.lists(st.integers(), max_size=3), later_kw=st.dictionaries(keys, st.integers(), max_size=3))
def test_my_partial_calls_like_functools_partial(ch, frozen, frozen_kw, later, later_kw):
    mine = ch.my_partial(record, *frozen, **frozen_kw)
    theirs = functools.partial(record, *frozen, **frozen_kw)
    assert mine(*later, **later_kw) == theirs(*later, **later_kw)


@exercise("ch01.my_partial", points=2)
def test_my_partial_exposes_func_args_keywords(ch):
    mine = ch.my_partial(record, 1, 2, lr=0.1)
    assert mine.func is record
    assert mine.args == (1, 2) and isinstance(mine.args, tuple)
    assert mine.keywords == {"lr": 0.1}
    mine(3, lr=0.5)
    assert mine.keywords == {"lr": 0.1}, "a call-time keyword must not change the frozen keywords"


@exercise("ch01.my_partial", points=2)
def test_my_partial_is_reusable_and_rejects_non_callables(ch):
    add_ten = ch.my_partial(lambda x, y: x + y, 10)
    assert [add_ten(i) for i in range(3)] == [10, 11, 12]
    with pytest.raises(TypeError):
        ch.my_partial(42)


# --- call_with_accepted_kwargs ------------------------------------------------------------------

@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_filters_by_signature(ch):
    def after_calc(epoch, val):
        return epoch, val

    def keyword_only(*, lr, mom=0.9):
        return lr, mom

    assert ch.call_with_accepted_kwargs(after_calc, 3, val=14, lr=0.1) == (3, 14)
    assert ch.call_with_accepted_kwargs(keyword_only, lr=0.5, val=1, epoch=2) == (0.5, 0.9)
    assert ch.call_with_accepted_kwargs(keyword_only, lr=0.5, mom=0.8) == (0.5, 0.8)


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_passes_everything_to_var_keyword(ch):
    def greedy(epoch, **kwargs):
        return epoch, kwargs

    assert ch.call_with_accepted_kwargs(greedy, 1, val=2, lr=0.1) == (1, {"val": 2, "lr": 0.1})


@exercise("ch01.call_with_accepted_kwargs")
@given(offered=st.dictionaries(keys, st.integers(), max_size=5))
def test_call_with_accepted_kwargs_matches_signature(ch, offered):
    def wants_a_and_lr(a=None, *, lr=None):
        return {"a": a, "lr": lr}

    result = ch.call_with_accepted_kwargs(wants_a_and_lr, **offered)
    assert result == {"a": offered.get("a"), "lr": offered.get("lr")}


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_does_not_pass_positional_only_by_name(ch):
    def positional_only(x, /, y=0):
        return x, y

    assert ch.call_with_accepted_kwargs(positional_only, 1, x=5, y=2) == (1, 2), \
        "x is positional-only: it cannot be passed by keyword, so drop it"


@exercise("ch01.call_with_accepted_kwargs")
def test_call_with_accepted_kwargs_works_on_callable_objects(ch):
    class Hook:
        def __call__(self, epoch, val=None):
            return epoch, val

    assert ch.call_with_accepted_kwargs(Hook(), 4, val=1, lr=0.3) == (4, 1), \
        "a callable object's signature is that of its __call__, without self"
