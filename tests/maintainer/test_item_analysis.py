"""What `grade-class` tells an instructor about the class: item_analysis.csv, item_analysis.md, mistakes.png.

One `python -m grader grade-class --chapters ch01` run over ten submissions whose mistakes are known, because
each is the reference with a mutant of tests/mutants applied (grader.mutants.apply): three students share one
mistake, two share another, one makes a third, one left an exercise as its stub, one hands in a file that does
not import, and two are honest. Every count in the item analysis is then known exactly. Chapter 1 alone keeps
it fast (its tests import no torch): the counting does not depend on the chapter.

Run by `python -m grader check` (tests/maintainer); `--unsafe` lets it run where no sandbox is available (it
changes nothing where one is: the submissions are still graded in it).
"""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog, mutants
from grader.catalog import SOLUTIONS, parse_regions
from grader.diagnosis import learner_text

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ["ch01_callbacks"]
pytestmark = pytest.mark.timeout(600)
STATUSES = ["done", "failed", "error", "not started"]


def mutant(exercise: str, why_starts: str) -> mutants.Mutant:
    chapter = next(e.chapter for e in catalog.exercises() if e.id == exercise)
    found = [m for m in mutants.load_mutants(chapter) if m.exercise == exercise and m.why.startswith(why_starts)]
    assert len(found) == 1, f"tests/mutants/{chapter}.py has no single mutant of {exercise} whose why starts {why_starts!r}"
    return found[0]


# The mistakes the class makes, each a mutant of the reference (the diagnosis must recognise it by behaviour).
NO_STOP = mutant("ch01.slow_calculation", "ignores the stop signal")
BEFORE_STEP = mutant("ch01.make_counter", "returns the value before stepping")
APPENDS = mutant("ch01.my_partial", "appends the frozen arguments")
STUBBED = "ch01.call_with_accepted_kwargs"


def solution(chapter: str) -> str:
    return (SOLUTIONS / f"{chapter}.py").read_text()


def with_stub(chapter: str, exercise: str) -> str:
    """The reference with one exercise's regions replaced by its stub line (as `make-exercises` writes it)."""
    path = SOLUTIONS / f"{chapter}.py"
    lines = path.read_text().splitlines(keepends=True)
    for region in sorted((r for r in parse_regions(path, chapter) if r.exercise == exercise), key=lambda r: -r.begin):
        lines[region.begin - 1: region.end] = [region.stub_line + "\n"]
    return "".join(lines)


def applied(m: mutants.Mutant) -> str:
    chapter = next(e.chapter for e in catalog.exercises() if e.id == m.exercise)
    return mutants.apply(m, chapter)


CH01 = solution("ch01_callbacks")
CLASS = {
    "honest_ann": CH01,
    "honest_bo": CH01,
    "no_stop_cy": applied(NO_STOP),
    "no_stop_di": applied(NO_STOP),
    "no_stop_ed": applied(NO_STOP),
    "counter_fa": applied(BEFORE_STEP),
    "counter_gu": applied(BEFORE_STEP),
    "partial_hu": applied(APPENDS),
    "stub_io": with_stub("ch01_callbacks", STUBBED),
    "no_import_jo": CH01 + "\n\nthis_name_is_not_defined_anywhere\n",
}
N = len(CLASS)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("item_analysis")
    submissions, out = base / "submissions", base / "grades"
    for name, source in CLASS.items():
        (submissions / name).mkdir(parents=True)
        (submissions / name / "ch01_callbacks.py").write_text(source)
    completed = subprocess.run([sys.executable, "-m", "grader", "grade-class", str(submissions), "--out", str(out),
                                "--chapters", "ch01", "--jobs", "2", "--unsafe"],
                               cwd=ROOT, capture_output=True, text=True, timeout=500)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return out


def expected_statuses() -> dict[str, dict[str, int]]:
    """Per exercise, how many of the class end in each status, worked out from how the class was built."""
    expected = {}
    for exercise in catalog.exercises(CHAPTERS):
        wrong = {NO_STOP.exercise: 3, BEFORE_STEP.exercise: 2, APPENDS.exercise: 1}.get(exercise.id, 0)
        stub = 1 if exercise.id == STUBBED else 0
        expected[exercise.id] = {"done": N - 1 - wrong - stub, "failed": wrong, "error": 1, "not started": stub}
    return expected


def item_rows(out: Path) -> list[dict]:
    with (out / "item_analysis.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def test_summary_lists_every_student(graded):
    with (graded / "summary.csv").open(newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert set(rows) == set(CLASS)
    full = sum(e.points for e in catalog.exercises(CHAPTERS))
    assert float(rows["honest_ann"]["score"]) == pytest.approx(full) == float(rows["honest_bo"]["score"])
    assert int(rows["no_import_jo"]["error"]) > 0 and int(rows["honest_ann"]["error"]) == 0
    assert int(rows["stub_io"]["not started"]) > 0


def test_item_analysis_counts_each_status_exactly(graded):
    table = {row["exercise"]: row for row in item_rows(graded) if row["kind"] == "exercise"}
    expected = expected_statuses()
    assert list(table) == list(expected), "one row per exercise of the graded chapters, in the catalog's order"
    got = {exercise: {s: int(row[s]) for s in STATUSES} for exercise, row in table.items()}
    wrong = {e: (got[e], expected[e]) for e in expected if got[e] != expected[e]}
    assert not wrong, f"(got, expected) per exercise: {wrong}"
    for exercise, row in table.items():
        assert int(row["students"]) == N
        for status in STATUSES:
            assert float(row[f"{status} %"]) == pytest.approx(round(100 * expected[exercise][status] / N, 1))


def test_item_analysis_counts_each_diagnosed_mistake(graded):
    mistakes = {(row["exercise"], row["mistake"]): int(row["students"]) for row in item_rows(graded)
                if row["kind"] == "mistake"}
    assert mistakes == {
        (NO_STOP.exercise, learner_text(NO_STOP)): 3,
        (BEFORE_STEP.exercise, learner_text(BEFORE_STEP)): 2,
        (APPENDS.exercise, learner_text(APPENDS)): 1,
    }, "each known mistake counted once per student who made it; the stub, the import error and the honest " \
       "students diagnosed with nothing"
    kinds = [row["kind"] for row in item_rows(graded)]
    assert kinds == sorted(kinds, key=["exercise", "mistake"].index)
    counts = [int(row["students"]) for row in item_rows(graded) if row["kind"] == "mistake"]
    assert counts == sorted(counts, reverse=True), "the most common mistake first"


def test_markdown_report_names_the_most_common_mistake(graded):
    text = (graded / "item_analysis.md").read_text()
    assert f"({N} students)" in text.splitlines()[0]
    bullets = [line for line in text.splitlines() if line.startswith("- **")]
    assert bullets and bullets[0] == f"- **3 of {N}** in `{NO_STOP.exercise}`: {learner_text(NO_STOP)}", bullets
    assert f"- **2 of {N}** in `{BEFORE_STEP.exercise}`: {learner_text(BEFORE_STEP)}" in bullets
    assert "mistakes.png" in text
    expected = expected_statuses()
    first = expected[NO_STOP.exercise]
    assert (f"| `{NO_STOP.exercise}` | {first['done']} | {first['failed']} | {first['error']} | "
            f"{first['not started']} |") in text


def test_mistakes_chart_is_a_png(graded):
    chart = graded / "mistakes.png"
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, "a chart with bars, not an empty figure"
