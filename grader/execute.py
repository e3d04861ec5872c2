"""Execute the book's notebooks as another machine would, and report the first cell that fails.

`python -m grader.execute [NOTEBOOK ...] [--other-kernels] [--jobs N]` runs each notebook top to bottom
in a fresh kernel and compares nothing with the stored outputs: it only requires every cell to run, so
every assertion that guards a claim of the prose must hold.

With `--other-kernels` the kernel starts with environment variables that send PyTorch down other code
paths, the way another reader's CPU would: scalar kernels instead of AVX2/AVX-512 (`ATEN_CPU_CAPABILITY`),
oneDNN convolutions limited to SSE4.1 (`DNNL_MAX_CPU_ISA`) and MKL's conditional-reproducibility mode
(`MKL_CBWR`). Each of them changes the rounding of a training run, and a few hundred SGD steps turn that
into a different run: a claim that only held on the machine the book was written on fails here.
`python -m grader check` runs nbval with the same variables (so that the outputs it compares must also be
the same there); this command is for a quick try of one notebook while writing it, and it can save the
executed copy (`--out`). CONTRIBUTING.md explains the rule both enforce.

`--nudge K` goes further, for a claim you are not sure of: it runs the notebook as K different machines
would, nudging every parameter by a random relative 1e-4 (`--scale`) whenever an optimiser is made (the same
nudge for the same weights, as one machine rounds the same way twice), and prints, for each run, whether
every cell ran and the numbers the notebook glued, with their range over the K runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .catalog import ROOT

OTHER_KERNELS = {
    "ATEN_CPU_CAPABILITY": "default",  # PyTorch's scalar kernels instead of AVX2 / AVX-512
    "DNNL_MAX_CPU_ISA": "SSE41",  # oneDNN (convolutions) on another instruction set
    "MKL_CBWR": "COMPATIBLE",  # MKL (matrix products) in its conditional-reproducibility mode
    "OMP_NUM_THREADS": "1",  # one thread where a notebook does not choose: other reductions, and no oversubscription
}
CELL_TIMEOUT = 900
NUDGE_STARTUP = '''# Written by grader.execute --nudge: every optimiser made in this kernel first nudges its parameters.
import os
import torch

_seed, _scale = int(os.environ["GRADER_NUDGE"]), float(os.environ["GRADER_NUDGE_SCALE"])


def _nudging(cls):
    original = cls.__init__

    def __init__(self, params, *args, **kwargs):
        params = list(params)
        with torch.no_grad():
            for group in params:
                for p in (group["params"] if isinstance(group, dict) else [group]):
                    key = int(abs(p.detach().double().sum().item()) * 1e6) % (2 ** 31)  # same weights, same nudge
                    noise = torch.randn(p.shape, dtype=torch.float64,
                                        generator=torch.Generator().manual_seed(_seed * 1_000_003 + key))
                    p.mul_(1 + _scale * noise.to(p.dtype).to(p.device))
        original(self, params, *args, **kwargs)

    cls.__init__ = __init__


for _cls in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
    _nudging(_cls)
'''


def book_env(extra: dict | None = None) -> dict:
    """The environment the notebooks run in: this checkout's `solutions` and `grader` come first on the
    path, even where another copy of the repository is the one installed in editable mode, and `check()`
    cells grade fresh stubs (grader/notebook.py), as in the built book."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "GRADER_BOOK_BUILD": "1", **(extra or {})}


def execute(path: Path, env: dict, out: Path | None = None) -> dict:
    """Run one notebook in a fresh kernel started with `env`; `{"notebook", "seconds", "error"}`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    started = time.time()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        error = None
        try:
            client.execute()
        except CellExecutionError as failure:
            index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
                o.get("output_type") == "error" for o in c.get("outputs", []))), None)
            error = f"cell {index}: {failure.ename}: {failure.evalue}".rstrip()
            source = nb.cells[index].source if index is not None else ""
            lines = source.splitlines()
            error += "\n      " + "\n      ".join(lines[:12]) + ("\n      ..." if len(lines) > 12 else "")
        except Exception as failure:  # noqa: BLE001 - a dead kernel, a timeout
            error = f"{type(failure).__name__}: {str(failure).splitlines()[0] if str(failure) else ''}"
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if out is not None:
        nbformat.write(nb, out)
    return {"notebook": path.name, "seconds": round(time.time() - started, 1), "error": error}


def _one(path: Path, other_kernels: bool) -> dict:
    """Execute in a subprocess, so that notebooks run side by side and the environment stays private."""
    command = [sys.executable, "-m", "grader.execute", "--single", str(path)]
    if other_kernels:
        command.append("--other-kernels")
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=book_env())
    lines = completed.stdout.strip().splitlines()
    if completed.returncode not in (0, 1) or not lines:
        return {"notebook": path.name, "seconds": 0.0,
                "error": f"the executor crashed:\n{(completed.stdout + completed.stderr)[-2000:]}"}
    return json.loads(lines[-1])


def run_all(paths: list[Path], other_kernels: bool, jobs: int = 2) -> list[dict]:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda p: _one(p, other_kernels), paths))


def glued(path: Path) -> dict:
    """The values a notebook glued (myst-nb `glue`), as text."""
    import nbformat

    values = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = output.get("data", {})
                values[name] = data.get("application/papermill.record/text/plain", data.get("text/plain", ""))
    return values


def nudged(path: Path, runs: int, scale: float) -> int:
    """Run `path` as `runs` other machines would; print what each gave and the range of every glued number."""
    failed, seen = 0, {}
    with tempfile.TemporaryDirectory() as tmp:
        startup = Path(tmp) / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00_nudge.py").write_text(NUDGE_STARTUP)
        for k in range(runs):
            out = Path(tmp) / f"run{k}.ipynb"
            env = book_env({"IPYTHONDIR": str(Path(tmp) / "ipython"), "GRADER_NUDGE": str(k + 1),
                            "GRADER_NUDGE_SCALE": str(scale), "OMP_NUM_THREADS": "1"})
            result = execute(path, env, out)
            failed += bool(result["error"])
            print(f"run {k + 1}: {result['seconds']:.0f} s, {result['error'] or 'every cell ran'}", flush=True)
            for name, value in glued(out).items():
                seen.setdefault(name, []).append(value)
    for name, values in seen.items():
        try:
            numbers = [float(v.removeprefix("np.float64(").rstrip(")")) for v in values]
            print(f"  {name:<28} {min(numbers):.4g} .. {max(numbers):.4g}")
        except ValueError:
            print(f"  {name:<28} {sorted(set(values))[:4]}")
    print(f"{runs - failed} of {runs} nudged runs passed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook of book/")
    parser.add_argument("--other-kernels", action="store_true", help="imitate another CPU (see the module docstring)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help="with one notebook: write the executed copy here")
    parser.add_argument("--nudge", type=int, default=0, metavar="K",
                        help="run one notebook as K other machines would (see the module docstring)")
    parser.add_argument("--scale", type=float, default=1e-4, help="relative size of a --nudge (default 1e-4)")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "book").glob("*.ipynb"))
    extra = OTHER_KERNELS if args.other_kernels else {}
    if args.nudge:
        return nudged(paths[0], args.nudge, args.scale)
    if args.single or args.out:
        with tempfile.TemporaryDirectory() as tmp:
            result = execute(paths[0], book_env(extra), Path(args.out) if args.out else Path(tmp) / "out.ipynb")
        print(json.dumps(result))
        return 1 if result["error"] else 0
    results = run_all(paths, args.other_kernels, args.jobs)
    for result in results:
        print(f"{result['notebook']:<28} {result['seconds']:6.1f} s  {result['error'] or 'ok'}")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
