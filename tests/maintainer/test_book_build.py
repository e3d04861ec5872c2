"""The built book never shows a reader's own grades (issue: pages that never show a learner's grades).

A one-chapter book, built with the repository's own configuration and extension, while the grading target is a
learner's finished work: every `check()` cell in the page must still say what a new learner sees (not
started, with the stubs' line numbers), exactly as `check()` prints it for freshly generated stubs.
"""
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import stubs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(600)


def test_check_cells_in_the_built_book_grade_fresh_stubs(tmp_path):
    book = tmp_path / "book_copy"
    (book / "book").mkdir(parents=True)
    shutil.copytree(ROOT / "_ext", book / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    config = (ROOT / "_config.yml").read_text().replace("execute_notebooks: cache", "execute_notebooks: force")
    (book / "_config.yml").write_text(config)
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/ch01_callbacks\n")
    shutil.copy(ROOT / "book" / "ch01_callbacks.ipynb", book / "book")
    learner = tmp_path / "learner"
    learner.mkdir()
    (learner / "ch01_callbacks.py").write_text((ROOT / "solutions" / "ch01_callbacks.py").read_text())
    env = {**os.environ, "GRADER_TARGET": str(learner), "PYTHONPATH": str(ROOT)}
    env.pop("GRADER_BOOK_BUILD", None)
    completed = subprocess.run(["jupyter-book", "build", str(book), "-q"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=500)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    page = html.unescape((book / "_build" / "html" / "book" / "ch01_callbacks.html").read_text())
    shown = set(re.findall(r"[·✓✗] ch01\.\w+: [^\n<]*", page))
    assert shown, "the page has no check() output"
    assert not any(line.startswith(("✓", "✗")) for line in shown), f"the learner's verdicts are in the page: {shown}"

    stub_dir = tmp_path / "stubs"
    stubs.generate(stub_dir)
    expected = subprocess.run([sys.executable, "-c", "from grader import check; check('ch01')"], cwd=ROOT,
                              env={**os.environ, "GRADER_TARGET": str(stub_dir)}, capture_output=True, text=True)
    lines = {line.replace(str(stub_dir) + "/", "exercises/") for line in expected.stdout.splitlines() if line.strip()}
    assert shown == lines, (shown ^ lines)
