"""How long the book takes to build, and a learner's full `pytest`: the figures issue 10 asks for.

    python benchmarks/bench_book.py            # build from scratch in a temporary copy, rebuild, run pytest
    python benchmarks/bench_book.py --no-build # only the pytest timings

Targets on a 2-core machine: a build from scratch (every notebook executed) under 8 minutes, a rebuild with
nothing changed under 30 s, a learner's plain `pytest` over every chapter under 60 s. Each figure is one
measurement of wall time on this machine; the ratios to the targets are printed next to them.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"build from scratch": 8 * 60, "rebuild, nothing changed": 30, "pytest, every chapter (stubs)": 60,
           "pytest, every chapter (solutions)": 60}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode not in (0, 1):  # pytest exits 1 when tests are not started
        sys.exit(f"{' '.join(command)} failed ({completed.returncode}):\n{(completed.stdout + completed.stderr)[-3000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    if not args.no_build:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "book"
            shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("_build", ".git", "__pycache__", ".hypothesis"))
            build = ["jupyter-book", "build", ".", "-W", "-n", "--keep-going"]
            figures["build from scratch"] = timed(build, copy)
            figures["rebuild, nothing changed"] = timed(build, copy)
    figures["pytest, every chapter (stubs)"] = timed([sys.executable, "-m", "pytest", "-q"], ROOT)
    figures["pytest, every chapter (solutions)"] = timed([sys.executable, "-m", "pytest", "-q", "--target=solutions"], ROOT)
    print(f"{'measurement':<36} {'seconds':>8} {'target':>8} {'ratio':>6}")
    for name, seconds in figures.items():
        print(f"{name:<36} {seconds:>8.1f} {TARGETS[name]:>8.0f} {seconds / TARGETS[name]:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
