"""Data loading, label noise, sample sizes and mini-batches of the learned-optimizer suite."""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from verify.errors import ArgumentError, UnknownOptionError
from verify.learned import data
from verify.learned.inner import BATCH_SIZE, MLPLayout, batch_indices, init_params

pytest.importorskip("sklearn")

#: Width of the binomial acceptance band for the label-noise rate, in standard deviations
#: (a false alarm has probability < 1e-6 under the null).
SIGMAS = 5.0


def test_digits_split_is_stratified_and_float32_exact() -> None:
    ds = data.load_digits(seed=0)
    assert ds.x_pool.shape == (1300, 64) and ds.x_test.shape == (data.DIGITS_TEST_SIZE, 64)
    counts = np.bincount(ds.y_test, minlength=10)
    assert counts.max() - counts.min() <= 3
    for x in (ds.x_pool, ds.x_test):
        assert np.array_equal(x.astype(np.float32).astype(np.float64), x)
        assert x.min() >= 0 and x.max() <= 1
    again = data.load_digits(seed=0)
    assert np.array_equal(again.y_test, ds.y_test)


def test_label_noise_rate() -> None:
    y = np.arange(200_000) % 10
    noisy = data.add_label_noise(y, data.LABEL_NOISE, np.random.default_rng(1))
    changed = float(np.mean(noisy != y))
    # a replaced label differs from the original with probability 9/10
    p = data.LABEL_NOISE * 0.9
    band = SIGMAS * math.sqrt(p * (1 - p) / y.size)
    assert abs(changed - p) <= band, (changed, p, band)
    assert set(np.unique(noisy)) <= set(range(10))
    with pytest.raises(ArgumentError) as info:
        data.add_label_noise(y, 1.5, np.random.default_rng(0))
    assert info.value.argument == "probability"


def test_sample_sizes_mapping() -> None:
    s = data.sample_sizes("digits", 1300)
    assert s.small == 100 and s.all_train + s.all_valid == 1300
    assert s.all_train == 5 * s.all_valid + (s.all_train - 5 * s.all_valid)  # 5:1 up to rounding
    assert abs(s.all_train / s.all_valid - 5.0) < 0.05
    m = data.sample_sizes("mnist", 60000)
    assert (m.small, m.all_train, m.all_valid) == (1000, 50000, 10000)
    # the digits size keeps the paper's samples-per-parameter ratio within 10 %
    paper_ratio = 1000 / MLPLayout(784).n_params
    assert abs(s.small / MLPLayout(64).n_params / paper_ratio - 1) < 0.1
    with pytest.raises(UnknownOptionError):
        data.sample_sizes("cifar", 10)


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_from_idx_files(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    xs, xt = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 256, (5, 28, 28))
    ys, yt = rng.integers(0, 10, 12), rng.integers(0, 10, 5)
    for name, arr in (
        ("train-images-idx3-ubyte", xs),
        ("train-labels-idx1-ubyte", ys),
        ("t10k-images-idx3-ubyte", xt),
        ("t10k-labels-idx1-ubyte", yt),
    ):
        _write_idx(tmp_path / name, arr, compress)
    ds = data.load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.x_pool.shape == (12, 784) and ds.x_test.shape == (5, 784)
    assert np.array_equal(ds.y_pool, ys) and np.array_equal(ds.y_test, yt)
    expected = (xs.reshape(12, -1) / 255.0).astype(np.float32).astype(np.float64)
    assert np.array_equal(ds.x_pool, expected)


def test_mnist_from_npz_and_bad_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (6, 28, 28)),
        y_train=np.arange(6),
        x_test=rng.integers(0, 256, (3, 28, 28)),
        y_test=np.arange(3),
    )
    ds = data.load_dataset(path)
    assert ds.x_pool.shape == (6, 784) and list(ds.y_test) == [0, 1, 2]
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 4)))
    with pytest.raises(ArgumentError) as info:
        data.load_mnist(tmp_path / "bad.npz")
    assert info.value.argument == "mnist"
    with pytest.raises(ArgumentError):
        data.load_mnist(tmp_path / "missing")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01")
    with pytest.raises(ArgumentError):
        data.load_mnist(tmp_path)


def test_batches_are_epochs_without_repeats() -> None:
    b = batch_indices(100, 10, np.random.default_rng(0))
    assert b.shape == (10, BATCH_SIZE)
    per_epoch = 100 // BATCH_SIZE
    for e in range(10 // per_epoch):
        chunk = b[e * per_epoch : (e + 1) * per_epoch].ravel()
        assert len(set(chunk.tolist())) == chunk.size
    assert batch_indices(5, 3, np.random.default_rng(0)).shape == (3, 5)
    with pytest.raises(ArgumentError):
        batch_indices(0, 3, np.random.default_rng(0))


def test_inner_init_scale() -> None:
    layout = MLPLayout(64)
    assert layout.n_params == 8730 and MLPLayout(784).n_params == 80730
    w = init_params(layout, np.random.default_rng(0))
    assert np.array_equal(w.astype(np.float32).astype(np.float64), w)
    start = 0
    for shape, size in zip(layout.shapes, layout.sizes, strict=True):
        part = w[start : start + size]
        start += size
        if size >= 100:  # sample std within 20 % of 1.2/sqrt(shape[0])
            assert abs(part.std() / (1.2 / math.sqrt(shape[0])) - 1) < 0.2
