"""The pytest plugin behind the autograder (DESIGN section 3).

- `--target=exercises|solutions|PATH` (or GRADER_TARGET) picks the chapter modules the tests observe;
- the `probe` fixture runs a test's observer on them (grader/probe.py): in this process, or with `--secure`
  in a sandboxed worker per chapter (grader/worker.py, grader/sandbox.py), so that the learner's code never
  runs where the verdict is decided;
- `@pytest.mark.exercise("ch05.LRFinder", points=2)` ties each test to an exercise;
- every test ends *passed*, *not started*, *failed* or *error*, counted separately;
- `--exercise=ID` grades one exercise; `--results-json=FILE` writes Gradescope's results.json.
"""
from __future__ import annotations

import functools
import json
import os
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import probe as probes
from .catalog import SOLUTIONS
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
    gated: str = ""  # "written by hand" or "a property": a test that counts only once the exercise gives right answers
    blocked_by: str | None = None  # another exercise of the chapter whose stub stopped this test
    probes: probes.ProbeLog | None = None  # what the test observed, for the diagnosis


def is_stub_error(error: BaseException) -> bool:
    """A stub's NotImplementedError("Exercise ..."), here or anywhere in its chain of causes."""
    return any(isinstance(link, NotImplementedError) and str(link).startswith("Exercise ") for link in _chain(error))


def pytest_addoption(parser):
    group = parser.getgroup("grader", "autograder")
    group.addoption("--target", default=None,
                    help="what to grade: 'exercises' (default), 'solutions' or a folder holding chNN_*.py files "
                         "(environment variable GRADER_TARGET does the same)")
    group.addoption("--exercise", action="append", default=[], metavar="ID",
                    help="grade only this exercise, e.g. --exercise ch05.LRFinder (may be repeated)")
    group.addoption("--results-json", default=None, metavar="FILE",
                    help="write the results in Gradescope's results.json format")
    group.addoption("--secure", action="store_true", default=False,
                    help="class grading: run the target's code only in a sandboxed worker per chapter, never in "
                         "this process (see instructors/README.md)")
    group.addoption("--no-diagnosis", action="store_true", default=False,
                    help="do not compare failing exercises with the known mistakes (tests/mutants)")
    group.addoption("--unsafe", action="store_true", default=False,
                    help="with --secure on a machine that offers no sandbox: run the workers without one")


def one_cpu_thread() -> None:
    """The tests compute on small tensors, where a second CPU thread only waits for the first: on a busy
    two-core machine a 3-layer CNN's forward pass took 60 ms with two threads and 2.5 ms with one. One thread,
    unless the user chose (OMP_NUM_THREADS); set before torch starts its pool, or on it if it already has."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    os.environ["OMP_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def pytest_configure(config):
    one_cpu_thread()
    config.grader_target = config.getoption("--target") or default_target()
    config.grader_results = {}
    config.grader_modules = {}
    config.grader_runners = {}
    config.grader_pool = None
    if config.getoption("--secure", default=False):
        from .worker import Pool

        try:
            config.grader_pool = Pool(config.grader_target, unsafe=config.getoption("--unsafe"))
        except (SystemExit, ChapterImportError) as refusal:
            raise pytest.UsageError(str(refusal)) from None
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
        __tracebackhide__ = True
        asker = kwargs.get("probe")
        if asker is not None:
            asker.log.new_example()
        try:
            return inner_test(*args, **kwargs)
        except probes.ExerciseNotStarted as error:
            raise _NotStarted(str(error)) from error
        except probes.ExerciseTimedOut as error:
            raise _TimedOut(str(error)) from None
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


def _chapter_module(request):
    """The chapter module under test, loaded from the grading target into this process."""
    chapter = chapter_of(request.node)
    if chapter is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the chapter fixtures only work in tests/test_chNN_topic.py")
    if request.config.getoption("--secure"):
        raise pytest.UsageError(f"{request.node.nodeid} uses the `ch` fixture, which runs the learner's code in the "
                                "grading process; with --secure every test must observe it through `probe`")
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


@pytest.fixture
def ch(request):
    """The chapter module under test, in this process (self-study only; tests observe it through `probe`)."""
    return _chapter_module(request)


class _Asker:
    """The `probe` fixture's value: `probe(observer, *args, **kwargs)` returns the observation;
    `probe.references(exercise, names)` reads the learner's source for "written by hand" rules."""

    def __init__(self, runner, log: probes.ProbeLog, budget: float, source_path: Path | None, chapter: str):
        self.runner, self.log = runner, log
        self.ends = time.monotonic() + budget  # the test's time limit: no probe may outlast it
        self.source_path, self.chapter = source_path, chapter

    def references(self, exercise: str, names) -> list[str]:
        """Where the learner's file refers to `names` or looks functions up dynamically (grader.testing);
        the file is read as text here, never run."""
        from . import catalog
        from .testing import oracle_references

        if self.source_path is None or not self.source_path.is_file():
            return []
        exercises = {e.name for e in catalog.exercises([self.chapter])}
        return oracle_references(self.source_path.read_text(errors="replace"), exercise, set(names), exercises)

    def __call__(self, observer, *args, **kwargs):
        __tracebackhide__ = True
        return probes.call(self.runner, observer, args, kwargs, self.log,
                           timeout=max(0.5, self.ends - time.monotonic()))

    def __getattr__(self, name: str):
        """`probe.variance(x, dim=0)`: the generic observer, for an exercise that takes and returns plain data."""
        if name.startswith("_"):
            raise AttributeError(name)

        def ask(*args, **kwargs):
            __tracebackhide__ = True
            return self(probes.calling, name, *args, **kwargs)

        ask.__name__ = name
        return ask


def _time_limit(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(item.config.getini("timeout") or 0) or 600.0
    except (ValueError, KeyError):
        return 10.0


@pytest.fixture
def probe(request):
    """`probe(observer, *args, **kwargs)`: `observer(ch, *args, **kwargs)` run where the learner's code runs
    (this process, or a sandboxed worker with --secure), returned as plain data (grader/probe.py)."""
    config = request.config
    chapter = chapter_of(request.node)
    if chapter is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the `probe` fixture only works in tests/test_chNN_topic.py")
    if config.getoption("--secure"):
        runner = config.grader_pool.runner(chapter)
    else:
        runners = config.grader_runners
        if chapter not in runners:
            runners[chapter] = probes.InProcess(_chapter_module(request))
        runner = runners[chapter]
    log = probes.ProbeLog()
    record = config.grader_results.get(request.node.nodeid)
    if record is not None:
        record.probes = log
    folder = target_dir(config.grader_target)
    source = (folder if folder is not None else SOLUTIONS) / f"{chapter}.py"
    return _Asker(runner, log, _time_limit(request.node), source, chapter)


def pytest_unconfigure(config):
    pool = getattr(config, "grader_pool", None)
    if pool is not None:
        pool.close()


def _exercise_marker(item):
    marker = item.get_closest_marker("exercise")
    if marker is None:
        return None
    if not marker.args or not isinstance(marker.args[0], str):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.exercise needs the exercise id, e.g. 'ch01.make_counter'")
    gated = "written by hand" if marker.kwargs.get("handwritten") else "a property" if marker.kwargs.get("gated") else ""
    return marker.args[0], float(marker.kwargs.get("points", 1)), gated


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    try:
        target_dir(config.grader_target)
    except ChapterImportError as error:
        raise pytest.UsageError(str(error)) from None
    wanted = _resolve_exercises(config.getoption("--exercise"))
    graded, selected, deselected = [], [], []
    for item in items:
        found = _exercise_marker(item)
        if found is None:
            if chapter_of(item) is not None:
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.exercise(...): every graded test names its exercise")
            selected.append(item)
            continue
        exercise, points, gated = found
        # `pytest -m ch05_LRFinder` selects one exercise, like --exercise ch05.LRFinder.
        marker_name = exercise.replace(".", "_")
        config.addinivalue_line("markers", f"{marker_name}: the tests of exercise {exercise}")
        item.add_marker(marker_name)
        if wanted and exercise not in wanted:
            deselected.append(item)
            continue
        selected.append(item)
        graded.append((item, exercise, points, gated))
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None and not getattr(handle.inner_test, "_grader_wrapped", False):
            handle.inner_test = _wrap_hypothesis_test(handle.inner_test)
    if wanted:
        known = {exercise for _, exercise, _, _ in graded}
        missing = wanted - known
        if missing:
            from . import catalog

            chapters = {e.id: e.chapter for e in catalog.exercises()}
            hints = [f"{m} is graded by tests/test_{chapters[m]}.py, which this run does not include: "
                     f"pytest tests/test_{chapters[m]}.py --exercise {m}" for m in sorted(missing)]
            raise pytest.UsageError("; ".join(hints))
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    _skip_cuda_without_gpu(items)
    runnable = [(i, e, p, h) for i, e, p, h in graded if not i.get_closest_marker("skip")]
    counts: dict[str, int] = {}
    for _, exercise, _, _ in runnable:
        counts[exercise] = counts.get(exercise, 0) + 1
    for item, exercise, points, gated in runnable:
        config.grader_results[item.nodeid] = Graded(item.nodeid, exercise, points / counts[exercise],
                                                    gated=gated)


def _resolve_exercises(specs: list[str]) -> set[str]:
    """The exercise ids `--exercise` names, spelled as `python -m grader hint` accepts them."""
    if not specs:
        return set()
    from . import catalog

    every = catalog.exercises()
    resolved = set()
    for spec in specs:
        try:
            resolved.add(catalog.find(spec, every).id)
        except catalog.CatalogError as error:
            raise pytest.UsageError(f"--exercise {spec}: {error}") from None
    return resolved


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
        if isinstance(link, probes.ExerciseNotStarted):
            return "not started", link.message
        if isinstance(link, NotImplementedError) and str(link).startswith("Exercise "):
            return "not started", str(link)
    text = str(error)
    timed_out = next((link for link in _chain(error) if isinstance(link, probes.ExerciseTimedOut)), None)
    if timed_out is not None:
        return "error", f"timed out{' at ' + timed_out.where if timed_out.where else ''}: {timed_out.message}"
    if isinstance(error, _TimedOut) or (isinstance(error, pytest.fail.Exception) and text.startswith("Timeout")):
        where = _learner_line(excinfo)
        return "error", (f"timed out{' at ' + where if where else ''}: {text.splitlines()[0]} "
                         "(an infinite loop, or far too slow?)")
    raised = next((link for link in _chain(error) if isinstance(link, probes.ExerciseRaised)), None)
    if raised is not None:
        return "error", str(raised)
    if when != "call":
        return "error", text
    assertion_like = (AssertionError, pytest.fail.Exception)
    if isinstance(error, assertion_like) or (
        isinstance(error, BaseExceptionGroup) and all(isinstance(e, assertion_like) for e in error.exceptions)
    ):
        return "failed", text
    if isinstance(error, probes.ObservationError):
        return "error", f"ObservationError: {text}"
    # The learner's code did not raise (that would be ExerciseRaised): the test's own code could not read what
    # it returned (an empty list where events were due, a missing key). The answer is wrong, not crashed.
    return "failed", f"what your code returned could not be checked ({type(error).__name__}: {text})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    record = item.config.grader_results.get(item.nodeid)
    if record is None:
        return report
    if report.failed and call.excinfo is not None:
        outcome, message = classify(call.excinfo, call.when)
        blocker = _blocked_by(message, record.exercise) if outcome == "not started" else None
        if blocker:
            message = f"blocked by {blocker} (not started): its tests need {blocker}, which is still a stub. {message}"
        report.grader_outcome = outcome
        if record.outcome in ("not run", "passed"):
            record.outcome = outcome
            record.blocked_by = blocker
            # A timeout's message names the learner's line where the loop was: pytest-timeout's own is less use.
            record.message = message if outcome == "not started" or message.startswith("timed out") else \
                learner_message(call.excinfo, message, report.longreprtext)
        if outcome == "not started":
            report.longrepr = f"not started: {message}"
        elif record.message:
            report.longrepr = record.message
        if message.startswith("timed out"):
            item.config.grader_timed_out.add(record.exercise)
    elif report.passed and call.when == "call" and record.outcome == "not run":
        record.outcome = "passed"
    elif report.skipped:
        # Only the grading process's own code can skip (a CUDA test without a GPU); a skip it did not plan is an error.
        planned = item.get_closest_marker("skip") or item.get_closest_marker("cuda")
        record.outcome = "skipped" if planned else "error"
        record.message = "" if planned else f"the test was skipped: {report.longreprtext[-300:]}"
    return report


STUB_ID_RE = re.compile(r"Exercise (ch\d\d\.[A-Za-z_][A-Za-z0-9_]*):")
FIXTURE_REPR_RE = re.compile(r"^\s*(probe|ch|capfd|capsys|monkeypatch|request|tmp_path)=<.*>,?\s*$")
GRADER_FRAME_RE = re.compile(r"^(\S*/)?grader/\w+\.py:\d+: in ")
WHERE_BUILTIN_RE = re.compile(r"^\s*E?\s*\+\s+(where|and)\b.*( at 0x[0-9a-f]+|<(built-in|bound) method)")


def _blocked_by(message: str, exercise: str) -> str | None:
    """The exercise whose stub stopped this test, when it is another exercise than the one graded."""
    match = STUB_ID_RE.search(message)
    if match and match.group(1) != exercise:
        return match.group(1)
    return None


def learner_message(excinfo, message: str, longrepr: str) -> str:
    """What a learner reads first: the assertion's message (what was called, expected and got) or the error the
    code raised, then the test's line, then the rest of pytest's report without the grader's frames,
    hypothesis's fixture reprs and pytest's `+ where <built-in method ...>` lines."""
    error = excinfo.value
    raised = next((link for link in _chain(error) if isinstance(link, probes.ExerciseRaised)), None)
    if raised is not None:
        head = str(raised)
        if raised.detail:
            head += "\n" + raised.detail.strip()[-800:]
    else:
        text = str(error).strip()
        lines = [line for line in text.splitlines() if not WHERE_BUILTIN_RE.match(line)]
        head = "\n".join(lines) if lines else message
    example = [note for note in getattr(error, "__notes__", []) if note.startswith("Falsifying example")]
    if example:
        kept = [line for line in example[0].splitlines() if not FIXTURE_REPR_RE.match(line)]
        head += "\n" + "\n".join(kept)
    where = ""
    for entry in excinfo.traceback:
        path = str(entry.path)
        if "/tests/" in path and Path(path).name.startswith("test_ch") and entry.name.startswith("test_"):
            where = f"{Path(path).relative_to(Path(path).parents[1])}:{entry.lineno + 1}"
    if len(head) > MESSAGE_LIMIT:
        head = head[:MESSAGE_LIMIT] + " ... (cut)"
    # pytest's report without what the head already says (its E lines, or the same words), without the
    # grader's own frames (a `grader/x.py:N: in f` line and the source lines under it) and without addresses.
    said = {line.strip() for line in head.splitlines() if line.strip()}
    rest, in_grader_frame = [], False
    for line in longrepr.splitlines():
        if GRADER_FRAME_RE.match(line):
            in_grader_frame = True
            continue
        if in_grader_frame and line.startswith((" ", "\t")):
            continue
        in_grader_frame = False
        if line.startswith("E ") or line.strip() == "E" or FIXTURE_REPR_RE.match(line) or \
                WHERE_BUILTIN_RE.match(line) or line.strip() in said:
            continue
        rest.append(line)
    while rest and not rest[-1].strip():
        rest.pop()
    return head + (f"\n(test: {where})" if where else "") + ("\n\n" + "\n".join(rest) if rest else "")


def _learner_line(excinfo) -> str:
    """`file:line` of the innermost frame in a graded chapter's file (where a timed-out loop was)."""
    where = ""
    for link in _chain(excinfo.value):
        tb = link.__traceback__
        while tb is not None:
            name = Path(tb.tb_frame.f_code.co_filename).name
            if TEST_FILE_RE.match("test_" + name) and "/tests/" not in tb.tb_frame.f_code.co_filename:
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
            tb = tb.tb_next
    return where


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


GATED_WHY = {"written by hand": "this rule (written by hand, without the built-in)",
             "a property": "this property, which some wrong answers have too (an answer that is always 0, say),"}


def gate_handwritten(results: list[Graded]) -> None:
    """A gated test passes only once its exercise's other tests all pass: code that does not call the oracle
    (a "written by hand" rule), or that has a property a wrong answer has too (a variance that is always 0 is 0 for
    one value, and scales as it should), earns nothing by that alone."""
    by_exercise: dict[str, list[Graded]] = {}
    for record in results:
        by_exercise.setdefault(record.exercise, []).append(record)
    for records in by_exercise.values():
        others = [r for r in records if not r.gated]
        if all(r.outcome == "passed" for r in others):
            continue
        blocked = "not started" if all(r.outcome == "not started" for r in others) else "failed"
        for record in records:
            if record.gated and record.outcome == "passed":
                record.outcome = blocked
                record.message = "not counted yet: " + GATED_WHY[record.gated] + " counts once the exercise's other tests pass"


def diagnoses(config) -> dict:
    """The known mistakes the failing exercises behave like (grader/diagnosis.py), computed once per run."""
    cached = getattr(config, "grader_diagnoses", None)
    if cached is not None:
        return cached
    found = {}
    if not config.getoption("--no-diagnosis"):
        results = [r for r in config.grader_results.values() if r.outcome in OUTCOMES]
        gate_handwritten(results)
        try:
            from .diagnosis import diagnose_run

            found = diagnose_run(results)
        except Exception as error:  # noqa: BLE001 - a diagnosis must never cost a grade
            config.grader_diagnosis_error = f"{type(error).__name__}: {error}"
    config.grader_diagnoses = found
    return found


def summarize(results: list[Graded], found: dict | None = None) -> dict:
    """Counts, points and per-exercise status of a run (with its diagnoses, when given)."""
    gate_handwritten(results)
    counts = {outcome: 0 for outcome in OUTCOMES}
    exercises: dict[str, dict] = {}
    for record in results:
        if record.outcome not in OUTCOMES:
            continue
        counts[record.outcome] += 1
        entry = exercises.setdefault(record.exercise, {"tests": 0, "passed": 0, "score": 0.0, "max_score": 0.0,
                                                       "outcomes": set(), "blockers": set()})
        if record.blocked_by:
            entry["blockers"].add(record.blocked_by)
        entry["tests"] += 1
        entry["max_score"] += record.share
        entry["outcomes"].add(record.outcome)
        if record.outcome == "passed":
            entry["passed"] += 1
            entry["score"] += record.share
    for exercise, entry in exercises.items():
        if found and exercise in found:
            entry["diagnosis"] = found[exercise].as_dict()
        outcomes, blockers = entry.pop("outcomes"), entry.pop("blockers")
        if outcomes == {"passed"}:
            entry["status"] = "done"
        elif outcomes == {"not started"}:
            entry["status"] = "not started"
            if blockers:
                entry["blocked_by"] = sorted(blockers)[0]
        elif "error" in outcomes:
            entry["status"] = "error"
        else:
            entry["status"] = "failed"
        entry["score"], entry["max_score"] = round(entry["score"], 4), round(entry["max_score"], 4)
    score = round(sum(e["score"] for e in exercises.values()), 4)
    max_score = round(sum(e["max_score"] for e in exercises.values()), 4)
    return {"counts": counts, "exercises": exercises, "score": score, "max_score": max_score}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = [r for r in config.grader_results.values() if r.outcome in OUTCOMES]
    if not results:
        return
    summary = summarize(results, diagnoses(config))
    tr = terminalreporter
    tr.section(f"grading {config.grader_target}", sep="-", bold=True)
    marks = {"done": "✓", "not started": "·", "failed": "✗", "error": "!"}
    for exercise, entry in summary["exercises"].items():
        status = entry["status"]
        shown = f"blocked by {entry['blocked_by']}" if entry.get("blocked_by") else status
        tr.write_line(f"  {marks[status]} {exercise:<36} {shown:<12} {entry['passed']}/{entry['tests']} tests  "
                      f"{entry['score']:.1f}/{entry['max_score']:.1f} points")
        if "diagnosis" in entry:
            for line in textwrap.wrap(entry["diagnosis"]["text"], 100):
                tr.write_line(f"      {line}")
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
    found = diagnoses(config)
    summary = summarize(results, found)
    tests = []
    for record in results:
        message = record.message
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + "\n... (cut)"
        if record.exercise in found and record.outcome in ("failed", "error"):
            message = found[record.exercise].text() + "\n\n" + message
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
