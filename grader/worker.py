"""The worker that runs a submission's code for `--secure` grading, and the parent's side of it.

The parent (the pytest process that grades, trusted) starts one worker per chapter in a sandbox
(grader/sandbox.py) and sends it requests: "run this test module's observer with these arguments". The worker
imports the submission's chapter module and the test module, runs the observer, and answers with the encoded
observation (grader/probe.py) or a description of what the learner's code raised. Nothing else crosses: the
parent decodes plain data, judges it with its own oracles, and writes every result itself.

Frames on both pipes: an 8-byte big-endian length, then that many bytes of UTF-8 JSON. The parent gives each
request a deadline; a worker that misses it is killed with everything it started (the test is *error*, with
the line of the learner's file it was on, read from `faulthandler`'s dump), and the next request starts a
fresh worker. So does a worker that dies, floods, or answers out of turn.

Run as a worker: `python -m grader.worker --tree T --submission S --chapter chNN_topic` (the sandbox does it).
"""
from __future__ import annotations

import argparse
import faulthandler
import importlib.abc
import importlib.util
import json
import os
import queue
import re
import struct
import sys
import threading
import time
from pathlib import Path

MAX_FRAME = 64 * 2 ** 20  # bytes of one message
MAX_DIAGNOSTICS = 256 * 2 ** 10  # bytes of the worker's stderr the parent keeps
START_TIMEOUT = 60.0  # seconds for a worker to import torch and the chapter
DEFAULT_DEADLINE = 10.0


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------

def write_frame(stream, data: dict) -> None:
    body = json.dumps(data, allow_nan=False).encode("utf-8")
    stream.write(struct.pack(">Q", len(body)) + body)
    stream.flush()


def _read_exact(stream, size: int) -> bytes:
    """`size` bytes, fewer only at the end of the stream (a pipe returns what it has; keep reading)."""
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream) -> dict | None:
    """The next message, None at the end of the stream; ValueError for a frame that is too large or malformed."""
    head = _read_exact(stream, 8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    if size > MAX_FRAME:
        raise ValueError(f"a message of {size:,} bytes (the limit is {MAX_FRAME:,})")
    body = _read_exact(stream, size)
    if len(body) < size:
        return None
    data = json.loads(body.decode("utf-8"))
    if type(data) is not dict:
        raise ValueError("a message that is not an object")
    return data


# --------------------------------------------------------------------------------------------
# The worker (runs inside the sandbox)
# --------------------------------------------------------------------------------------------

class _NoReference(importlib.abc.MetaPathFinder):
    """Refuses to import the graded chapter's reference solutions, and notes that the submission tried."""

    def __init__(self, chapter: str):
        self.name = f"solutions.{chapter}"
        self.attempts = 0

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            self.attempts += 1
            raise ModuleNotFoundError(f"{self.name} is not available while this chapter is graded: the reference "
                                      "solutions cannot be imported (the attempt is reported to the instructor)",
                                      name=fullname)
        return None


def worker_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--chapter", required=True)
    args = parser.parse_args(argv)
    # The protocol keeps the pipes it was started with; the learner's prints go nowhere.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    diagnostics = os.fdopen(os.dup(2), "w", buffering=1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.path[:0] = [args.tree, str(Path(args.tree) / "tests")]
    guard = _NoReference(args.chapter)
    sys.meta_path.insert(0, guard)

    from grader import probe as probes
    from grader.loading import ChapterImportError, load_chapter

    module, import_error = None, None
    try:
        module = load_chapter(args.submission, args.chapter)
    except ChapterImportError as error:
        import_error = str(error)
    test_modules: dict[str, object] = {}
    runner = probes.InProcess(module) if module is not None else None
    write_frame(proto_out, {"ready": True, "import_error": import_error})
    while True:
        try:
            request = read_frame(proto_in)
        except (ValueError, OSError):
            return 2
        if request is None:
            return 0
        answer = {"id": request.get("id"), "reference_attempts": guard.attempts}
        deadline = float(request.get("deadline", DEFAULT_DEADLINE))
        faulthandler.dump_traceback_later(max(0.1, deadline - 0.3), exit=False, file=diagnostics)
        try:
            if import_error is not None:
                answer["raised"] = {"type": "ChapterImportError", "message": import_error, "where": "",
                                    "not_started": False}
            else:
                observer = _observer(test_modules, args.tree, str(request.get("observer", "")))
                result, report = runner.run(observer, request.get("args"), request.get("kwargs"))
                if report is not None:
                    report.pop("exception", None)
                    answer["raised"] = report
                else:
                    answer["result"] = result
        except BaseException as error:  # noqa: BLE001 - the observer itself failed, or the observation is bad
            answer["raised"] = {"type": type(error).__name__, "message": str(error)[:4000], "where": "",
                                "not_started": False}
        finally:
            faulthandler.cancel_dump_traceback_later()
        try:
            write_frame(proto_out, answer)
        except (ValueError, TypeError) as error:
            write_frame(proto_out, {"id": request.get("id"), "raised": {
                "type": "ObservationError", "message": f"the observation could not be sent: {error}",
                "where": "", "not_started": False}})


def _observer(cache: dict, tree: str, name: str):
    if name == "grader.probe::calling":
        from grader.probe import calling

        return calling
    match = re.fullmatch(r"(test_ch\d\d_[a-z0-9_]+)::([A-Za-z_][A-Za-z0-9_]*)", name)
    if match is None:
        raise ValueError(f"no such observer: {name!r}")
    module_name, function = match.groups()
    if module_name not in cache:
        path = Path(tree) / "tests" / f"{module_name}.py"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        cache[module_name] = module
    return getattr(cache[module_name], function)


# --------------------------------------------------------------------------------------------
# The parent's side
# --------------------------------------------------------------------------------------------

class Worker:
    """One chapter of one submission, run in a sandbox; `run` has the signature of probe.InProcess.run."""

    def __init__(self, submission: Path, chapter: str, kind: str | None, deadline: float = DEFAULT_DEADLINE):
        from .sandbox import Sandbox

        self.submission, self.chapter, self.deadline = submission, chapter, deadline
        self.sandbox = Sandbox(submission, chapter, kind)
        self.reference_attempts = 0
        self.restarts = 0
        self._process = None
        self._frames: queue.Queue = queue.Queue()
        self._diagnostics = bytearray()
        self._next_id = 0

    # --- process management ---------------------------------------------------------------------

    def _start(self) -> None:
        tree, submission = self.sandbox.paths
        bootstrap = ("import sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[1:]; "
                     "from grader.worker import worker_main; raise SystemExit(worker_main(sys.argv[1:]))")
        argv = [sys.executable, "-I", "-c", bootstrap, tree, "--tree", tree,
                "--submission", submission, "--chapter", self.chapter]
        process = self.sandbox.start(argv)
        self._process = process
        self._frames = queue.Queue()
        self._diagnostics = bytearray()
        threading.Thread(target=self._read_frames, args=(process, self._frames), daemon=True).start()
        threading.Thread(target=self._read_diagnostics, args=(process,), daemon=True).start()
        ready = self._wait(START_TIMEOUT)
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            detail = self._diagnostics.decode(errors="replace")[-1500:]
            self._kill()
            raise RuntimeError(f"the grading worker for {self.chapter} did not start: {ready!r}\n{detail}")

    @staticmethod
    def _read_frames(process, frames: queue.Queue) -> None:
        try:
            while True:
                frame = read_frame(process.stdout)
                frames.put(frame)
                if frame is None:
                    return
        except (ValueError, OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            frames.put(error)

    def _read_diagnostics(self, process) -> None:
        try:
            while True:
                chunk = process.stderr.read1(65536) if hasattr(process.stderr, "read1") else process.stderr.read(65536)
                if not chunk:
                    return
                self._diagnostics += chunk
                if len(self._diagnostics) > MAX_DIAGNOSTICS:
                    del self._diagnostics[: len(self._diagnostics) - MAX_DIAGNOSTICS]
        except (OSError, ValueError):
            return

    def _wait(self, timeout: float):
        try:
            return self._frames.get(timeout=timeout)
        except queue.Empty:
            return TimeoutError()

    def _kill(self) -> None:
        self.sandbox.kill()
        self._process = None

    def close(self) -> None:
        self._kill()
        self.sandbox.close()

    # --- requests -------------------------------------------------------------------------------

    def run(self, observer, args_data, kwargs_data, timeout: float | None = None):
        from .probe import observer_name

        if self._process is None:
            if self.restarts > 50:
                return None, _report("WorkerFailed", "the process running your code crashed too often; "
                                     "the remaining tests of this chapter are not run")
            self._start()
            self.restarts += 1
        self._next_id += 1
        request_id = self._next_id
        deadline = timeout or self.deadline
        request = {"id": request_id, "observer": observer_name(observer), "args": args_data, "kwargs": kwargs_data,
                   "deadline": deadline}
        try:
            if not self._send(request, deadline):
                return None, self._died("it stopped reading its input")
            answer = self._wait(deadline + 0.5)
        except BaseException:  # the test's own time limit, or ^C: the request is abandoned, and so is the worker
            self._kill()
            raise
        if isinstance(answer, TimeoutError):
            time.sleep(0.4)  # faulthandler's dump, written just before the deadline
            where = self._where_it_was()
            self._kill()
            return None, _report("Timeout", f"did not finish within {deadline:.0f} s (an infinite loop, or far too "
                                 "slow?)", where, timed_out=True)
        if answer is None or isinstance(answer, Exception):
            why = "it exited" if answer is None else f"it sent a malformed message ({answer})"
            return None, self._died(why)
        if answer.get("id") != request_id:
            self._kill()
            return None, _report("ProtocolError", "the process running your code answered out of turn")
        attempts = answer.get("reference_attempts")
        if type(attempts) is int and attempts > self.reference_attempts:
            self.reference_attempts = attempts
        if "raised" in answer:
            raised = answer["raised"]
            if type(raised) is not dict:
                return None, _report("ProtocolError", "a malformed error report")
            _, inside = self.sandbox.paths
            message = str(raised.get("message", ""))[:4000].replace(inside + "/", str(self.submission) + "/")
            report = {"type": str(raised.get("type", "Exception"))[:100], "message": message,
                      "where": self._display(str(raised.get("where", ""))), "not_started": raised.get("not_started") is True}
            return None, report
        if "result" not in answer:
            return None, _report("ProtocolError", "an answer with no observation")
        return answer["result"], None

    def _send(self, request: dict, deadline: float) -> bool:
        """Write one request; False when the worker does not take it in time (a full pipe it never reads)."""
        done = threading.Event()
        failed = []

        def write():
            try:
                write_frame(self._process.stdin, request)
            except (OSError, ValueError) as error:
                failed.append(error)
            done.set()

        threading.Thread(target=write, daemon=True).start()
        if not done.wait(deadline + 0.5):
            return False
        return not failed

    def _died(self, why: str) -> dict:
        code = self._process.poll() if self._process is not None else None
        detail = self._diagnostics.decode(errors="replace")[-800:]
        self._kill()
        exit_text = f" (exit status {code})" if code is not None else ""
        return _report("WorkerDied", f"the process running your code ended during the test: {why}{exit_text}. "
                       "os._exit, sys.exit at import, a crash in native code, or running out of memory "
                       f"(the limit is {6} GiB) do this.", detail=detail)

    def _where_it_was(self) -> str:
        text = self._diagnostics.decode(errors="replace")
        tree, submission = self.sandbox.paths
        found = re.findall(r'File "([^"]+)", line (\d+)', text)
        lines = [(f, n) for f, n in found if f.startswith(submission)]
        if not lines:
            return ""
        # faulthandler prints the innermost frame first.
        path, line = lines[0]
        return self._display(f"{path}:{line}")

    def _display(self, where: str) -> str:
        _, submission = self.sandbox.paths
        if where.startswith(submission + "/"):
            return str(self.submission / where[len(submission) + 1:])
        return where


def _report(kind: str, message: str, where: str = "", timed_out: bool = False, detail: str = "") -> dict:
    return {"type": kind, "message": message, "where": where, "not_started": False, "timed_out": timed_out,
            "detail": detail}


class Pool:
    """The workers of one grading run (one submission), one per chapter, started when first needed."""

    def __init__(self, target: str, unsafe: bool = False, deadline: float = DEFAULT_DEADLINE):
        from .loading import target_dir
        from .sandbox import backend

        folder = target_dir(target)
        if folder is None:
            raise SystemExit("--secure grades a submission folder, not the reference solutions")
        self.folder = folder
        self.kind = backend()
        if self.kind is None and not unsafe:
            raise SystemExit(NO_SANDBOX)
        self.deadline = deadline
        self.workers: dict[str, Worker] = {}
        if self.kind == "uid":
            self._check_uid_isolation(folder)

    def runner(self, chapter: str) -> Worker:
        if chapter not in self.workers:
            self.workers[chapter] = Worker(self.folder, chapter, self.kind, self.deadline)
        return self.workers[chapter]

    @staticmethod
    def _check_uid_isolation(folder) -> None:
        """Without bubblewrap the worker sees the real file system: the answers, and the submission's own folder
        (a class's other submissions sit next to it, with the same permissions), must be unreadable to it."""
        from .catalog import SOLUTIONS
        from .sandbox import _UidLease, readable_by

        answers = sorted(SOLUTIONS.glob("ch*.py"))[:1]
        submitted = sorted(Path(folder).rglob("ch*.py"))[:1] if folder else []
        lease = _UidLease()
        try:
            readable = [p for p in answers + submitted if readable_by(lease.uid, p)]
        finally:
            lease.release()
        if readable and readable[0] in answers:
            raise SystemExit(f"--secure without bubblewrap: {readable[0]} is readable by other users, so a submission "
                             "could read the answers. Make the repository private to its owner (chmod -R go-rwx "
                             f"{SOLUTIONS.parent}), or install bubblewrap (apt-get install bubblewrap).")
        if readable:
            raise SystemExit(f"--secure without bubblewrap: {readable[0]} is readable by other users, so a submission "
                             "could read the others next to it. Make the submissions private to their owner "
                             f"(chmod -R go-rwx {Path(folder).parent}), or install bubblewrap (apt-get install bubblewrap).")

    def reference_attempts(self) -> dict[str, int]:
        return {c: w.reference_attempts for c, w in self.workers.items() if w.reference_attempts}

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()


NO_SANDBOX = ("--secure: this machine offers no way to isolate a submission (no bubblewrap with user namespaces, "
              "and not root for a separate user id). Install bubblewrap (apt-get install bubblewrap) or run as root; "
              "--unsafe grades anyway, with the submission's code in an unisolated process.")


if __name__ == "__main__":
    sys.exit(worker_main())
