"""The MNIST loader: the shipped 5,000 digits by default, full MNIST from files the user already has."""
import gzip
import pickle

import numpy as np
import pytest
import torch

from solutions.data import ENV_VAR, MnistError, load_mnist, read_idx


def write_idx(path, array, gz=False):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28))
    labels = np.arange(12) % 10
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    return tmp_path, images, labels


def test_default_subset_shapes_types_and_range(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    x_train, y_train, x_valid, y_valid = load_mnist()
    assert x_train.shape == (4000, 784) and x_valid.shape == (1000, 784)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0.0 <= float(x_train.min()) and float(x_train.max()) <= 1.0
    assert set(y_train.tolist()) == set(range(10)) and set(y_valid.tolist()) == set(range(10))
    again = load_mnist()
    assert all(torch.equal(a, b) for a, b in zip((x_train, y_train, x_valid, y_valid), again)), "the split is deterministic"


def test_idx_files_gzipped_or_not(idx_folder):
    folder, images, labels = idx_folder
    x_train, y_train, x_valid, y_valid = load_mnist(folder, n_valid=2)
    assert x_train.shape == (10, 784) and x_valid.shape == (2, 784)
    assert sorted(torch.cat([y_train, y_valid]).tolist()) == sorted(labels.tolist())
    pixels = torch.cat([x_train, x_valid]) * 255
    expected = torch.from_numpy(images.reshape(12, -1).astype(np.float32))
    assert sorted(map(tuple, pixels.round().tolist())) == sorted(map(tuple, expected.tolist())), \
        "every image arrives intact, scaled to [0, 1]"


def test_environment_variable_selects_the_files(idx_folder, monkeypatch):
    folder, _, _ = idx_folder
    monkeypatch.setenv(ENV_VAR, str(folder))
    assert load_mnist(n_valid=3)[2].shape == (3, 784)


def test_pickle(tmp_path):
    rng = np.random.default_rng(1)
    split = lambda n: (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n))  # noqa: E731
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as file:
        pickle.dump((split(5), split(3), split(2)), file)
    x_train, y_train, x_valid, y_valid = load_mnist(path)
    assert x_train.shape == (5, 784) and x_valid.shape == (3, 784) and y_valid.dtype == torch.int64


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(MnistError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_folder_without_files_is_a_clear_error(tmp_path):
    with pytest.raises(MnistError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_malformed_idx_files(tmp_path):
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x01\x02\x03\x04" + bytes(10))
    with pytest.raises(MnistError, match="magic"):
        read_idx(bad_magic)
    truncated = tmp_path / "short"
    write_idx(truncated, np.zeros((3, 28, 28)))
    truncated.write_bytes(truncated.read_bytes()[:-5])
    with pytest.raises(MnistError, match="header promises"):
        read_idx(truncated)


def test_labels_must_match_images(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(MnistError, match="3 labels for 4 images"):
        load_mnist(tmp_path, n_valid=1)


def test_corrupt_pickle(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(b"not a pickle"))
    with pytest.raises(MnistError, match="not an MNIST pickle"):
        load_mnist(path)
