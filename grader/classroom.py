"""`python -m grader grade-class SUBMISSIONS --out DIR`: grade a whole class.

SUBMISSIONS holds one sub-folder per student (their `exercises/` folder, or a whole copy of the
repository). Each is graded by pytest in its own process with a time limit, so one student's crash
or infinite loop never touches another's grade. Writes DIR/<student>/results.json (Gradescope's
format), DIR/<student>/pytest.log and DIR/summary.csv.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import catalog
from .catalog import ROOT

COUNTS = ("passed", "failed", "error", "not started")


def grade_one(submission: Path, out: Path, timeout: float, chapters: list[str] | None = None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    results.unlink(missing_ok=True)
    tests = [str(ROOT / "tests" / f"test_{c}.py") for c in chapters] if chapters else [str(ROOT / "tests")]
    command = [sys.executable, "-m", "pytest", *tests, f"--target={submission}",
               f"--results-json={results}", "-q", "--no-header", "-p", "no:cacheprovider"]
    started = time.time()
    row = {"student": submission.name, "score": 0.0, "max_score": "", "status": "graded"}
    try:
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        (out / "pytest.log").write_text(completed.stdout + completed.stderr)
    except subprocess.TimeoutExpired as expired:
        (out / "pytest.log").write_text(f"stopped after {timeout:.0f} s\n{expired.stdout or ''}")
        row["status"] = f"timed out after {timeout:.0f} s"
    row["seconds"] = round(time.time() - started, 1)
    if results.exists():
        data = json.loads(results.read_text())
        row.update(score=data["score"], max_score=data["max_score"], **data["extra_data"]["counts"])
    else:
        if row["status"] == "graded":
            row["status"] = "grader crashed: see pytest.log"
        results.write_text(json.dumps({"score": 0.0, "output": f"Not graded: {row['status']}.", "tests": []}, indent=2))
    return row


def main(submissions: Path, out: Path, timeout: float = 600, jobs: int = 1, chapters: list[str] | None = None) -> int:
    if not submissions.is_dir():
        print(f"{submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        print(f"{submissions} holds no sub-folders (one per student)", file=sys.stderr)
        return 2
    if chapters:
        names = catalog.chapter_names()
        unknown = [c for c in chapters if c not in names]
        if unknown:
            print(f"unknown chapters {', '.join(unknown)}; chapters: {', '.join(names)}", file=sys.stderr)
            return 2
    out.mkdir(parents=True, exist_ok=True)
    print(f"Grading {len(students)} submissions from {submissions} ({jobs} at a time, {timeout:.0f} s each)")

    def grade(student: Path) -> dict:
        row = grade_one(student.resolve(), out / student.name, timeout, chapters)
        print(f"  {row['student']:<24} {row['score']:>6} / {row['max_score']:<6} {row['status']} ({row['seconds']} s)",
              flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(grade, students))
    summary = out / "summary.csv"
    with summary.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["student", "score", "max_score", *COUNTS, "status", "seconds"],
                                restval=0)
        writer.writeheader()
        writer.writerows(rows)
    print(f"Wrote {summary} and one results.json per student under {out}/")
    return 0
