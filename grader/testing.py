"""Helpers for the chapters' tests (imported by tests/test_chNN_*.py, never by a learner's code)."""
from __future__ import annotations


def calls_during(monkeypatch, functions, run) -> list[str]:
    """Run `run()` with spies on `functions`, a list of `(owner, attribute name)`; return the names called.

    A spy records the call and then calls the original, so `run()` behaves exactly as without spies.
    Used to check that an exercise is written by hand instead of calling the built-in that the tests
    use as their oracle.
    """
    called = []
    with monkeypatch.context() as patch:
        for owner, attr in functions:
            if not hasattr(owner, attr):
                continue
            where = getattr(owner, "__name__", type(owner).__name__)

            def spy(*args, _original=getattr(owner, attr), _name=f"{where}.{attr}", **kwargs):
                called.append(_name)
                return _original(*args, **kwargs)

            patch.setattr(owner, attr, spy)
        run()
    return sorted(set(called))


def assert_written_by_hand(called: list[str], call: str, instead: str) -> None:
    """Fail with a learner-readable message when `calls_during` found the oracle being called."""
    assert not called, (f"{call} called {', '.join(called)}: that is the function the tests compare with, so "
                        f"calling it teaches nothing. {instead}")
