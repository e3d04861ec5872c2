# Your copy of the exercises, generated from solutions/ch01_callbacks.py by `python -m grader make-exercises`.
# Replace each `raise NotImplementedError(...)` with your code, then grade it with
# `pytest tests/test_ch01_callbacks.py` or `python -m grader`.
"""Chapter 1: callbacks, closures, `partial` and callable classes (book/ch01_callbacks.ipynb).

Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.
The docstrings say what each exercise takes and returns; `pytest tests/test_ch01_callbacks.py`
grades them, and `python -m grader hint ID` gives hints.
"""
from __future__ import annotations

import inspect
import time


def show_progress(exclamation: str, epoch: int) -> None:
    """Print one progress line, e.g. `show_progress("Awesome", 3)` prints `Awesome! We've finished epoch 3!`.

    The exclamation comes first, as in the lesson, so that `partial(show_progress, "OK I guess")` fixes it.
    """
    print(f"{exclamation}! We've finished epoch {epoch}!")


def make_show_progress(exclamation: str):
    """Return a callback `f(epoch)` that prints `{exclamation}! We've finished epoch {epoch}!`.

    The returned function is a closure: it remembers `exclamation` after this call has returned.

    >>> f = make_show_progress("Nice")
    >>> f(2)
    Nice! We've finished epoch 2!

    Book: chapter 1, "Closures".
    """
    raise NotImplementedError("Exercise ch01.make_show_progress: Return a callback `f(epoch)` that prints `{exclamation}! We've finished epoch {epoch}!`.")


def slow_calculation(cb=None, steps: int = 5, delay: float = 1.0) -> int:
    """Add up `i*i` for `i` in `range(steps)`, sleeping `delay` seconds per step; return the sum.

    `cb` is an optional callback object; each of its two methods is optional too:
    - `cb.before_calc(i)` is called before step `i`;
    - `cb.after_calc(i, val=res)` is called after step `i` with the running sum. If it returns
      something truthy, the calculation stops early and returns the sum so far.

    >>> slow_calculation(delay=0)
    30

    Book: chapter 1, "Callbacks with several methods" and "Stopping early".
    """
    raise NotImplementedError('Exercise ch01.slow_calculation: Add up `i*i` for `i` in `range(steps)`, sleeping `delay` seconds per step; return the sum.')


class ProgressShowingCallback:
    """A callable object that prints progress, like `make_show_progress` but as a class.

    >>> cb = ProgressShowingCallback("Just super")
    >>> cb(1)
    Just super! We've finished epoch 1!

    The exclamation defaults to "Awesome" and is kept in `self.exclamation`.
    Book: chapter 1, "Callable classes".
    """

    def __init__(self, exclamation: str = "Awesome"):
        """Store `exclamation` as `self.exclamation`."""
        raise NotImplementedError('Exercise ch01.ProgressShowingCallback: Store `exclamation` as `self.exclamation`.')

    def __call__(self, epoch: int) -> None:
        """Print `{exclamation}! We've finished epoch {epoch}!`."""
        raise NotImplementedError("Exercise ch01.ProgressShowingCallback: Print `{exclamation}! We've finished epoch {epoch}!`.")


class SlowCalculator:
    """`slow_calculation` as an object whose state a callback may read and change.

    `SlowCalculator(cb, steps=5, delay=1.0)`; `calc()` runs the sum and leaves it in `self.res`.
    Each hook is called as `cb.before_calc(calc, i)` / `cb.after_calc(calc, i)`, receiving the
    calculator itself, so a callback can read or modify `calc.res`. A missing hook is skipped; a
    truthy result from `after_calc` stops the calculation.

    >>> class Double:
    ...     def after_calc(self, calc, epoch):
    ...         calc.res *= 2
    >>> c = SlowCalculator(Double(), steps=3, delay=0); c.calc(); c.res
    12

    Book: chapter 1, "Callbacks that change the calculation".
    """

    def __init__(self, cb=None, steps: int = 5, delay: float = 1.0):
        self.cb, self.steps, self.delay = cb, steps, delay
        self.res = 0

    def callback(self, cb_name: str, *args):
        """Call `self.cb.<cb_name>(self, *args)` if that method exists; return its result (or None)."""
        raise NotImplementedError('Exercise ch01.SlowCalculator: Call `self.cb.<cb_name>(self, *args)` if that method exists; return its result (or None).')

    def calc(self) -> None:
        """Reset `self.res` to 0, then add `i*i` for each step, calling the hooks around each step."""
        raise NotImplementedError('Exercise ch01.SlowCalculator: Reset `self.res` to 0, then add `i*i` for each step, calling the hooks around each step.')


def make_counter(start: int = 0, step: int = 1):
    """Return a function `count()` that returns `start + step`, then `start + 2*step`, ... per call.

    Each counter keeps its own state in its closure (use `nonlocal`), so two counters made by two
    calls never affect each other.

    >>> c = make_counter(); c(), c(), c()
    (1, 2, 3)
    >>> d = make_counter(10, step=5); d(), c()
    (15, 4)

    Book: chapter 1, "Closures that change their state" (beyond the chapter: the fix it names).
    """
    raise NotImplementedError('Exercise ch01.make_counter: Return a function `count()` that returns `start + step`, then `start + 2*step`, ... per call.')


class my_partial:  # noqa: N801 - named like functools.partial, which it imitates
    """Freeze some arguments of `func`, like `functools.partial`.

    `my_partial(func, *args, **keywords)(*more, **more_keywords)` calls
    `func(*args, *more, **{**keywords, **more_keywords})`: positional arguments are prepended,
    keywords are merged and those given at call time win. The frozen pieces are exposed as
    `.func`, `.args` (a tuple) and `.keywords` (a dict), as functools.partial does. A `func` that
    is not callable raises TypeError at construction.

    >>> from operator import sub
    >>> p = my_partial(sub, 10); p(3), p.func is sub, p.args, p.keywords
    (7, True, (10,), {})

    Book: chapter 1, "partial" (beyond the chapter: build it yourself).
    """

    def __init__(self, func, *args, **keywords):
        """Check that `func` is callable and store `func`, `args` and `keywords`."""
        raise NotImplementedError('Exercise ch01.my_partial: Check that `func` is callable and store `func`, `args` and `keywords`.')

    def __call__(self, *args, **keywords):
        """Call `func` with the frozen arguments first and the keywords merged (call-time wins)."""
        raise NotImplementedError('Exercise ch01.my_partial: Call `func` with the frozen arguments first and the keywords merged (call-time wins).')


def call_with_accepted_kwargs(func, *args, **kwargs):
    """Call `func(*args, **accepted)` where `accepted` keeps only the keywords `func` can take.

    A keyword is accepted if `func`'s signature has a parameter of that name that can be passed
    by keyword; if `func` takes `**kwargs`, every keyword is accepted. Use `inspect.signature`.
    This lets a training loop offer many values to callbacks that each want only a few.

    >>> def after_calc(epoch, val):
    ...     return val
    >>> call_with_accepted_kwargs(after_calc, 3, val=14, lr=0.1)
    14

    Book: chapter 1, "*args and **kwargs" (beyond the chapter: the opposite of swallowing them).
    """
    raise NotImplementedError('Exercise ch01.call_with_accepted_kwargs: Call `func(*args, **accepted)` where `accepted` keeps only the keywords `func` can take.')
