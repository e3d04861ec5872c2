"""Where a submission's code runs in class grading: a private copy, a sandbox, limits, and a kill that reaches
everything it started.

One `Sandbox` per (submission, chapter). Its job folder holds

- `tree/`: what the worker needs of this repository (`grader/`, the chapters' tests, and the reference
  modules of the *other* chapters, which later chapters build on), never the reference solutions of the chapter
  being graded, nor the mutants (written as edits of the reference) or the hints;
- `submission/`: a copy of the submission's `chNN_*.py` files.

Backends, strongest first (`backend()` picks the first this machine offers):

- `bwrap-root` (run as root, with Debian's `bubblewrap`): a new mount, PID, network, IPC and UTS namespace whose
  filesystem holds only the system's programs and libraries, the Python installation, `/grader` (the tree),
  `/submission` (read-only) and a small private `/tmp`; inside, the worker drops to a user id of its own (one per
  sandbox, from `UID_RANGE`) with no capabilities, so it can neither write nor read anything else, nor signal
  the grader. Killing the sandbox kills its PID namespace: every process it forked or `setsid`-ed dies with it.
- `bwrap-user` (not root, with user namespaces): the same namespaces under the grader's own user id.
- `uid` (root without bubblewrap, as on some Gradescope images): the worker runs as a user id of its own, in
  the job folder, with the repository made unreadable to it; every process of that user id is killed at the
  end.

Every backend sets resource limits (`LIMITS`: processes, memory, file size, open files, CPU time, no core
files). Without any backend, `backend()` returns None and the caller refuses to grade unless told `--unsafe`.
"""
from __future__ import annotations

import fcntl
import functools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from .catalog import ROOT, chapter_names

UID_RANGE = range(61000, 62000)
LIMITS = {  # prlimit(1) options
    "nproc": 256,  # processes of the sandbox's user id (a fork bomb stops here)
    "as": 6 * 2 ** 30,  # address space: 6 GiB (PyTorch on a CPU reserves about 1 GiB)
    "fsize": 64 * 2 ** 20,  # no file larger than 64 MiB
    "nofile": 256,
    "core": 0,
    "cpu": 1800,  # seconds of CPU time in the worker's whole life
}
TMP_SIZE = 256 * 2 ** 20  # the private /tmp (bwrap backends)
LOCKS = Path(tempfile.gettempdir()) / "grader-uids"


def _which(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.path.exists(p)), None)


def _python_paths() -> list[Path]:
    """What the worker's Python needs to read: its installation and the folders its packages come from."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(os.path.realpath(sys.executable)).parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(Path(value))
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            paths.add(Path(entry).resolve())
    root = ROOT.resolve()
    keep = [p.resolve() for p in paths if p.exists() and not (p.resolve() == root or root in p.resolve().parents)]
    # The outermost folders only: binding a folder binds what is inside it.
    keep = sorted(set(keep), key=lambda p: len(p.parts))
    outer: list[Path] = []
    for p in keep:
        if not any(q == p or q in p.parents for q in outer):
            outer.append(p)
    return outer


KINDS = ("bwrap-root", "bwrap-user", "uid")


@functools.lru_cache(maxsize=1)
def backend() -> str | None:
    """The strongest isolation this machine offers, or None. `GRADER_SANDBOX=uid` (or another kind, or `none`)
    asks for a weaker one, to test what a machine without bubblewrap does; a kind the machine cannot give
    raises."""
    wanted = os.environ.get("GRADER_SANDBOX", "")
    if wanted:
        if wanted == "none":
            return None
        if wanted not in KINDS:
            raise SystemExit(f"GRADER_SANDBOX={wanted!r}: use one of {', '.join(KINDS)} or none")
        if wanted == "uid" and not (os.geteuid() == 0 and _which("setpriv") and _which("prlimit")):
            raise SystemExit("GRADER_SANDBOX=uid needs root, setpriv and prlimit")
        if wanted.startswith("bwrap") and _strongest() != wanted:
            raise SystemExit(f"GRADER_SANDBOX={wanted}: this machine cannot run it")
        return wanted
    return _strongest()


def _strongest() -> str | None:
    bwrap = _which("bwrap")
    root = os.geteuid() == 0
    if bwrap and _which("prlimit"):
        if root and _which("setpriv") and _works(_bwrap_command(bwrap, root=True, uid=UID_RANGE[-1], tree=None,
                                                               submission=None, argv=["/bin/true"])):
            return "bwrap-root"
        if not root and _works(_bwrap_command(bwrap, root=False, uid=None, tree=None, submission=None,
                                              argv=["/bin/true"])):
            return "bwrap-user"
    if root and _which("setpriv") and _which("prlimit"):
        return "uid"
    return None


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _prlimit(prlimit: str) -> list[str]:
    return [prlimit, *(f"--{name}={value}" for name, value in LIMITS.items()), "--"]


def _setpriv(setpriv: str, uid: int) -> list[str]:
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--inh-caps=-all",
            "--bounding-set=-all"]


def _bwrap_command(bwrap: str, root: bool, uid: int | None, tree: Path | None, submission: Path | None,
                   argv: list[str]) -> list[str]:
    command = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session"]
    if root:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-user"]
    command += ["--perms", "0755", "--tmpfs", "/"]
    for top in ("usr", "etc", "opt"):
        if os.path.isdir(f"/{top}") and not os.path.islink(f"/{top}"):
            command += ["--ro-bind", f"/{top}", f"/{top}"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{top}"
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    made = {Path("/")}
    for path in _python_paths():
        if any(str(path).startswith(f"/{top}/") or str(path) == f"/{top}" for top in ("usr", "etc", "opt")):
            continue
        for parent in reversed(path.parents):
            if parent not in made:
                command += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        command += ["--ro-bind", str(path), str(path)]
    if tree is not None:
        command += ["--ro-bind", str(tree), "/grader"]
    if submission is not None:
        command += ["--ro-bind", str(submission), "/submission"]
    command += ["--size", str(TMP_SIZE), "--perms", "1777", "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
                "--chdir", "/tmp", "--setenv", "HOME", "/tmp", "--"]
    prlimit, setpriv = _which("prlimit"), _which("setpriv")
    if root:
        return command + _prlimit(prlimit) + _setpriv(setpriv, uid) + argv
    return command + _prlimit(prlimit) + argv


class _UidLease:
    """A user id from UID_RANGE that no other sandbox on this machine holds, for as long as the lease lives."""

    def __init__(self):
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        for uid in UID_RANGE:
            handle = open(LOCKS / f"{uid}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            return
        raise RuntimeError(f"every user id of {UID_RANGE.start}-{UID_RANGE.stop - 1} is in use")

    def release(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def build_tree(job: Path, chapter: str) -> Path:
    """`job/tree`: grader/, tests/test_*.py, and solutions/ without `chapter` (and the chapters that need it)."""
    tree = job / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "grader", tree / "grader", ignore=ignore)
    (tree / "tests").mkdir(parents=True)
    for path in (ROOT / "tests").glob("*.py"):
        shutil.copy2(path, tree / "tests" / path.name)
    (tree / "solutions").mkdir()
    names = chapter_names()
    graded = names.index(chapter) if chapter in names else len(names)
    for path in (ROOT / "solutions").glob("*.py"):
        stem = path.stem
        if stem in names and names.index(stem) >= graded:
            continue  # the graded chapter, and the later chapters that import it
        shutil.copy2(path, tree / "solutions" / path.name)
    (tree / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    return tree


def copy_submission(folder: Path, job: Path) -> Path:
    """`job/submission`: the submission's `chNN_*.py` files (no folders, no links, nothing else)."""
    target = job / "submission"
    target.mkdir()
    for path in sorted(folder.glob("ch[0-9][0-9]_*.py")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 2 * 2 ** 20:
            shutil.copyfile(path, target / path.name)
    return target


class Sandbox:
    """The job folder and the command that runs a worker for one chapter of one submission."""

    def __init__(self, submission: Path, chapter: str, kind: str | None):
        self.kind = kind
        self.job = Path(tempfile.mkdtemp(prefix="grader-job-"))
        self.tree = build_tree(self.job, chapter)
        self.submission = copy_submission(submission, self.job)
        self.lease = _UidLease() if kind in ("bwrap-root", "uid") else None
        self.process: subprocess.Popen | None = None
        if kind == "uid":
            # The job folder belongs to the worker's user id, and no one else may enter it; inside, the files
            # are the grader's and read-only. (The repository itself must be unreadable to that user id:
            # `Pool` checks.)
            for path in [self.tree, *self.tree.rglob("*"), self.submission, *self.submission.rglob("*")]:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
            os.chown(self.job, self.lease.uid, self.lease.uid)
            os.chmod(self.job, 0o700)

    @property
    def paths(self) -> tuple[str, str]:
        """(tree, submission) as the worker sees them."""
        if self.kind in ("bwrap-root", "bwrap-user"):
            return "/grader", "/submission"
        return str(self.tree), str(self.submission)

    def command(self, argv: list[str]) -> list[str]:
        if self.kind in ("bwrap-root", "bwrap-user"):
            return _bwrap_command(_which("bwrap"), self.kind == "bwrap-root", self.lease.uid if self.lease else None,
                                  self.tree, self.submission, argv)
        if self.kind == "uid":
            return _prlimit(_which("prlimit")) + _setpriv(_which("setpriv"), self.lease.uid) + argv
        return _prlimit(_which("prlimit")) + argv if _which("prlimit") else argv

    def start(self, argv: list[str]) -> subprocess.Popen:
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        cwd = "/" if self.kind in ("bwrap-root", "bwrap-user") else str(self.job)
        self.process = subprocess.Popen(self.command(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
        return self.process

    def kill(self) -> None:
        """Kill the worker and everything it started; wait until none of it is left."""
        process, self.process = self.process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.lease is not None:
            kill_uid(self.lease.uid)

    def close(self) -> None:
        self.kill()
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        shutil.rmtree(self.job, ignore_errors=True)


def processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_uid(uid: int, patience: float = 10.0) -> bool:
    """SIGKILL every process of `uid` until none is left (a fork loop cannot outrun it); True when none is."""
    setpriv = _which("setpriv")
    deadline = time.time() + patience
    while time.time() < deadline:
        pids = processes_of(uid)
        if not pids:
            return True
        if setpriv and os.geteuid() == 0:
            # kill(-1) as that user: every process it owns, in one system call, new forks included.
            subprocess.run([setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "kill", "-KILL", "-1"],
                           capture_output=True)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)
    return not processes_of(uid)


def readable_by(uid: int, path: Path) -> bool:
    """Could a process of `uid` read `path`? (Checked by trying, as that user.)"""
    setpriv = _which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        return os.access(path, os.R_OK)
    completed = subprocess.run([setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/usr/bin/head", "-c1",
                                str(path)], capture_output=True)
    return completed.returncode == 0
