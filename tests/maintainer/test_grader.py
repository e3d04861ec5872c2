"""The grader itself: isolation of broken submissions, outcomes, results.json, the CLI and the generator.

Run by `python -m grader check`; kept out of a learner's plain `pytest` (it grades whole submissions).
"""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog, stubs
from grader.catalog import CatalogError, parse_regions

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)
FAST_TIMEOUT = {**os.environ, "PYTEST_ADDOPTS": "-o timeout=3"}


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout)


def submission(tmp_path, name, ch01_edit=None, ch02_source=None):
    """A copy of the stubs with chapter 1 solved (then edited) and chapter 2 replaced if asked."""
    folder = tmp_path / name
    stubs.generate(folder)
    source = (ROOT / "solutions" / "ch01_callbacks.py").read_text()
    if ch01_edit:
        source = ch01_edit(source)
    (folder / "ch01_callbacks.py").write_text(source)
    if ch02_source is not None:
        (folder / "ch02_datamodel.py").write_text(ch02_source)
    return folder


def looping(source):
    return source.replace("    res = 0\n    for i in range(steps):", "    res = 0\n    while True:\n        pass\n    for i in range(steps):", 1)


def test_broken_chapters_do_not_stop_the_grading(tmp_path):
    folder = submission(tmp_path, "student", ch01_edit=looping, ch02_source="def broken(:\n")
    results = tmp_path / "results.json"
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", "tests/test_ch02_datamodel.py",
                    f"--target={folder}", f"--results-json={results}", "-q", env=FAST_TIMEOUT)
    data = json.loads(results.read_text())
    by_exercise = data["extra_data"]["exercises"]
    assert by_exercise["ch01.slow_calculation"]["status"] == "error", "the infinite loop is an error"
    assert "timed out" in completed.stdout or "Timeout" in completed.stdout
    for exercise, entry in by_exercise.items():
        if exercise.startswith("ch01.") and exercise != "ch01.slow_calculation":
            assert entry["status"] == "done", f"{exercise} is graded normally next to the looping exercise"
        if exercise.startswith("ch02."):
            assert entry["status"] == "error"
    assert "ch02_datamodel.py:1: SyntaxError" in completed.stdout, "the import error names file and line"
    passed = [t for t in data["tests"] if t["status"] == "passed"]
    assert data["score"] == pytest.approx(sum(t["score"] for t in passed), abs=1e-3)
    assert f"{data['score']:.1f} of {data['max_score']:.1f} points" in completed.stdout, \
        "the terminal summary and results.json agree"


def test_results_json_is_gradescope_shaped(tmp_path):
    results = tmp_path / "results.json"
    run("-m", "pytest", "tests/test_ch01_callbacks.py", "--target=solutions", f"--results-json={results}", "-q")
    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] > 0
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["status"] in ("passed", "failed")


def test_stubs_are_not_started_and_exit_nonzero(tmp_path):
    folder = tmp_path / "stubs"
    stubs.generate(folder)
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", f"--target={folder}", "-q")
    assert completed.returncode == 1
    assert "not started" in completed.stdout.splitlines()[-1] and " passed" not in completed.stdout.splitlines()[-1]


def test_wrong_answer_is_failed_with_a_message(tmp_path):
    wrong = submission(tmp_path, "wrong", ch01_edit=lambda s: s.replace("        return value\n\n    return count",
                                                                           "        return value + 1\n\n    return count"))
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", f"--target={wrong}",
                    "--exercise", "ch01.make_counter", "-q")
    assert "2 failed" in completed.stdout.splitlines()[-1]
    assert "assert [" in completed.stdout, "the learner sees what came back and what was expected"


def test_unknown_exercise_selection_is_an_error():
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", "--exercise", "ch01.nope", "-q")
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0 and "No exercise called 'ch01.nope'" in output
    assert "ch01.make_counter" in output and "ch05." not in output  # it lists chapter 1's exercises, no others


def test_missing_target_folder_is_an_error(tmp_path):
    completed = run("-m", "pytest", "tests/test_ch01_callbacks.py", f"--target={tmp_path / 'nowhere'}", "-q")
    assert completed.returncode != 0 and "is not a folder" in completed.stdout + completed.stderr


def test_hint_cli():
    good = run("-m", "grader", "hint", "make_counter", "2")
    assert good.returncode == 0 and "hint 2 of 3" in good.stdout
    typo = run("-m", "grader", "hint", "make_countr")
    assert typo.returncode == 2 and "ch01.make_counter" in typo.stderr


def test_progress_on_fresh_stubs_runs_no_tests(tmp_path):
    folder = tmp_path / "stubs"
    stubs.generate(folder)
    completed = run("-m", "grader", "--target", str(folder), timeout=60)
    assert completed.returncode == 0
    assert "Grading" not in completed.stdout, "untouched exercises are recognised without running tests"
    first = catalog.exercises()[0]
    assert f"Next: {first.id} is next" in completed.stdout


def test_progress_grades_touched_exercises(tmp_path):
    folder = submission(tmp_path, "student")
    completed = run("-m", "grader", "--target", str(folder), "ch01", timeout=120)
    assert "ch01_callbacks" in completed.stdout and "7/7" in completed.stdout


def test_grade_class_three_submissions(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    submission(root, "alice")
    submission(root, "bob", ch02_source="def broken(:\n")
    submission(root, "carol", ch01_edit=looping)
    out = tmp_path / "grades"
    completed = run("-m", "grader", "grade-class", str(root), "--out", str(out), "--chapters", "ch01,ch02",
                    "--jobs", "2", env=FAST_TIMEOUT, timeout=600)
    assert completed.returncode == 0, completed.stderr
    rows = {row["student"]: row for row in csv.DictReader((out / "summary.csv").open())}
    assert set(rows) == {"alice", "bob", "carol"}
    for name in rows:
        assert json.loads((out / name / "results.json").read_text())["tests"]
    ch01_points = sum(e.points for e in catalog.exercises(["ch01_callbacks"]))
    assert float(rows["alice"]["score"]) == pytest.approx(ch01_points), "ch01 solved, ch02 not started"
    assert float(rows["bob"]["score"]) == pytest.approx(ch01_points) and int(rows["bob"]["error"]) > 0
    assert float(rows["carol"]["score"]) < ch01_points and int(rows["carol"]["error"]) > 0


def test_generator_replaces_each_region(tmp_path):
    source = (ROOT / "solutions" / "ch01_callbacks.py").read_text()
    generated = stubs.stub_source("ch01_callbacks")
    regions = parse_regions(ROOT / "solutions" / "ch01_callbacks.py", "ch01_callbacks")
    assert generated.count('raise NotImplementedError("Exercise ') + generated.count("raise NotImplementedError('Exercise ") \
        == len(regions)
    markers = lambda text: [line for line in text.splitlines() if line.strip() == "# BEGIN SOLUTION"]  # noqa: E731
    assert not markers(generated) and len(markers(source)) == len(regions)
    compile(generated, "stub", "exec")


def test_generator_rejects_a_region_outside_a_function(tmp_path):
    bad = tmp_path / "ch99_bad.py"
    bad.write_text("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n")
    with pytest.raises(CatalogError, match="inside a top-level function or class"):
        parse_regions(bad, "ch99_bad")
    unclosed = tmp_path / "ch99_open.py"
    unclosed.write_text("def f():\n    # BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(CatalogError, match="never closed"):
        parse_regions(unclosed, "ch99_open")


def test_exercises_folder_is_in_sync():
    assert stubs.out_of_sync(ROOT / "exercises") == []
