"""`python -m grader watch`, driven as a learner would: in a terminal, saving files, pressing keys."""
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import catalog, stubs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(180)


def solved(source: str, name: str, body: str | None = None) -> str:
    """`source` with the stub of exercise `name` (chapter 1) replaced by the reference's code, or by `body`."""
    exercise = next(e for e in catalog.exercises(["ch01_callbacks"]) if e.name == name)
    region = exercise.regions[0]
    reference = (ROOT / "solutions" / "ch01_callbacks.py").read_text().splitlines(keepends=True)
    code = body if body is not None else "".join(reference[region.begin:region.end - 1])
    return source.replace(region.stub_line + "\n", code, 1)


class Terminal:
    def __init__(self, args, cwd):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", "TERM": "dumb"})
        os.close(slave)
        self.text = ""

    def expect(self, pattern, timeout=60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            match = re.search(pattern, self.text)
            if match:
                self.text = self.text[match.end():]
                return match
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.text += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        raise AssertionError(f"no {pattern!r} within {timeout} s; the screen shows:\n{self.text[-2000:]}")

    def press(self, key):
        os.write(self.master, key.encode())


def test_watch_regrades_on_save_and_follows_the_learner(tmp_path):
    folder = tmp_path / "mine"
    stubs.generate(folder)
    path = folder / "ch01_callbacks.py"
    term = Terminal([sys.executable, "-m", "grader", "watch", "ch01", "--target", str(folder)], ROOT)
    term.expect(r"ch01\.make_show_progress")
    term.expect(r"not started")

    path.write_text(solved(path.read_text(), "make_show_progress"))
    term.expect(r"✓ ch01\.make_show_progress: passed\. Well done\.\s+\(graded in [0-9.]+ s\)")
    term.expect(r"━━ ch01\.slow_calculation ━━")

    term.press("h")
    term.expect(r"hint 1 of 3")
    wrong = "    return 0\n"
    time.sleep(1.1)  # a new modification time
    path.write_text(solved(path.read_text(), "slow_calculation", wrong))
    term.expect(r"✗ ch01\.slow_calculation: failed")
    term.expect(r"slow_calculation\(steps=")  # the first message says what was called and what came back

    term.press("l")
    term.expect(r"ch01\.make_show_progress\s+done")
    term.expect(r"→ ch01\.slow_calculation\s+failed")
    term.press("q")
    term.expect(r"bye")
    assert term.process.wait(timeout=20) == 0
