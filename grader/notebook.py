"""`from grader import check; check("ch03.variance")`: grade from a notebook cell, one verdict per exercise.

While the book is being built (`BOOK_BUILD_ENV` set, as `_ext/book_fixes.py` and `grader.execute` do), `check`
grades freshly generated stubs instead of the reader's `exercises/`: the built pages show what a new learner
sees, whatever state this checkout's exercises are in, and the execution cache can never store a learner's
verdicts in the book.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from . import catalog, progress
from .loading import default_target

BOOK_BUILD_ENV = "GRADER_BOOK_BUILD"

MAX_LINES = 8


def verdict(status: progress.Status) -> str:
    exercise = status.exercise
    where = f"{status.file}:{status.line}" if status.line else status.file
    if status.state == "done":
        return f"✓ {exercise.id}: passed. Well done."
    if status.state == "not started" and status.blocked_by:
        return (f"· {exercise.id}: blocked by {status.blocked_by} (not started): its tests need {status.blocked_by}. "
                f"Start with that one.")
    if status.state == "not started":
        return f"· {exercise.id}: not started. Replace the `raise NotImplementedError` at {where}, save, and run this cell again."
    lines = [line for line in status.detail.strip().splitlines() if line.strip()]
    if lines and lines[0] in ("failed", "error"):
        lines = lines[1:]
    shown = "\n    ".join(lines[:MAX_LINES]) + ("\n    ..." if len(lines) > MAX_LINES else "")
    label = {"failed": "failed", "error": "error (it crashed)", "missing": "missing"}[status.state]
    diagnosis = f"\n  {status.diagnosis}" if status.diagnosis else ""
    return (f"✗ {exercise.id}: {label}{diagnosis}\n    {shown}\n  Full report: pytest tests/test_{exercise.chapter}.py "
            f"--exercise {exercise.id}    Hint: python -m grader hint {exercise.id}")


@functools.lru_cache(maxsize=1)
def _fresh_stubs() -> Path:
    from . import stubs

    folder = Path(tempfile.mkdtemp(prefix="grader-book-stubs-"))
    stubs.generate(folder)
    return folder


def check(what: str, target: str | None = None) -> None:
    """Print one verdict for an exercise ("ch03.variance") or for each exercise of a chapter ("ch03")."""
    every = catalog.exercises()
    if "." in what or what not in {e.id.split(".")[0] for e in every}:
        chosen = [catalog.find(what, every)]
    else:
        chosen = [e for e in every if e.id.startswith(what + ".")]
    building = os.environ.get(BOOK_BUILD_ENV) == "1"
    target = str(_fresh_stubs()) if building else (target or default_target())
    statuses, to_run = progress.static_status(chosen, progress.target_dir(target))
    if building:  # the page names the reader's file, not the temporary copy
        for status in statuses:
            status.file = f"exercises/{status.exercise.chapter}.py"
    results = progress.run_tests(to_run, target) if to_run else {}
    known = {s.exercise.id: s for s in statuses}
    for exercise in chosen:
        status = known.get(exercise.id) or progress.Status(exercise, "error", file=f"solutions/{exercise.chapter}.py")
        entry = results.get(exercise.id)
        if exercise in to_run:
            if entry is None:
                status.state, status.detail = "error", "no test result"
            else:
                status.state, status.detail = entry["status"], entry.get("first_problem", "")
                status.diagnosis = entry.get("diagnosis", {}).get("text", "")
                status.blocked_by = entry.get("blocked_by", "")
        print(verdict(status))
