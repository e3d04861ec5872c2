"""Chapter 1: callbacks, closures, `partial` and callable classes (book/ch01_callbacks.ipynb)."""
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
    # BEGIN SOLUTION
    def _inner(epoch):
        show_progress(exclamation, epoch)

    return _inner
    # END SOLUTION


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
    # BEGIN SOLUTION
    res = 0
    for i in range(steps):
        if cb is not None and hasattr(cb, "before_calc"):
            cb.before_calc(i)
        res += i * i
        time.sleep(delay)
        if cb is not None and hasattr(cb, "after_calc"):
            if cb.after_calc(i, val=res):
                break
    return res
    # END SOLUTION


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
        # BEGIN SOLUTION
        self.exclamation = exclamation
        # END SOLUTION

    def __call__(self, epoch: int) -> None:
        """Print `{exclamation}! We've finished epoch {epoch}!`."""
        # BEGIN SOLUTION
        show_progress(self.exclamation, epoch)
        # END SOLUTION


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
        # BEGIN SOLUTION
        method = getattr(self.cb, cb_name, None)
        if method is None:
            return None
        return method(self, *args)
        # END SOLUTION

    def calc(self) -> None:
        """Reset `self.res` to 0, then add `i*i` for each step, calling the hooks around each step."""
        # BEGIN SOLUTION
        self.res = 0
        for i in range(self.steps):
            self.callback("before_calc", i)
            self.res += i * i
            time.sleep(self.delay)
            if self.callback("after_calc", i):
                break
        # END SOLUTION


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
    # BEGIN SOLUTION
    value = start

    def count():
        nonlocal value
        value += step
        return value

    return count
    # END SOLUTION


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
        # BEGIN SOLUTION
        if not callable(func):
            raise TypeError(f"my_partial needs a callable, got {func!r}")
        self.func, self.args, self.keywords = func, args, dict(keywords)
        # END SOLUTION

    def __call__(self, *args, **keywords):
        """Call `func` with the frozen arguments first and the keywords merged (call-time wins)."""
        # BEGIN SOLUTION
        return self.func(*self.args, *args, **{**self.keywords, **keywords})
        # END SOLUTION


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
    # BEGIN SOLUTION
    parameters = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return func(*args, **kwargs)
    by_keyword = {p.name for p in parameters
                  if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return func(*args, **{k: v for k, v in kwargs.items() if k in by_keyword})
    # END SOLUTION
