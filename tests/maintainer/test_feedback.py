"""What a learner reads when something is wrong: the promises of the feedback, checked on submissions whose
mistakes are known.

- a failure's excerpt (`grader.check`, the "Next:" block of `python -m grader`, results.json, pytest's report)
  starts with the assertion's message, carries none of the grader's frames or hypothesis's fixture reprs or
  pytest's `+ where <built-in method ...>` lines, and a huge value in it is cut;
- an exercise whose tests stop at another exercise's stub is "blocked by" that exercise, everywhere;
- broken code earns nothing: not through a "written by hand" rule, not through a property a constant has;
- an infinite loop is a timeout at the learner's line, and the rest of the chapter is still graded;
- the command line: usage errors, --help, exercise ids spelled the same way in `hint`, `--exercise` and `check`;
- scores are rounded, and a student whose every test errored is not "graded".

Run by `python -m grader check` (tests/maintainer); each submission is graded once per module, in a subprocess.
"""
import ast
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog, mutants, stubs
from grader.__main__ import main as grader_main
from grader.catalog import SOLUTIONS, CatalogError, parse_regions
from grader.notebook import check
from grader.plugin import MESSAGE_LIMIT

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)
HUGE = 20_000  # numbers in the list a wrong predict_single_label returns (about 150 kB of repr)


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})


def solved_only(chapter: str, solved: set[str], edits=()) -> str:
    """The chapter as a learner would have it: every exercise a stub except `solved` (the reference's code),
    then each `(old, new)` edit applied to that code."""
    path = SOLUTIONS / f"{chapter}.py"
    lines = path.read_text().splitlines(keepends=True)
    for region in sorted(parse_regions(path, chapter), key=lambda r: -r.begin):
        if region.exercise not in solved:
            lines[region.begin - 1: region.end] = [region.stub_line + "\n"]
    text = "".join(lines)
    for old, new in edits:
        assert text.count(old) == 1, f"solutions/{chapter}.py changed: {old!r} is not there once"
        text = text.replace(old, new)
    return text


ZERO = "    return x.sum(dim, keepdim=keepdim) * 0\n"  # the right shape and dtype, always 0
CH03_EDITS = [
    ("    deviations = x - x.mean(dim, keepdim=True)\n    n = count_along(x, dim)\n"
     "    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)\n", ZERO),  # variance
    ("    mean = x.mean(dim, keepdim=keepdim)\n    return (x * x).mean(dim, keepdim=keepdim) - mean * mean\n",
     ZERO),  # variance_one_pass
    ("    deviations = x - x.mean(dim, keepdim=True)\n    return deviations.abs().mean(dim, keepdim=keepdim)\n",
     ZERO),  # mean_abs_dev
]
CH04_EDITS = [
    ("    shifted = x - x.amax(dim=dim, keepdim=True)\n"
     "    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()\n",
     "    raise ValueError('my log_softmax is broken')\n"),
    ("    confidences, classes = softmax(logits, dim=-1).max(dim=-1)\n    return classes, confidences\n",
     f"    return [float(i) for i in range({HUGE})]\n"),
    ("    return torch.sigmoid(logits) > torch.as_tensor(threshold, dtype=logits.dtype, device=logits.device)\n",
     "    return torch.sigmoid(logits) > float(torch.as_tensor(threshold).float().mean())\n"),  # per-class ignored
]


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """A learner's exercises/: fresh stubs, with these exercises filled in (wrongly but for LRFinder):
    ch03 variance, variance_one_pass and mean_abs_dev always 0; ch04 log_softmax always raises,
    predict_single_label returns a huge list, predict_multi_label ignores per-class thresholds; ch05 LRFinder
    right, but Runner (which its tests need) still a stub."""
    folder = tmp_path_factory.mktemp("learner") / "exercises"
    stubs.generate(folder)
    (folder / "ch03_statistics.py").write_text(solved_only(
        "ch03_statistics", {"ch03.variance", "ch03.variance_one_pass", "ch03.mean_abs_dev"}, CH03_EDITS))
    (folder / "ch04_softmax.py").write_text(solved_only(
        "ch04_softmax", {"ch04.log_softmax", "ch04.predict_single_label", "ch04.predict_multi_label"}, CH04_EDITS))
    (folder / "ch05_learner.py").write_text(solved_only("ch05_learner", {"ch05.LRFinder"}))
    return folder


@pytest.fixture(scope="module")
def graded(learner, tmp_path_factory):
    """`pytest` on chapters 3 to 5 of the learner, with --results-json: (terminal output, results)."""
    results = tmp_path_factory.mktemp("results") / "results.json"
    completed = run("-m", "pytest", "tests/test_ch03_statistics.py", "tests/test_ch04_softmax.py",
                    "tests/test_ch05_learner.py", f"--target={learner}", f"--results-json={results}", "-q",
                    "-p", "no:cacheprovider")
    assert results.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout + completed.stderr, json.loads(results.read_text())


@pytest.fixture(scope="module")
def progress(learner):
    """`python -m grader -v`, with the learner's folder given by GRADER_TARGET."""
    completed = run("-m", "grader", "-v", env={"GRADER_TARGET": str(learner)})
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


@pytest.fixture(scope="module")
def notebook_ch04(learner):
    """What `from grader import check; check("ch04")` prints in the learner's notebook (GRADER_TARGET set)."""
    completed = run("-c", "from grader import check; check('ch04')", env={"GRADER_TARGET": str(learner)})
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


# --- a. the excerpt starts with the message, without the grader's noise ------------------------------

NOISE = {
    "a frame of grader/plugin.py": re.compile(r"grader/plugin\.py"),
    "a fixture repr from hypothesis's falsifying example": re.compile(
        r"\b(probe|ch|capfd|capsys|monkeypatch|request|tmp_path)=<"),
    "the repr of the graded module": re.compile(r"<module '_graded_"),
    "a `+ where <built-in method ...>` line": re.compile(r"^\s*E?\s*\+\s+(where|and)\b.*<(built-in|bound) method", re.M),
    "a memory address": re.compile(r" at 0x[0-9a-f]{6,}"),
    "a Python traceback header": re.compile(r"Traceback \(most recent call last\)"),
    "the grader's internal timeout exception": re.compile(r"_TimedOut"),
}
GRADER_FRAME = re.compile(r"(^|\s)grader/\w+\.py:\d+: in \w+", re.M)


def noise(text: str) -> list[str]:
    return [what for what, pattern in NOISE.items() if pattern.search(text)]


def failing_outputs(data: dict) -> dict[str, str]:
    return {t["name"]: t["output"] for t in data["tests"] if t["extra_data"]["outcome"] in ("failed", "error")}


def next_block(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Next: "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("  edit "))
    return lines[start:end]


def verdict(output: str, exercise: str) -> list[str]:
    """The lines `check` printed for one exercise: its mark line, then everything up to the next mark line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^[✓·✗] {re.escape(exercise)}:", line))
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^[✓·✗] ch\d\d\.", lines[i])), len(lines))
    return lines[start:end]


def excerpt(block: list[str]) -> list[str]:
    """The failure's lines of a verdict (indented four spaces; the diagnosis and the commands are two)."""
    return [line[4:] for line in block[1:] if line.startswith("    ")]


def test_next_block_starts_with_the_assertion_message(progress):
    block = next_block(progress)
    assert block[0] == "Next: ch03.variance has a failing test", block[0]
    first = next((i for i, line in enumerate(block) if line.startswith("  variance(")), None)
    assert first is not None, "the excerpt says what was called:\n" + "\n".join(block)
    assert not any(".py:" in line or "Traceback" in line for line in block[:first]), \
        "only the diagnosis may come before the message:\n" + "\n".join(block)
    message = " ".join(block[first:first + 3])
    assert "expected" in message and "got" in message, message
    assert not noise("\n".join(block)), (noise("\n".join(block)), block)
    assert not GRADER_FRAME.search("\n".join(block)), "\n".join(block)


def test_notebook_check_starts_with_the_assertion_message(notebook_ch04):
    block = verdict(notebook_ch04, "ch04.predict_multi_label")
    assert block[0] == "✗ ch04.predict_multi_label: failed", block
    lines = excerpt(block)
    assert lines and lines[0].startswith("predict_multi_label(logits, threshold=tensor("), block
    assert not noise("\n".join(block)), (noise("\n".join(block)), block)
    assert any("Full report: pytest tests/test_ch04_softmax.py --exercise ch04.predict_multi_label" in line
               for line in block)


def test_notebook_check_cuts_a_huge_value(notebook_ch04):
    block = verdict(notebook_ch04, "ch04.predict_single_label")
    lines = excerpt(block)
    assert lines and lines[0].startswith("predict_single_label(logits)"), block[:3]
    text = "\n".join(block)
    assert len(text) < MESSAGE_LIMIT + 1000, f"the verdict is {len(text)} characters: a {HUGE}-number list is not cut"
    assert "cut" in text or "..." in text, "the reader is told the value was cut"


def test_notebook_check_of_a_crash_shows_where_it_raised_and_no_grader_frames(notebook_ch04, learner):
    block = verdict(notebook_ch04, "ch04.log_softmax")
    assert block[0] == "✗ ch04.log_softmax: error (it crashed)", block
    lines = excerpt(block)
    assert lines[0].startswith(f"your code raised ValueError at {learner / 'ch04_softmax.py'}:"), lines[0]
    assert "my log_softmax is broken" in lines[0]
    assert not noise("\n".join(block)), (noise("\n".join(block)), block)
    assert not GRADER_FRAME.search("\n".join(block)), \
        "the excerpt shows the grader's own frames (grader/probe.py ...), not the learner's:\n" + "\n".join(block)


def test_results_json_outputs_start_with_the_message_and_carry_no_noise(graded):
    _, data = graded
    outputs = failing_outputs(data)
    assert outputs, "the learner's mistakes fail tests"
    for name, output in outputs.items():
        outcome, _, rest = output.partition("\n")
        assert outcome in ("failed", "error"), output[:200]
        assert not noise(output), (name, noise(output), output[:3000])
        assert not rest.startswith(("tests/", "grader/", "  File", "Traceback")), (name, rest[:300])
        assert len(output) <= MESSAGE_LIMIT + 1500, f"{name}: {len(output)} characters"
    variance = [o for n, o in outputs.items() if n.startswith("ch03.variance: test_variance_matches")]
    assert variance and variance[0].split("\n")[1].startswith("variance(x of shape"), variance
    per_class = outputs["ch04.predict_multi_label: test_predict_multi_label_per_class_thresholds"]
    assert per_class.split("\n")[1].startswith("predict_multi_label(logits, threshold=tensor("), per_class
    huge = outputs["ch04.predict_single_label: test_predict_single_label_cannot_see_a_constant_shift"]
    assert huge.endswith("... (cut)"), huge[-200:]


def test_results_json_outputs_carry_no_grader_frames(graded):
    _, data = graded
    framed = {name: GRADER_FRAME.search(output).group(0).strip() for name, output in failing_outputs(data).items()
              if GRADER_FRAME.search(output)}
    assert not framed, f"results.json shows the grader's own frames to the learner: {framed}"


def test_pytest_report_carries_no_noise(graded):
    terminal, _ = graded
    assert not noise(terminal), noise(terminal)
    assert "variance(x of shape" in terminal


def test_pytest_report_cuts_a_huge_value(graded):
    terminal, _ = graded
    longest = max(terminal.splitlines(), key=len)
    assert len(terminal) < 200_000 and len(longest) < MESSAGE_LIMIT + 1000, (
        f"pytest printed {len(terminal)} characters, one line of {len(longest)}: the {HUGE}-number list a wrong "
        f"predict_single_label returned is printed whole: {longest[:150]}...")


# --- b. blocked by another exercise's stub -----------------------------------------------------------

def test_blocked_exercise_in_pytest_summary_and_results_json(graded):
    terminal, data = graded
    assert re.search(r"· ch05\.LRFinder\s+blocked by ch05\.Runner\b", terminal), \
        [line for line in terminal.splitlines() if "LRFinder" in line]
    entry = data["extra_data"]["exercises"]["ch05.LRFinder"]
    assert entry["status"] == "not started" and entry["blocked_by"] == "ch05.Runner" and entry["score"] == 0, entry
    outputs = [t["output"] for t in data["tests"] if t["tags"] == ["ch05.LRFinder"]]
    assert outputs and all("blocked by ch05.Runner (not started)" in o for o in outputs), outputs[:1]


def test_blocked_exercise_in_progress(progress):
    rows = [line for line in progress.splitlines() if re.match(r"^\s+\S ch05\.LRFinder\b", line)]
    assert rows and "blocked by ch05.Runner" in rows[0], (
        f"the progress table shows LRFinder as {rows!r}; its tests stopped at ch05.Runner's stub")


# --- c. no points for broken code --------------------------------------------------------------------

def exercise_score(data, exercise):
    return data["extra_data"]["exercises"][exercise]["score"]


def test_crashing_code_and_handwritten_rules_alone_earn_nothing(graded):
    _, data = graded
    assert exercise_score(data, "ch04.log_softmax") == 0, "log_softmax raises on every input"
    assert data["extra_data"]["exercises"]["ch04.log_softmax"]["status"] == "error"
    assert exercise_score(data, "ch03.variance_one_pass") == 0, "variance_one_pass always returns 0"
    handwritten = [t for t in data["tests"] if t["name"].endswith("_is_written_by_hand")
                   and t["tags"][0] in ("ch04.log_softmax", "ch03.variance_one_pass", "ch03.variance")]
    assert len(handwritten) == 3 and all(t["score"] == 0 and t["status"] == "failed" for t in handwritten), handwritten


@pytest.mark.parametrize("exercise", ["ch03.variance", "ch03.mean_abs_dev"])
def test_an_answer_that_is_always_zero_earns_nothing(graded, exercise):
    _, data = graded
    passed = [t["name"] for t in data["tests"] if t["tags"] == [exercise] and t["extra_data"]["outcome"] == "passed"]
    assert exercise_score(data, exercise) == 0, (
        f"{exercise} returns 0 for every input and scores {exercise_score(data, exercise)}: these tests pass for a "
        f"constant 0: {passed}")


# --- d. an infinite loop -----------------------------------------------------------------------------

LOOP = ("    res = 0\n    for i in range(steps):", "    res = 0\n    while True:\n        pass\n    for i in range(steps):")


@pytest.fixture(scope="module")
def looping(tmp_path_factory):
    """Chapter 1 solved, but slow_calculation loops forever: (folder, loop lines, terminal, results)."""
    folder = tmp_path_factory.mktemp("looping")
    source = (SOLUTIONS / "ch01_callbacks.py").read_text()
    assert source.count(LOOP[0]) == 1
    source = source.replace(*LOOP)
    (folder / "ch01_callbacks.py").write_text(source)
    lines = {n for n, text in enumerate(source.splitlines(), 1) if text in ("    while True:", "        pass")}
    results = folder / "results.json"
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", f"--target={folder}", f"--results-json={results}",
                    "-q", "-p", "no:cacheprovider", "-o", "timeout=3")
    return folder, lines, completed.stdout + completed.stderr, json.loads(results.read_text())


def test_a_timeout_names_the_learners_file_and_line(looping):
    folder, lines, terminal, data = looping
    first = next(t for t in data["tests"] if t["tags"] == ["ch01.slow_calculation"])
    assert first["extra_data"]["outcome"] == "error"
    places = [f"{folder / 'ch01_callbacks.py'}:{n}" for n in sorted(lines)]
    for where, text in (("results.json", first["output"]), ("pytest's report", terminal)):
        assert "_TimedOut" not in text, where
        assert "timed out" in text and any(place in text for place in places), (
            f"{where} does not say the test timed out at {' or '.join(places)}: {text[:400]!r}")


def test_a_timeout_leaves_the_rest_of_the_chapter_graded(looping):
    _, _, terminal, data = looping
    exercises = data["extra_data"]["exercises"]
    assert exercises["ch01.slow_calculation"]["status"] == "error"
    others = {e: entry["status"] for e, entry in exercises.items() if e != "ch01.slow_calculation"}
    assert others and set(others.values()) == {"done"}, others
    assert set(exercises) == {e.id for e in catalog.exercises(["ch01_callbacks"])}


# --- e. the command line -----------------------------------------------------------------------------

SPELLINGS = ["ch03.variance", "CH03.Variance", "ch3.variance", "3.variance", "03.variance",
             "ch03_statistics.variance", "variance"]


def test_hint_without_an_id_prints_its_usage():
    completed = run("-m", "grader", "hint")
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "usage: python -m grader hint ID" in completed.stderr, completed.stderr


def test_help_lists_the_progress_options_and_hides_internal_commands():
    completed = run("-m", "grader", "--help")
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    assert "CHAPTER" in text and "--target" in text and re.search(r"(^|[\s\[])-v\b", text), text
    assert "_mutants" not in text


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_hint_accepts_every_spelling(spelling, capsys):
    assert grader_main(["hint", spelling]) == 0
    assert capsys.readouterr().out.startswith("ch03.variance")


@pytest.fixture(scope="module")
def fresh_stubs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stubs")
    stubs.generate(folder)
    return folder


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_check_accepts_every_spelling(spelling, fresh_stubs, capsys):
    check(spelling, target=str(fresh_stubs))  # stubs: answered without running a test
    assert capsys.readouterr().out.startswith("· ch03.variance: not started")


def test_exercise_option_accepts_every_spelling():
    tree = ast.parse((ROOT / "tests" / "test_ch03_statistics.py").read_text())
    expected = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                and any(isinstance(d, ast.Call) and d.args and getattr(d.args[0], "value", None) == "ch03.variance"
                        for d in node.decorator_list)}
    assert expected
    completed = run("-m", "pytest", "tests/test_ch03_statistics.py", "--collect-only", "-q", "-p", "no:cacheprovider",
                    *(f"--exercise={s}" for s in SPELLINGS))
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    collected = {line.split("::")[1].split("[")[0] for line in completed.stdout.splitlines() if "::" in line}
    assert collected == expected


def test_a_typo_gets_a_suggestion_everywhere(fresh_stubs, capsys):
    typo = "ch03.varianse"
    assert grader_main(["hint", typo]) == 2
    assert "Did you mean" in capsys.readouterr().err
    with pytest.raises(CatalogError, match=r"Did you mean .*ch03\.variance\b"):
        check(typo, target=str(fresh_stubs))
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", f"--exercise={typo}", "-q", "-p", "no:cacheprovider")
    assert completed.returncode != 0 and "Traceback" not in completed.stdout + completed.stderr
    assert re.search(r"Did you mean .*ch03\.variance\b", completed.stdout + completed.stderr), completed.stderr


def test_exercise_of_another_chapter_names_its_test_file():
    completed = run("-m", "pytest", "tests/test_ch03_statistics.py", "--exercise", "ch05.LRFinder", "-q",
                    "-p", "no:cacheprovider")
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0 and "no test grades" not in output
    assert "pytest tests/test_ch05_learner.py --exercise ch05.LRFinder" in output, output[-1000:]


# --- f. scores ---------------------------------------------------------------------------------------

def rounded(value, places: int) -> bool:
    return isinstance(value, (int, float)) and round(value, places) == value


def test_results_json_scores_are_rounded(graded):
    _, data = graded
    assert rounded(data["score"], 4) and rounded(data["max_score"], 4), (data["score"], data["max_score"])
    for test in data["tests"]:
        assert rounded(test["score"], 6) and rounded(test["max_score"], 6), test["name"]
    shares = {t["max_score"] for t in data["tests"]}
    assert any(not rounded(s, 2) for s in shares), "a share like 2/7 makes the rounding matter"
    for exercise, entry in data["extra_data"]["exercises"].items():
        assert rounded(entry["score"], 4) and rounded(entry["max_score"], 4), (exercise, entry)


@pytest.fixture(scope="module")
def class_grades(tmp_path_factory):
    """grade-class on chapter 1 for a student with one slow_calculation test failing (5/6 of its point) and one
    whose file does not import (every test an error)."""
    base = tmp_path_factory.mktemp("class")
    mutant = next(m for m in mutants.load_mutants("ch01_callbacks")
                  if m.exercise == "ch01.slow_calculation" and m.why.startswith("ignores the stop signal"))
    for name, source in {"partial": mutants.apply(mutant, "ch01_callbacks"),
                         "all_errors": (SOLUTIONS / "ch01_callbacks.py").read_text() + "\nnot_defined_anywhere\n"}.items():
        (base / "submissions" / name).mkdir(parents=True)
        (base / "submissions" / name / "ch01_callbacks.py").write_text(source)
    out = base / "grades"
    completed = run("-m", "grader", "grade-class", str(base / "submissions"), "--out", str(out), "--chapters", "ch01",
                    "--jobs", "2", "--unsafe")
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    with (out / "summary.csv").open(newline="") as file:
        return out, {row["student"]: row for row in csv.DictReader(file)}


def test_summary_csv_is_rounded(class_grades):
    out, rows = class_grades
    full = sum(e.points for e in catalog.exercises(["ch01_callbacks"]))
    score = float(rows["partial"]["score"])
    assert full - 1 < score < full, "one slow_calculation test fails: part of its point is lost"
    for row in rows.values():
        for column, places in (("score", 4), ("max_score", 4), ("seconds", 1)):
            assert re.fullmatch(rf"-?\d+(\.\d{{1,{places}}})?", row[column]), (row["student"], column, row[column])
    data = json.loads((out / "partial" / "results.json").read_text())
    assert rounded(data["score"], 4) and all(rounded(t["score"], 6) and rounded(t["max_score"], 6) for t in data["tests"])


def test_a_student_whose_every_test_errored_is_not_graded(class_grades):
    _, rows = class_grades
    row = rows["all_errors"]
    assert int(row["error"]) > 0 and int(row["passed"]) == int(row["failed"]) == int(row["not started"]) == 0, row
    assert row["status"] != "graded" and row["status"].startswith("error"), row["status"]
    assert float(row["score"]) == 0
    assert rows["partial"]["status"] == "graded", rows["partial"]["status"]
