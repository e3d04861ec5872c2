"""`python -m grader`: where a learner stands and what to do next.

Untouched exercises are recognised without running anything (their stub's `raise
NotImplementedError("Exercise ...")` is still in the file), so a fresh checkout answers instantly
and without importing torch; the exercises a learner has touched are graded by pytest in a
subprocess.
"""
from __future__ import annotations

import ast
import json
import textwrap
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .catalog import ROOT, Exercise
from .loading import ChapterImportError, target_dir

BAR = 20


@dataclass
class Status:
    exercise: Exercise
    state: str  # done / not started / failed / error / missing
    score: float = 0.0
    detail: str = ""
    line: int = 0  # where to edit, in the target's file
    file: str = ""
    diagnosis: str = ""  # the known mistake the failing code behaves like (grader/diagnosis.py)
    blocked_by: str = ""  # another exercise whose stub keeps this one's tests from running


def _display(path: Path) -> str:
    for base in (ROOT, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


def static_status(exercises: list[Exercise], folder: Path | None) -> tuple[list[Status], list[Exercise]]:
    """Statuses known without running tests, and the exercises that need their tests run."""
    statuses, to_run = [], []
    sources: dict[str, str | Exception] = {}
    for exercise in exercises:
        if folder is None:
            to_run.append(exercise)
            continue
        path = folder / f"{exercise.chapter}.py"
        if exercise.chapter not in sources:
            try:
                text = path.read_text()
                ast.parse(text, filename=str(path))
                sources[exercise.chapter] = text
            except FileNotFoundError:
                sources[exercise.chapter] = FileNotFoundError(f"{_display(path)} does not exist")
            except SyntaxError as error:
                sources[exercise.chapter] = SyntaxError(f"{_display(path)}:{error.lineno}: SyntaxError: {error.msg}")
        source = sources[exercise.chapter]
        status = Status(exercise, "", file=_display(path))
        if isinstance(source, Exception):
            status.state, status.detail = ("missing" if isinstance(source, FileNotFoundError) else "error"), str(source)
            statuses.append(status)
            continue
        lines = source.splitlines()
        marker = f"Exercise {exercise.id}:"
        stub_lines = [n for n, text in enumerate(lines, 1) if "raise NotImplementedError" in text and marker in text]
        status.line = stub_lines[0] if stub_lines else _def_line(lines, exercise.name)
        if len(stub_lines) >= len(exercise.regions):
            status.state = "not started"
            statuses.append(status)
        else:
            to_run.append(exercise)
            statuses.append(status)
    return statuses, to_run


def _def_line(lines: list[str], name: str) -> int:
    for number, text in enumerate(lines, 1):
        if text.startswith((f"def {name}(", f"class {name}(", f"class {name}:")):
            return number
    return 0


def run_tests(exercises: list[Exercise], target: str, quiet: bool = True) -> dict[str, dict]:
    """Run the tests of `exercises` against `target` in a subprocess; per-exercise results."""
    if not exercises:
        return {}
    files = sorted({str(catalog.TESTS / f"test_{e.chapter}.py") for e in exercises})
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        command = [sys.executable, "-m", "pytest", *files, f"--target={target}", f"--results-json={results}",
                   "-q", "--no-header", "-p", "no:cacheprovider"]
        command += [f"--exercise={e.id}" for e in exercises]
        completed = subprocess.run(command, cwd=ROOT, capture_output=quiet, text=True,
                                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        if not results.exists():
            output = (completed.stdout or "") + (completed.stderr or "")
            raise RuntimeError(f"pytest could not grade (exit {completed.returncode}):\n{output[-3000:]}")
        data = json.loads(results.read_text())
    by_exercise = data["extra_data"]["exercises"]
    for test in data["tests"]:
        entry = by_exercise.get(test["tags"][0])
        if entry is not None and test["extra_data"]["outcome"] != "passed" and "first_problem" not in entry:
            output = test["output"]
            first, _, rest = output.partition("\n")
            if first in ("failed", "error"):
                output = rest
            diagnosis = entry.get("diagnosis", {}).get("text", "")
            if diagnosis and output.startswith(diagnosis):  # shown on its own; the excerpt starts at the message
                output = output[len(diagnosis):].lstrip()
            entry["first_problem"] = output
    return by_exercise


def statuses_for(target: str, chapters: list[str] | None = None) -> list[Status]:
    exercises = catalog.exercises(chapters)
    try:
        folder = target_dir(target)
    except ChapterImportError as error:
        raise SystemExit(str(error)) from None
    statuses, to_run = static_status(exercises, folder)
    if to_run:
        print(f"Grading {len(to_run)} exercise{'s' * (len(to_run) != 1)} you have worked on...", flush=True)
        ran = run_tests(to_run, target)
        known = {s.exercise.id: s for s in statuses}
        for exercise in to_run:
            status = known.get(exercise.id) or Status(exercise, "", file=f"solutions/{exercise.chapter}.py",
                                                        line=exercise.line)
            if exercise.id not in known:
                statuses.append(status)
            entry = ran.get(exercise.id)
            if entry is None:
                status.state, status.detail = "error", "no test result (see `pytest` output)"
                continue
            status.state, status.score = entry["status"], entry["score"]
            status.detail = entry.get("first_problem", "")
            status.diagnosis = entry.get("diagnosis", {}).get("text", "")
            status.blocked_by = entry.get("blocked_by", "")
    order = {e.id: i for i, e in enumerate(exercises)}
    return sorted(statuses, key=lambda s: order[s.exercise.id])


def bar(fraction: float) -> str:
    filled = round(fraction * BAR)
    return "█" * filled + "░" * (BAR - filled)


def show(target: str = "exercises", chapters: list[str] | None = None, verbose: bool = False) -> int:
    statuses = statuses_for(target, chapters)
    if not statuses:
        print("No exercises found.")
        return 1
    print(f"\nLooking Inside the Model: your progress (grading {target})\n")
    print(f"  {'chapter':<20} {'done':>7} {'points':>11}  progress")
    chapters_seen: dict[str, list[Status]] = {}
    for status in statuses:
        chapters_seen.setdefault(status.exercise.chapter, []).append(status)
    total_done = total_points = total_max = 0.0
    for chapter, items in chapters_seen.items():
        done = sum(s.state == "done" for s in items)
        points = sum(s.score for s in items)
        maximum = sum(s.exercise.points or 0 for s in items)
        total_done, total_points, total_max = total_done + done, total_points + points, total_max + maximum
        fraction = points / maximum if maximum else 0.0
        print(f"  {chapter:<20} {done:>3}/{len(items):<3} {points:>5.1f}/{maximum:<5.0f} {bar(fraction)} {fraction:>4.0%}")
        if verbose or chapters:
            for s in items:
                mark = {"done": "✓", "not started": "·", "failed": "✗", "error": "!", "missing": "?"}[s.state]
                tag = " (beyond)" if s.exercise.beyond else ""
                state = f"blocked by {s.blocked_by} (not started)" if s.blocked_by else s.state
                print(f"      {mark} {s.exercise.id:<34} {state}{tag}")
    fraction = total_points / total_max if total_max else 0.0
    print(f"  {'total':<20} {int(total_done):>3}/{len(statuses):<3} {total_points:>5.1f}/{total_max:<5.0f} "
          f"{bar(fraction)} {fraction:>4.0%}\n")
    attention = [s for s in statuses if s.state in ("failed", "error", "missing")]
    upcoming = attention or [s for s in statuses if s.state == "not started"]
    if not upcoming:
        print("Every exercise passes. Well done!")
        return 0
    nxt = upcoming[0]
    label = {"failed": "has a failing test", "error": "crashes", "missing": "is missing",
             "not started": "is next"}[nxt.state]
    if nxt.blocked_by:
        label = f"is blocked by {nxt.blocked_by}, which is not started yet (its tests need it)"
    print(f"Next: {nxt.exercise.id} {label}" + (" (beyond the chapter)" if nxt.exercise.beyond else ""))
    if nxt.diagnosis:
        print("  " + "\n  ".join(textwrap.wrap(nxt.diagnosis, 100)))
    if nxt.detail:
        detail = nxt.detail.strip().splitlines()
        print("  " + "\n  ".join(detail[:8]) + ("\n  ..." if len(detail) > 8 else ""))
    where = f"{nxt.file}:{nxt.line}" if nxt.line else nxt.file
    print(f"  edit   {where}")
    print(f"  grade  pytest tests/test_{nxt.exercise.chapter}.py --exercise {nxt.exercise.id}")
    print(f"  hint   python -m grader hint {nxt.exercise.id}")
    return 0
