"""The pytest plugin behind the autograder (DESIGN section 3).

- `--target=exercises|solutions|PATH` (or GRADER_TARGET) picks what the `ch` fixture loads;
- `@pytest.mark.exercise("ch05.LRFinder", points=2)` ties each test to an exercise;
- every test ends *passed*, *not started*, *failed* or *error*, counted separately;
- `--exercise=ID` grades one exercise; `--results-json=FILE` writes Gradescope's results.json.
"""
from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .loading import ChapterImportError, default_target, load_chapter, target_dir

TEST_FILE_RE = re.compile(r"^test_(ch\d\d_[a-z0-9_]+)\.py$")
OUTCOMES = ("passed", "failed", "error", "not started")
MESSAGE_LIMIT = 4000


@dataclass
class Graded:
    nodeid: str
    exercise: str
    share: float  # points this test is worth
    outcome: str = "not run"
    message: str = ""


def pytest_addoption(parser):
    group = parser.getgroup("grader", "autograder")
    group.addoption("--target", default=None,
                    help="what to grade: 'exercises' (default), 'solutions' or a folder holding chNN_*.py files "
                         "(environment variable GRADER_TARGET does the same)")
    group.addoption("--exercise", action="append", default=[], metavar="ID",
                    help="grade only this exercise, e.g. --exercise ch05.LRFinder (may be repeated)")
    group.addoption("--results-json", default=None, metavar="FILE",
                    help="write the results in Gradescope's results.json format")


def pytest_configure(config):
    config.grader_target = config.getoption("--target") or default_target()
    config.grader_results = {}
    config.grader_modules = {}
    config.grader_timed_out = set()
    config.grader_started = time.time()
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
        return
    # Same examples on every run: a learner's failure reproduces, and a mutant is rejected every time.
    # No shrinking: it re-runs a wrong answer hundreds of times (each failure formatted by pytest), which
    # turned one wrong answer into many seconds and could run into the timeout. The first failing
    # example is reported as found; the tests draw small inputs, so it is small.
    settings.register_profile("grader", deadline=None, derandomize=True, database=None, print_blob=False,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate],
                              max_examples=30, report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    settings.load_profile("grader")


class _NotStarted(BaseException):
    """Raised in place of a stub's NotImplementedError inside hypothesis tests, so that hypothesis
    stops at the first example instead of shrinking a failure that every input shares."""


class _TimedOut(BaseException):
    """pytest-timeout's `Failed: Timeout` re-raised past hypothesis, which would otherwise catch it
    as a failing example and run the looping code again, with no alarm left to stop it."""


def _wrap_hypothesis_test(inner_test):
    @functools.wraps(inner_test)
    def wrapped(*args, **kwargs):
        try:
            return inner_test(*args, **kwargs)
        except NotImplementedError as error:
            if str(error).startswith("Exercise "):
                raise _NotStarted(str(error)) from error
            raise
        except pytest.fail.Exception as error:
            if str(error).startswith("Timeout"):
                raise _TimedOut(str(error)) from None
            raise

    wrapped._grader_wrapped = True
    return wrapped


def chapter_of(node) -> str | None:
    match = TEST_FILE_RE.match(Path(str(node.fspath)).name)
    return match.group(1) if match else None


@pytest.fixture
def ch(request):
    """The chapter module under test, loaded from the grading target."""
    chapter = chapter_of(request.node)
    if chapter is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the `ch` fixture only works in tests/test_chNN_topic.py")
    cache = request.config.grader_modules
    if chapter not in cache:
        try:
            cache[chapter] = load_chapter(request.config.grader_target, chapter)
        except ChapterImportError as error:
            cache[chapter] = error
    module = cache[chapter]
    if isinstance(module, ChapterImportError):
        pytest.fail(str(module), pytrace=False)
    return module


def _exercise_marker(item):
    marker = item.get_closest_marker("exercise")
    if marker is None:
        return None
    if not marker.args or not isinstance(marker.args[0], str):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.exercise needs the exercise id, e.g. 'ch01.make_counter'")
    return marker.args[0], float(marker.kwargs.get("points", 1))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    try:
        target_dir(config.grader_target)
    except ChapterImportError as error:
        raise pytest.UsageError(str(error)) from None
    wanted = set(config.getoption("--exercise"))
    graded, selected, deselected = [], [], []
    for item in items:
        found = _exercise_marker(item)
        if found is None:
            if chapter_of(item) is not None:
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.exercise(...): every graded test names its exercise")
            selected.append(item)
            continue
        exercise, points = found
        # `pytest -m ch05_LRFinder` selects one exercise, like --exercise ch05.LRFinder.
        marker_name = exercise.replace(".", "_")
        config.addinivalue_line("markers", f"{marker_name}: the tests of exercise {exercise}")
        item.add_marker(marker_name)
        if wanted and exercise not in wanted:
            deselected.append(item)
            continue
        selected.append(item)
        graded.append((item, exercise, points))
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None and not getattr(handle.inner_test, "_grader_wrapped", False):
            handle.inner_test = _wrap_hypothesis_test(handle.inner_test)
    if wanted:
        known = {exercise for _, exercise, _ in graded}
        missing = wanted - known
        if missing:
            raise pytest.UsageError(f"no test grades {', '.join(sorted(missing))}; "
                                    "run `python -m grader` to list the exercises")
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    _skip_cuda_without_gpu(items)
    runnable = [(i, e, p) for i, e, p in graded if not i.get_closest_marker("skip")]
    counts: dict[str, int] = {}
    for _, exercise, _ in runnable:
        counts[exercise] = counts.get(exercise, 0) + 1
    for item, exercise, points in runnable:
        config.grader_results[item.nodeid] = Graded(item.nodeid, exercise, points / counts[exercise])


def _skip_cuda_without_gpu(items):
    cuda_items = [item for item in items if item.get_closest_marker("cuda")]
    if not cuda_items:
        return
    import torch

    if not torch.cuda.is_available():
        for item in cuda_items:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU; none is available here"))


def _chain(error):
    seen = []
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend(getattr(current, "exceptions", ()))
        stack.extend([current.__cause__, current.__context__])
    return seen


def classify(excinfo, when: str) -> tuple[str, str]:
    """(outcome, one-paragraph message) for a test that raised."""
    error = excinfo.value
    for link in _chain(error):
        if isinstance(link, NotImplementedError) and str(link).startswith("Exercise "):
            return "not started", str(link)
    text = str(error)
    if isinstance(error, _TimedOut) or (isinstance(error, pytest.fail.Exception) and text.startswith("Timeout")):
        return "error", f"timed out: {text.splitlines()[0]} (an infinite loop, or far too slow?)"
    if when != "call":
        return "error", text
    assertion_like = (AssertionError, pytest.fail.Exception)
    if isinstance(error, assertion_like) or (
        isinstance(error, BaseExceptionGroup) and all(isinstance(e, assertion_like) for e in error.exceptions)
    ):
        return "failed", text
    return "error", f"{type(error).__name__}: {text}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    record = item.config.grader_results.get(item.nodeid)
    if record is None:
        return report
    if report.failed and call.excinfo is not None:
        outcome, message = classify(call.excinfo, call.when)
        report.grader_outcome = outcome
        if record.outcome in ("not run", "passed"):
            record.outcome = outcome
            record.message = message if outcome == "not started" else (report.longreprtext or message)
        if outcome == "not started":
            report.longrepr = f"not started: {message}"
        if message.startswith("timed out"):
            item.config.grader_timed_out.add(record.exercise)
    elif report.passed and call.when == "call" and record.outcome == "not run":
        record.outcome = "passed"
    elif report.skipped:
        record.outcome = "skipped"
    return report


def pytest_runtest_setup(item):
    record = item.config.grader_results.get(item.nodeid)
    if record is not None and record.exercise in item.config.grader_timed_out:
        pytest.fail(f"not run: an earlier test of {record.exercise} timed out, so this one would too "
                    "(look for an infinite loop)", pytrace=False)


def pytest_report_teststatus(report, config):
    outcome = getattr(report, "grader_outcome", None)
    if outcome == "not started":
        return "not started", "N", ("NOT STARTED", {"yellow": True})
    if outcome == "error":
        return "error", "E", ("ERROR", {"red": True})
    return None


def summarize(results: list[Graded]) -> dict:
    """Counts, points and per-exercise status of a run."""
    counts = {outcome: 0 for outcome in OUTCOMES}
    exercises: dict[str, dict] = {}
    for record in results:
        if record.outcome not in OUTCOMES:
            continue
        counts[record.outcome] += 1
        entry = exercises.setdefault(record.exercise, {"tests": 0, "passed": 0, "score": 0.0, "max_score": 0.0,
                                                       "outcomes": set()})
        entry["tests"] += 1
        entry["max_score"] += record.share
        entry["outcomes"].add(record.outcome)
        if record.outcome == "passed":
            entry["passed"] += 1
            entry["score"] += record.share
    for entry in exercises.values():
        outcomes = entry.pop("outcomes")
        if outcomes == {"passed"}:
            entry["status"] = "done"
        elif outcomes == {"not started"}:
            entry["status"] = "not started"
        elif "error" in outcomes:
            entry["status"] = "error"
        else:
            entry["status"] = "failed"
    score = sum(e["score"] for e in exercises.values())
    max_score = sum(e["max_score"] for e in exercises.values())
    return {"counts": counts, "exercises": exercises, "score": score, "max_score": max_score}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = [r for r in config.grader_results.values() if r.outcome in OUTCOMES]
    if not results:
        return
    summary = summarize(results)
    tr = terminalreporter
    tr.section(f"grading {config.grader_target}", sep="-", bold=True)
    marks = {"done": "✓", "not started": "·", "failed": "✗", "error": "!"}
    for exercise, entry in summary["exercises"].items():
        status = entry["status"]
        tr.write_line(f"  {marks[status]} {exercise:<36} {status:<12} {entry['passed']}/{entry['tests']} tests  "
                      f"{entry['score']:.1f}/{entry['max_score']:.1f} points")
    counts = ", ".join(f"{n} {o}" for o, n in summary["counts"].items() if n)
    tr.write_line(f"  {counts}: {summary['score']:.1f} of {summary['max_score']:.1f} points")
    if summary["counts"]["not started"] or summary["counts"]["failed"] or summary["counts"]["error"]:
        tr.write_line("  Hints: python -m grader hint <exercise id>   Progress: python -m grader")
    path = config.getoption("--results-json")
    if path:
        tr.write_line(f"  results written to {path}")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    path = config.getoption("--results-json")
    if not path:
        return
    results = [r for r in config.grader_results.values() if r.outcome in OUTCOMES]
    summary = summarize(results)
    tests = []
    for record in results:
        message = record.message
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + "\n... (cut)"
        tests.append({
            "name": f"{record.exercise}: {record.nodeid.split('::', 1)[-1]}",
            "score": round(record.share if record.outcome == "passed" else 0.0, 6),
            "max_score": round(record.share, 6),
            "status": "passed" if record.outcome == "passed" else "failed",
            "output": f"{record.outcome}" + (f"\n{message}" if message else ""),
            "tags": [record.exercise],
            "extra_data": {"outcome": record.outcome, "nodeid": record.nodeid},
        })
    data = {
        "score": round(summary["score"], 4),
        "max_score": round(summary["max_score"], 4),
        "execution_time": round(time.time() - config.grader_started, 2),
        "output": ", ".join(f"{n} {o}" for o, n in summary["counts"].items()),
        "tests": tests,
        "extra_data": {"target": config.grader_target, "counts": summary["counts"],
                       "exercises": summary["exercises"]},
    }
    Path(path).write_text(json.dumps(data, indent=2))
