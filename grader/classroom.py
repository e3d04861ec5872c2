"""Grade submissions an instructor can trust: `grade-class` for a folder of them, `grade-one` for Gradescope.

SUBMISSIONS holds one sub-folder per student (their `exercises/` folder, or a whole copy of the repository).
Each is graded by its own `pytest --secure` process: the tests run there, trusted, and the student's code
runs only in sandboxed workers (grader/worker.py, grader/sandbox.py) that cannot write anything outside
their private copy, read the answers, reach the network, or outlive the grading. This module then checks
what that process wrote (the schema, the types, every score against the points the catalog gives the
exercise, never the points it claims) before it writes, itself:

- `DIR/<student>/results.json` (Gradescope's format) and `DIR/<student>/pytest.log` (cut at 1 MiB);
- `DIR/summary.csv`, one row per student, cells that a spreadsheet could run as a formula escaped;
- `DIR/item_analysis.csv`, `DIR/item_analysis.md` and `DIR/mistakes.png`: what the class got wrong.

A student whose grading crashes or runs out of time gets *error* for every exercise not graded, keeps the
exercise's points in `max_score`, and never stops the others.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import catalog
from .catalog import ROOT

COUNTS = ("passed", "failed", "error", "not started")
STATUSES = ("done", "failed", "error", "not started")
LOG_LIMIT = 2 ** 20
RESULTS_LIMIT = 32 * 2 ** 20
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


class InvalidResults(Exception):
    """What the grading process wrote is not a results file this module accepts."""


# --------------------------------------------------------------------------------------------
# The points, from the catalog
# --------------------------------------------------------------------------------------------

def points_by_exercise(chapters: list[str] | None) -> dict[str, float]:
    """{exercise id: points} for the chapters graded, from the tests' markers (never from a results file)."""
    return {e.id: float(e.points or 0.0) for e in catalog.exercises(chapters)}


# --------------------------------------------------------------------------------------------
# Validating what the grading process wrote
# --------------------------------------------------------------------------------------------

def _number(value, name: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise InvalidResults(f"{name} is not a finite number: {value!r}"[:200])
    return float(value)


def _text(value, name: str, limit: int = 20_000) -> str:
    if type(value) is not str:
        raise InvalidResults(f"{name} is not text")
    return value[:limit]


def validated(data, points: dict[str, float]) -> dict:
    """A clean results dict built from `data`: only known exercises and fields, each score clipped to its
    test's share of the catalog's points, every exercise of `points` present (an exercise the run did not
    report is *error*), totals recomputed."""
    if type(data) is not dict or type(data.get("tests")) is not list:
        raise InvalidResults("no list of tests")
    tests, per_exercise = [], {e: [] for e in points}
    for raw in data["tests"][:5000]:
        if type(raw) is not dict:
            raise InvalidResults("a test entry that is not an object")
        tags = raw.get("tags")
        exercise = tags[0] if type(tags) is list and tags and type(tags[0]) is str else None
        if exercise not in points:
            continue  # a test of an exercise not graded here, or an invented one
        extra = raw.get("extra_data") if type(raw.get("extra_data")) is dict else {}
        outcome = extra.get("outcome")
        if outcome not in COUNTS:
            outcome = "error"
        entry = {"name": _text(raw.get("name", exercise), "name", 500), "exercise": exercise, "outcome": outcome,
                 "output": _text(raw.get("output", ""), "output")}
        per_exercise[exercise].append(entry)
    diagnoses = {}
    extra = data.get("extra_data") if type(data.get("extra_data")) is dict else {}
    exercises = extra.get("exercises") if type(extra.get("exercises")) is dict else {}
    for exercise, entry in exercises.items():
        if exercise in points and type(entry) is dict and type(entry.get("diagnosis")) is dict:
            diagnosis = entry["diagnosis"]
            mistake = diagnosis.get("mistake")
            if type(mistake) is str:
                diagnoses[exercise] = {"mistake": mistake[:500], "text": _text(diagnosis.get("text", mistake), "text", 1000)}
    summary = {}
    for exercise, entries in per_exercise.items():
        worth = points[exercise]
        if not entries:
            entries = [{"name": f"{exercise}: not graded", "exercise": exercise, "outcome": "error",
                        "output": "error\nThis exercise's tests did not report (the grading stopped before them)."}]
            per_exercise[exercise] = entries
        share = worth / len(entries)
        for entry in entries:
            entry["max_score"] = round(share, 6)
            entry["score"] = round(share if entry["outcome"] == "passed" else 0.0, 6)
            tests.append(entry)
        outcomes = {e["outcome"] for e in entries}
        status = ("done" if outcomes == {"passed"} else "not started" if outcomes == {"not started"}
                  else "error" if "error" in outcomes else "failed")
        summary[exercise] = {"status": status, "score": round(sum(e["score"] for e in entries), 4),
                             "max_score": round(worth, 4), "tests": len(entries),
                             "passed": sum(e["outcome"] == "passed" for e in entries)}
        if exercise in diagnoses:
            summary[exercise]["diagnosis"] = diagnoses[exercise]
    counts = {o: sum(t["outcome"] == o for t in tests) for o in COUNTS}
    return {"tests": tests, "exercises": summary, "counts": counts,
            "score": round(sum(t["score"] for t in tests), 4), "max_score": round(sum(points.values()), 4)}


def gradescope(results: dict, output: str, seconds: float, notes: list[str]) -> dict:
    """The results in Gradescope's format (what `results.json` holds)."""
    tests = []
    for t in results["tests"]:
        tests.append({"name": t["name"], "score": t["score"], "max_score": t["max_score"],
                      "status": "passed" if t["outcome"] == "passed" else "failed",
                      "output": t["output"], "tags": [t["exercise"]],
                      "extra_data": {"outcome": t["outcome"]}})
    lines = [output] + notes
    return {"score": results["score"], "max_score": results["max_score"], "execution_time": round(seconds, 2),
            "output": "\n".join(line for line in lines if line), "tests": tests,
            "extra_data": {"counts": results["counts"], "exercises": results["exercises"]}}


# --------------------------------------------------------------------------------------------
# Grading one submission
# --------------------------------------------------------------------------------------------

def reference_imports(folder: Path, chapters: list[str]) -> list[str]:
    """Lines of the submission's own chapter files that import that chapter's reference solutions (read as text)."""
    found = []
    for chapter in chapters:
        path = folder / f"{chapter}.py"
        if not path.is_file() or path.is_symlink():
            continue
        text = path.read_text(errors="replace")[:2 * 2 ** 20]
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(rf"\bsolutions\b.*\b{chapter}\b|\b{chapter}\b.*\bsolutions\b", line) or \
               re.search(rf"solutions[/\\.]{chapter}", line):
                found.append(f"{chapter}.py:{number}: {line.strip()[:120]}")
    return found


def grade_one(submission: Path, results_path: Path, log_path: Path | None, timeout: float,
              chapters: list[str] | None = None, unsafe: bool = False) -> dict:
    """Grade one submission with `pytest --secure`; write a validated results.json; return its summary row."""
    from .loading import target_dir

    started = time.time()
    chapters = chapters or catalog.chapter_names()
    points = points_by_exercise(chapters)
    row = {"student": submission.name, "score": 0.0, "max_score": round(sum(points.values()), 4),
           **{c: 0 for c in COUNTS}, "status": "", "seconds": 0.0, "notes": ""}
    notes: list[str] = []
    try:
        folder = target_dir(str(submission))
    except Exception as error:  # noqa: BLE001 - a path that is not a folder
        folder, notes = None, [f"not graded: {error}"]
    log_text, raw = "", None
    if folder is not None:
        with tempfile.TemporaryDirectory(prefix="grader-results-") as private:
            os.chmod(private, 0o700)
            own = Path(private) / "results.json"
            log_file = Path(private) / "pytest.log"
            tests = [str(ROOT / "tests" / f"test_{c}.py") for c in chapters]
            command = [sys.executable, "-m", "pytest", *tests, f"--target={folder}", "--secure",
                       f"--results-json={own}", "-q", "--no-header", "-p", "no:cacheprovider", "--tb=short",
                       "-o", "console_output_style=classic"]
            if unsafe:
                command.append("--unsafe")
            env = {k: v for k, v in os.environ.items() if k not in ("GRADER_TARGET", "PYTEST_ADDOPTS")}
            with log_file.open("wb") as log:
                try:
                    completed = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, timeout=timeout, env=env)
                    if completed.returncode not in (0, 1):
                        notes.append(f"the grading process exited with status {completed.returncode}: see pytest.log")
                except subprocess.TimeoutExpired:
                    notes.append(f"the grading stopped after {timeout:.0f} s: the exercises not reached are errors")
            with log_file.open("rb") as log:
                log_text = log.read(LOG_LIMIT).decode(errors="replace")
            if own.exists() and own.stat().st_size <= RESULTS_LIMIT:
                try:
                    raw = json.loads(own.read_text())
                except (json.JSONDecodeError, UnicodeDecodeError):
                    notes.append("the results could not be read: every exercise is an error")
        attempts = reference_imports(folder, chapters)
        if attempts:
            notes.append("tried to import the reference solutions: " + "; ".join(attempts[:3]))
    try:
        results = validated(raw if raw is not None else {"tests": []}, points)
    except InvalidResults as error:
        notes.append(f"the results were invalid ({error}): every exercise is an error")
        results = validated({"tests": []}, points)
    seconds = time.time() - started
    output = ", ".join(f"{n} {o}" for o, n in results["counts"].items() if n)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(gradescope(results, output, seconds, notes), indent=2))
    if log_path is not None:
        log_path.write_text(log_text + ("\n... (cut)" if len(log_text) >= LOG_LIMIT else ""))
    statuses = {e["status"] for e in results["exercises"].values()}
    if notes and any(n.startswith(("not graded", "the grading stopped", "the results")) for n in notes):
        status = notes[0].split(":")[0]
    elif statuses == {"error"}:
        status = "error: every exercise errored (see pytest.log)"
    elif statuses == {"not started"}:
        status = "nothing started"
    else:
        status = "graded"
    row.update(score=results["score"], max_score=results["max_score"], **results["counts"], status=status,
               seconds=round(seconds, 1), notes="; ".join(notes)[:500])
    row["_exercises"] = results["exercises"]
    return row


# --------------------------------------------------------------------------------------------
# The class
# --------------------------------------------------------------------------------------------

def safe_cell(value):
    """A CSV cell a spreadsheet shows as text: a leading =, +, -, @ (a formula) gets a quote in front."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"
    return cleaned[:100]


def main(submissions: Path, out: Path, timeout: float = 600, jobs: int = 1, chapters: list[str] | None = None,
         unsafe: bool = False) -> int:
    from .sandbox import UID_RANGE, backend, kill_uid, processes_of
    from .worker import NO_SANDBOX

    if not submissions.is_dir():
        print(f"{submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.is_symlink()
                      and not p.name.startswith("."))
    if not students:
        print(f"{submissions} holds no sub-folders (one per student)", file=sys.stderr)
        return 2
    if chapters:
        names = catalog.chapter_names()
        unknown = [c for c in chapters if c not in names]
        if unknown:
            print(f"unknown chapters {', '.join(unknown)}; chapters: {', '.join(names)}", file=sys.stderr)
            return 2
    kind = backend()
    if kind is None and not unsafe:
        print(NO_SANDBOX, file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    print(f"Grading {len(students)} submissions from {submissions} ({jobs} at a time, {timeout:.0f} s each, "
          f"sandbox: {kind or 'NONE (--unsafe)'})")
    taken: set[str] = set()
    folders = {}
    for student in students:
        name = safe_name(student.name)
        while name in taken:
            name += "_"
        taken.add(name)
        folders[student] = out / name

    def grade(student: Path) -> dict:
        folder = folders[student]
        try:
            row = grade_one(student.resolve(), folder / "results.json", folder / "pytest.log", timeout, chapters,
                            unsafe)
        except Exception as error:  # noqa: BLE001 - one student never stops the others
            row = {"student": student.name, "score": 0.0, "max_score": "", "status": f"grader error: {error}"[:300],
                   "seconds": 0.0, "notes": "", "_exercises": {}}
        print(f"  {row['student'][:24]:<24} {row['score']:>7} / {row['max_score']:<7} {row['status']} "
              f"({row['seconds']} s)", flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(grade, students))
    leftovers = [uid for uid in UID_RANGE if processes_of(uid)]
    for uid in leftovers:
        kill_uid(uid)
    summary = out / "summary.csv"
    with summary.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["student", "score", "max_score", *COUNTS, "status", "seconds",
                                                  "notes"], restval=0, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
    written = item_analysis(rows, out, chapters)
    print(f"Wrote {summary}, {', '.join(str(p) for p in written)} and one results.json per student under {out}/")
    if leftovers:
        print(f"warning: processes of {len(leftovers)} sandbox user ids were still alive after grading; killed")
    return 0


def item_analysis(rows: list[dict], out: Path, chapters: list[str] | None) -> list[Path]:
    """Per exercise, the share of students in each status; per diagnosed mistake, how many made it."""
    exercises = list(points_by_exercise(chapters))
    n = len(rows)
    table, mistakes = [], {}
    for exercise in exercises:
        counts = {s: 0 for s in STATUSES}
        for row in rows:
            entry = row.get("_exercises", {}).get(exercise)
            status = entry["status"] if entry else "error"
            counts[status] = counts.get(status, 0) + 1
            if entry and "diagnosis" in entry:
                key = (exercise, entry["diagnosis"]["mistake"])
                mistakes[key] = mistakes.get(key, 0) + 1
        table.append({"exercise": exercise, **{s: counts[s] for s in STATUSES},
                      **{f"{s} %": round(100 * counts[s] / n, 1) if n else 0.0 for s in STATUSES}})
    csv_path = out / "item_analysis.csv"
    with csv_path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["kind", "exercise", "mistake", *STATUSES, *(f"{s} %" for s in STATUSES), "students"])
        for row in table:
            writer.writerow(["exercise", row["exercise"], "", *(row[s] for s in STATUSES),
                             *(row[f"{s} %"] for s in STATUSES), n])
        for (exercise, mistake), count in sorted(mistakes.items(), key=lambda kv: -kv[1]):
            writer.writerow(["mistake", exercise, safe_cell(mistake), "", "", "", "", "", "", "", "", count])
    md_path = out / "item_analysis.md"
    hardest = sorted(table, key=lambda r: r["done"])[:10]
    lines = [f"# What the class got wrong ({n} students)", "",
             "## The most common mistakes", ""]
    if mistakes:
        for (exercise, mistake), count in sorted(mistakes.items(), key=lambda kv: -kv[1])[:15]:
            lines.append(f"- **{count} of {n}** in `{exercise}`: {mistake}")
    else:
        lines.append("No failing exercise matched a known mistake.")
    lines += ["", "![The most common mistakes](mistakes.png)", "", "## The exercises fewest students finished", "",
              "| exercise | done | failed | error | not started |", "|---|---|---|---|---|"]
    for row in hardest:
        lines.append(f"| `{row['exercise']}` | {row['done']} | {row['failed']} | {row['error']} | {row['not started']} |")
    lines += ["", "Every exercise, with percentages: `item_analysis.csv`."]
    md_path.write_text("\n".join(lines) + "\n")
    png_path = out / "mistakes.png"
    _chart(mistakes, n, png_path)
    return [csv_path, md_path, png_path]


def _chart(mistakes: dict, n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import textwrap

    top = sorted(mistakes.items(), key=lambda kv: -kv[1])[:10]
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.55 * max(1, len(top))))
    if top:
        labels = [f"{exercise}: " + textwrap.shorten(mistake, 70) for (exercise, mistake), _ in top][::-1]
        ax.barh(range(len(top)), [count for _, count in top][::-1], color="#c0504d")
        ax.set_yticks(range(len(top)), labels, fontsize=8)
        ax.set_xlabel(f"students (of {n})")
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:
        ax.text(0.5, 0.5, "no failing exercise matched a known mistake", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("The most common known mistakes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def grade_for_gradescope(submission: Path, results: Path, chapters: list[str] | None, timeout: float,
                         unsafe: bool = False) -> int:
    """`python -m grader grade-one`: one submission, results.json always written."""
    try:
        grade_one(submission, results, None, timeout, chapters, unsafe)
    except Exception as error:  # noqa: BLE001 - Gradescope must always get a results.json
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps({"score": 0, "output": f"The autograder failed: {error}", "tests": []}))
    return 0
