"""`python -m grader watch [CHAPTER | ID]`: the current exercise, regraded each time you save its file.

Like rustlings: it shows the first exercise that is not done yet (of a chapter, or from the one you name), then
watches its file. Every save regrades that exercise and prints the verdict, the known mistake it looks like (if
any) and the first message; once it passes, the next exercise comes up. Keys (or a word and Enter when the
input is not a terminal): `h` the next hint level, `l` the list of exercises with their status, `n` skip to
the next exercise, `r` regrade now, `q` quit.

Regrading forks a warm process that has already imported pytest, hypothesis and (for the chapters that need
it) torch, so a save is graded in well under a second for the pure-Python chapters and in about one for the
others. The file is polled for changes (a few times a second), which works the same on every system.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import catalog
from .catalog import ROOT

POLL = 0.25
TORCH_CHAPTERS_FROM = 3  # chapters 1 and 2 need no torch


# --------------------------------------------------------------------------------------------
# The warm grader: a process that forks a fresh pytest for each request
# --------------------------------------------------------------------------------------------

def serve(torch_too: bool) -> None:
    """Run in the warm process: read one JSON request per line, answer one JSON line per request."""
    import hypothesis  # noqa: F401 - imported once, inherited by every fork
    import pytest

    import grader.plugin  # noqa: F401

    if torch_too:
        import torch  # noqa: F401
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            try:
                code = pytest.main(request["args"])
            except BaseException:  # noqa: BLE001
                code = 3
            os._exit(int(code))
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)


class WarmGrader:
    def __init__(self, torch_too: bool):
        self.torch_too = torch_too
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from grader.watch import serve; serve({torch_too})"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        json.loads(self.process.stdout.readline())

    def grade(self, exercise: catalog.Exercise, target: str) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results.json"
            args = [str(catalog.TESTS / f"test_{exercise.chapter}.py"), f"--target={target}",
                    f"--exercise={exercise.id}", f"--results-json={results}", "-q", "--no-header",
                    "-p", "no:cacheprovider"]
            self.process.stdin.write(json.dumps({"args": args}) + "\n")
            self.process.stdin.flush()
            json.loads(self.process.stdout.readline())
            if not results.exists():
                return {"status": "error", "message": "the grader could not run (see `pytest` for details)"}
            data = json.loads(results.read_text())
        entry = data["extra_data"]["exercises"].get(exercise.id, {"status": "error"})
        failing = [t for t in data["tests"] if t["extra_data"]["outcome"] != "passed"]
        message = failing[0]["output"] if failing else ""
        return {**entry, "message": message}

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.process.kill()


# --------------------------------------------------------------------------------------------
# The watch loop
# --------------------------------------------------------------------------------------------

class Keys:
    """Single keys from a terminal (cbreak mode), or whole lines from a pipe."""

    def __init__(self, stream=sys.stdin):
        self.stream = stream
        self.saved = None
        if stream.isatty():
            import termios
            import tty

            self.saved = termios.tcgetattr(stream.fileno())
            tty.setcbreak(stream.fileno())

    def read(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.stream], [], [], timeout)
        if not ready:
            return None
        text = os.read(self.stream.fileno(), 64).decode(errors="replace") if self.saved else self.stream.readline()
        if text == "":
            return "q"
        return text.strip()[:1].lower() or "r"

    def restore(self):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self.saved)


def _first_lines(text: str, n: int = 8) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0] in ("failed", "error", "not started"):
        lines = lines[1:]
    return "\n    ".join(lines[:n]) + ("\n    ..." if len(lines) > n else "")


def watch(what: str | None = None, target: str | None = None, out=sys.stdout) -> int:
    from . import progress
    from .loading import default_target, target_dir

    target = target or default_target()
    folder = target_dir(target)
    if folder is None:
        print("watch follows your own files: use it on exercises/ (the default) or a folder of yours", file=out)
        return 2
    every = catalog.exercises()
    if what and ("." in what or what not in {e.id.split(".")[0] for e in every}):
        start = catalog.find(what, every)
        order = every[every.index(start):]
    elif what:
        order = [e for e in every if e.id.startswith(what + ".")]
    else:
        order = every
    keys = Keys()
    graders: dict[bool, WarmGrader] = {}

    lock = threading.Lock()

    def grader_for(exercise):
        needs_torch = int(exercise.chapter[2:4]) >= TORCH_CHAPTERS_FROM
        with lock:
            if needs_torch not in graders:
                graders[needs_torch] = WarmGrader(needs_torch)
            return graders[needs_torch]

    known: dict[str, str] = {}

    def status_of(exercise) -> dict:
        started = time.monotonic()
        statuses, to_run = progress.static_status([exercise], folder)
        if not to_run:
            result = {"status": statuses[0].state, "line": statuses[0].line, "message": statuses[0].detail}
        else:
            result = {**grader_for(exercise).grade(exercise, target), "line": statuses[0].line if statuses else 0}
            result["seconds"] = time.monotonic() - started
        known[exercise.id] = result["status"]
        return result

    def say(text=""):
        print(text, file=out, flush=True)

    if order:  # warm up the grader for the first chapter while the learner reads
        threading.Thread(target=grader_for, args=(order[0],), daemon=True).start()
    try:
        index = 0
        hint_level = 0
        while index < len(order):
            exercise = order[index]
            path = folder / f"{exercise.chapter}.py"
            result = status_of(exercise)
            if result["status"] == "done" and what is None or result["status"] == "done" and index < len(order) - 1:
                say(f"✓ {exercise.id} already passes")
                index += 1
                continue
            say(f"\n━━ {exercise.id} ━━ {exercise.regions[0].task if exercise.regions else ''}")
            say(f"  edit {path}:{result.get('line') or exercise.line}   (h hint · l list · n next · r regrade · q quit)")
            show(result, exercise, say)
            mtime = path.stat().st_mtime if path.exists() else 0
            while True:
                key = keys.read(POLL)
                changed = path.exists() and path.stat().st_mtime != mtime
                if key == "q":
                    say("bye")
                    return 0
                if key == "h":
                    hint_level = min(hint_level + 1, len(exercise.hints))
                    say(f"  hint {hint_level} of {len(exercise.hints)}: {exercise.hints[hint_level - 1]}"
                        if exercise.hints else "  no hints for this one")
                    continue
                if key == "l":
                    untouched = {s.exercise.id for s in progress.static_status(order, folder)[0]
                                 if s.state == "not started"}
                    for other in order:
                        state = known.get(other.id) or ("not started" if other.id in untouched else "not graded yet")
                        say(f"    {'→' if other is exercise else ' '} {other.id:<36} {state}")
                    continue
                if key == "n":
                    index += 1
                    hint_level = 0
                    break
                if changed or key == "r":
                    mtime = path.stat().st_mtime if path.exists() else 0
                    time.sleep(0.05)  # let the editor finish writing
                    result = status_of(exercise)
                    show(result, exercise, say)
                    if result["status"] == "done":
                        index += 1
                        hint_level = 0
                        break
        say("\nEvery exercise here passes. Well done!")
        return 0
    except KeyboardInterrupt:
        say("bye")
        return 0
    finally:
        keys.restore()
        for grader in graders.values():
            grader.close()


def show(result: dict, exercise, say) -> None:
    status = result["status"]
    took = f"  (graded in {result['seconds']:.1f} s)" if "seconds" in result else ""
    if status == "done":
        say(f"✓ {exercise.id}: passed. Well done.{took}")
        return
    if status == "not started":
        blocked = result.get("blocked_by")
        say(f"· {exercise.id}: " + (f"blocked by {blocked} (not started)" if blocked else
                                     "not started: replace the `raise NotImplementedError`, then save"))
        return
    mark = "✗" if status == "failed" else "!"
    say(f"{mark} {exercise.id}: {status}  {result.get('passed', 0)}/{result.get('tests', 0)} tests{took}")
    if result.get("diagnosis"):
        say(f"  {result['diagnosis']['text']}")
    if result.get("message"):
        say(f"    {_first_lines(result['message'])}")
