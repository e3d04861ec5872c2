"""Class grading against students who attack it (instructors/README.md, "What is protected").

One `grade-class` run over a class of an honest student, a plainly wrong one, and one attacker per attack:
each attacker hands in the wrong student's answers plus the attack. No attacker may score more than the
answers it started from, the honest and wrong students get their normal scores, no file outside the
students' private copies changes, nothing is left running, and summary.csv lists everyone. A few of the
same students then go through the Gradescope script.

Needs a sandbox (bubblewrap, or root); skipped with the reason otherwise.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import classroom, mutants, stubs
from grader.sandbox import UID_RANGE, backend, processes_of

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ["ch01_callbacks", "ch03_statistics"]
pytestmark = [pytest.mark.timeout(1500),
              pytest.mark.skipif(backend() is None, reason="no sandbox on this machine (bubblewrap or root)")]

CH01 = (ROOT / "solutions" / "ch01_callbacks.py").read_text()
CH03 = (ROOT / "solutions" / "ch03_statistics.py").read_text()
WRONG_COUNTER = CH01.replace("def make_counter(start: int = 0, step: int = 1):",
                             "def make_counter(start: int = 0, step: int = 1):\n    step = 1  # the wrong answer", 1)
WRONG_VARIANCE = mutants.apply(mutants.load_mutants("ch03_statistics")[0], "ch03_statistics")  # / (n - 1)
CALLS_BUILTIN = CH03.replace("    deviations = x - x.mean(dim, keepdim=True)\n    n = count_along(x, dim)\n"
                             "    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
                             "    return torch.var(x, dim=dim, keepdim=keepdim, correction=correction)", 1)
assert CALLS_BUILTIN != CH03 and WRONG_COUNTER != CH01

# Each attack is code appended to (or swapped into) the wrong student's files.
FIND = '''
import os as _os
def _find(names, bases=("/", "/tmp", "/work", "/root", "/home", "/autograder"), depth=7):
    found = []
    for base in bases:
        for root, dirs, files in _os.walk(base):
            if root.count(_os.sep) >= depth or root.startswith(("/proc", "/sys", "/dev", "/usr")):
                dirs[:] = []
            found += [_os.path.join(root, f) for f in files if f in names]
    return found
'''
ATTACKS = {
    "fork_daemon": FIND + '''
import time as _time
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _end = _time.time() + 25
        while _time.time() < _end:
            for _p in _find({"summary.csv", "results.json"}):
                try:
                    open(_p, "w").write("student,score\\nfork_daemon,1000\\n")
                except OSError:
                    pass
            _time.sleep(1)
        _os._exit(0)
    _os._exit(0)
''',
    "classmates": FIND + '''
for _p in _find({"ch01_callbacks.py"}):
    if not _p.startswith("/submission"):
        try:
            open(_p, "w").write("raise SystemExit('broken by a classmate')\\n")
        except OSError:
            pass
''',
    "append_test": FIND + '''
for _p in _find({"test_ch01_callbacks.py"}):
    try:
        with open(_p, "a") as _f:
            _f.write("\\n\\ndef test_free_points():\\n    pass\\n")
    except OSError:
        pass
''',
    "forge_results": FIND + '''
import json as _json, struct as _struct
_forged = _json.dumps({"score": 1000, "max_score": 1, "tests": [{"name": "x", "score": 1000, "max_score": 1,
                       "status": "passed", "tags": ["ch01.make_counter"], "extra_data": {"outcome": "passed"}}],
                       "extra_data": {"counts": {}, "exercises": {}}})
for _p in _find({"results.json"}):
    try:
        open(_p, "w").write(_forged)
    except OSError:
        pass
for _fd in range(1, 12):
    try:
        _body = _json.dumps({"id": 1, "result": [1, 2, 3]}).encode()
        _os.write(_fd, _struct.pack(">Q", len(_body)) + _body)
    except OSError:
        pass
import atexit as _atexit
_atexit.register(lambda: [open(p, "w").write(_forged) for p in _find({"results.json"}) if _os.access(p, _os.W_OK)])
''',
    "resources": '''
import os as _os, sys as _sys
for _ in range(200):
    try:
        if _os.fork() == 0:
            _os.setsid()
            import time as _t
            _t.sleep(3600)
            _os._exit(0)
    except OSError:
        break
try:
    _hog = bytearray(8 * 2 ** 30)
except MemoryError:
    _hog = None
try:
    with open("/tmp/flood", "wb") as _f:
        for _ in range(1024):
            _f.write(b"x" * 2 ** 20)
except OSError:
    pass
try:
    for _ in range(1024):
        _os.write(1, b"y" * 2 ** 20)
except OSError:
    pass
''',
    "import_reference": '''
try:
    from solutions.ch01_callbacks import make_counter  # noqa: F811
except ImportError:
    pass
try:
    import importlib.util as _u
    for _base in ("/work/main", "/grader", "/autograder/source", "."):
        _spec = _u.spec_from_file_location("_ref", _base + "/solutions/ch01_callbacks.py")
        try:
            _ref = _u.module_from_spec(_spec); _spec.loader.exec_module(_ref); make_counter = _ref.make_counter
            break
        except Exception:
            pass
except Exception:
    pass
''',
    "patch_pytest": '''
import gc as _gc
try:
    import _pytest.reports as _r
    _orig = _r.TestReport.from_item_and_call
    def _always_passed(cls, item, call):
        report = _orig(item, call)
        report.outcome = "passed"
        return report
    _r.TestReport.from_item_and_call = classmethod(_always_passed)
except Exception:
    pass
try:
    import grader.plugin as _plugin
    _plugin.Graded.outcome = property(lambda self: "passed", lambda self, value: None)
    _plugin.classify = lambda excinfo, when: ("passed", "")
except Exception:
    pass
for _obj in _gc.get_objects():
    if type(_obj).__name__ == "PytestPluginManager":
        class _Plugin:
            def pytest_runtest_makereport(self, item, call):
                pass
        try:
            _obj.register(_Plugin())
        except Exception:
            pass
''',
    "always_equal": '''
class _Yes(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
class _YesList(list):
    def __eq__(self, other):
        return True
_real_counter = make_counter
def make_counter(start=0, step=1):
    inner = _real_counter(start, step)
    return lambda: _Yes(inner())
''',
    "skip": "import pytest as _p\ndef make_counter(start=0, step=1):\n    _p.skip('nothing to see')\n",
    "xfail": "import pytest as _p\ndef make_counter(start=0, step=1):\n    _p.xfail('expected')\n",
    "exit": "import pytest as _p\ndef make_counter(start=0, step=1):\n    _p.exit('done', returncode=0)\n",
    "os_exit": "import os as _os\ndef make_counter(start=0, step=1):\n    _os._exit(0)\n",
    "stall_thread": '''
import threading as _th
def _spin():
    while True:
        pass
_th.Thread(target=_spin).start()
''',
    "stall_alarm": '''
import signal as _s
def make_counter(start=0, step=1):
    _s.alarm(0)
    _s.signal(_s.SIGALRM, _s.SIG_IGN)
    while True:
        pass
''',
    "kill_parent": '''
import os as _os, signal as _s
for _pid in (_os.getppid(), -1):
    try:
        _os.kill(_pid, _s.SIGKILL) if _pid != -1 else None
    except OSError:
        pass
''',
    "huge_observation": '''
import torch as _torch
def make_counter(start=0, step=1):
    big = _torch.zeros(300_000_000, dtype=_torch.uint8)
    return lambda: big
''',
}
# Attacks on chapter 3's oracles and its written-by-hand rule, with the answers they start from.
CH03_ATTACKS = {
    "hollow_oracles": (WRONG_VARIANCE, '''
import torch as _torch
import torch.testing as _tt
_tt.assert_close.__code__ = (lambda *a, **k: None).__code__
_mine = variance
_torch.var = lambda x, dim=None, keepdim=False, correction=1, **k: _mine(x, dim=dim, keepdim=keepdim, correction=correction)
_torch.Tensor.var = lambda self, *a, **k: _torch.var(self, *a, **k)
import torch.nn.functional as _F
_F.cross_entropy = lambda *a, **k: _torch.tensor(0.0)
'''),
    "saved_reference": (CH03.replace("    deviations = x - x.mean(dim, keepdim=True)\n    n = count_along(x, dim)\n"
                                     "    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
                                     "    return _v(x, dim=dim, keepdim=keepdim, correction=correction)", 1)
                        .replace("from torch import Tensor", "from torch import Tensor\n_v = getattr(torch, 'v' + 'ar')", 1),
                        ""),
}
BASELINE_03 = {"hollow_oracles": "wrong_variance", "saved_reference": "calls_builtin"}


def write_student(folder: Path, ch01: str, ch03: str) -> None:
    stubs.generate(folder)
    (folder / "__init__.py").unlink()
    (folder / "ch01_callbacks.py").write_text(ch01)
    (folder / "ch03_statistics.py").write_text(ch03)


def tree_hashes(*folders: Path) -> dict[str, str]:
    hashes = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".hypothesis" not in path.parts:
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    submissions = base / "submissions"
    write_student(submissions / "honest", CH01, CH03)
    write_student(submissions / "wrong", WRONG_COUNTER, CH03)
    write_student(submissions / "wrong_variance", WRONG_COUNTER, WRONG_VARIANCE)
    write_student(submissions / "calls_builtin", WRONG_COUNTER, CALLS_BUILTIN)
    for name, code in ATTACKS.items():
        write_student(submissions / name, WRONG_COUNTER + "\n" + code, CH03)
    for name, (ch03, code) in CH03_ATTACKS.items():
        write_student(submissions / name, WRONG_COUNTER, ch03 + "\n" + code)
    # A symlink to the answers, and a name a spreadsheet would run as a formula.
    write_student(submissions / "=HYPERLINK(\"x\")", WRONG_COUNTER, CH03)
    os.symlink(ROOT / "solutions" / "ch02_datamodel.py", submissions / "wrong" / "ch02_datamodel.py.link")
    canary = Path("/tmp") / f"grader-canary-{os.getpid()}"
    canary.write_text("untouched")
    watched = [ROOT / "grader", ROOT / "tests", ROOT / "solutions", ROOT / "hints", ROOT / "exercises", submissions]
    before = tree_hashes(*watched)
    out = base / "grades"
    started = time.time()
    code = classroom.main(submissions, out, timeout=300, jobs=2, chapters=CHAPTERS)
    seconds = time.time() - started
    summary_bytes = (out / "summary.csv").read_bytes()
    time.sleep(6)  # a daemon left behind would strike now
    yield {"code": code, "out": out, "before": before, "after": tree_hashes(*watched), "summary_bytes": summary_bytes,
           "canary": canary, "seconds": seconds, "submissions": submissions}
    canary.unlink(missing_ok=True)


def rows(graded):
    with (graded["out"] / "summary.csv").open() as file:
        return {row["student"]: row for row in csv.DictReader(file)}


def score(graded, student):
    return float(rows(graded)[student]["score"])


def test_the_class_is_graded_and_summary_complete(graded):
    assert graded["code"] == 0
    table = rows(graded)
    expected = {"honest", "wrong", "wrong_variance", "calls_builtin", *ATTACKS, *CH03_ATTACKS, "'=HYPERLINK(\"x\")"}
    assert set(table) == expected, set(table) ^ expected
    print(f"graded {len(table)} submissions in {graded['seconds']:.0f} s")


def test_honest_and_wrong_students_get_their_normal_scores(graded):
    full = float(rows(graded)["honest"]["max_score"])
    assert score(graded, "honest") == pytest.approx(full)
    # make_counter (1 point, two tests) ignores `step`: the counting test fails, the independence test (step 1) passes.
    assert score(graded, "wrong") == pytest.approx(full - 0.5), "only make_counter's counting test is lost"
    assert score(graded, "wrong_variance") < score(graded, "wrong")
    assert score(graded, "calls_builtin") < score(graded, "wrong"), "calling torch.var loses the written-by-hand points"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_attack_raises_the_score(graded, attack):
    assert score(graded, attack) <= score(graded, "wrong") + 1e-9, rows(graded)[attack]


@pytest.mark.parametrize("attack", sorted(CH03_ATTACKS))
def test_no_attack_on_the_oracles_raises_the_score(graded, attack):
    assert score(graded, attack) <= score(graded, BASELINE_03[attack]) + 1e-9, rows(graded)[attack]


def test_no_file_outside_the_private_copies_changed(graded):
    changed = sorted(k for k in set(graded["before"]) | set(graded["after"])
                     if graded["before"].get(k) != graded["after"].get(k))
    assert not changed, changed[:10]
    assert graded["canary"].read_text() == "untouched"
    assert (graded["out"] / "summary.csv").read_bytes() == graded["summary_bytes"], "summary.csv changed after grading"
    for student in rows(graded):
        results = json.loads((graded["out"] / classroom.safe_name(student.lstrip("'")) / "results.json").read_text())
        assert results["score"] <= results["max_score"] <= 100


def test_nothing_is_left_running(graded):
    alive = {uid: processes_of(uid) for uid in UID_RANGE if processes_of(uid)}
    assert not alive, alive


def test_the_attempts_to_read_the_answers_are_reported(graded):
    assert "reference solutions" in rows(graded)["import_reference"]["notes"]


def test_a_formula_in_a_name_is_written_as_text(graded):
    names = [row["student"] for row in rows(graded).values()]
    formula = [name for name in names if "HYPERLINK" in name]
    assert formula == ["'=HYPERLINK(\"x\")"], "a cell a spreadsheet would run starts with an apostrophe"


def test_item_analysis_counts_the_wrong_counter(graded):
    table = list(csv.DictReader((graded["out"] / "item_analysis.csv").open()))
    counter = next(r for r in table if r["kind"] == "exercise" and r["exercise"] == "ch01.make_counter")
    assert int(counter["done"]) == 1, counter  # only the honest student
    assert (graded["out"] / "mistakes.png").stat().st_size > 1000


@pytest.mark.parametrize("student", ["honest", "wrong", "forge_results", "fork_daemon", "patch_pytest"])
def test_the_gradescope_script_gives_the_same_scores(graded, tmp_path, student):
    results = tmp_path / "results.json"
    env = {**os.environ, "AUTOGRADER_SOURCE": str(ROOT), "AUTOGRADER_SUBMISSION": str(graded["submissions"] / student),
           "AUTOGRADER_RESULTS": str(results), "AUTOGRADER_PYTHON": sys.executable, "CHAPTERS": " ".join(CHAPTERS)}
    completed = subprocess.run(["bash", str(ROOT / "instructors" / "gradescope" / "run_autograder")], env=env,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0
    time.sleep(3)
    data = json.loads(results.read_text())
    assert data["score"] == pytest.approx(score(graded, student)), data["output"]
    assert data["max_score"] == pytest.approx(float(rows(graded)[student]["max_score"]))
