"""Inner-problem data: scikit-learn's bundled 8x8 digits, or MNIST from local files.

Everything here is numpy only (no torch). A :class:`Dataset` holds features scaled to
[0, 1] as float64 values that are exactly representable in float32 (digits: integers 0..16
divided by 16; MNIST: bytes divided by 255 and rounded to float32 once), so float32 and
float64 runs see bit-identical inputs (STYLE habit 6).

Sample-size mapping (paper notes §5.3, Figs. 5-7). The paper's small-data setting trains the
784-100-20-10 MLP (80 730 parameters) on 1000 MNIST samples, about 1 sample per 81
parameters. The digits MLP 64-100-20-10 has 8 730 parameters, so the same ratio gives about
108 samples; :data:`SAMPLE_SIZES` uses 100 (TbT100 / TbV100+100 / TbT200, i.e. 10 samples per
class as MNIST's 1000 is 100 per class, scaled by the parameter ratio). The "all samples"
setting (MNIST: 60 000, TbV 50 000 + 10 000) maps to the whole digits training pool with the
same 5:1 split. With ``--mnist`` the paper's own sizes are used.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, ShapeMismatchError, UnknownOptionError

__all__ = [
    "LABEL_NOISE",
    "N_CLASSES",
    "SAMPLE_SIZES",
    "Dataset",
    "SampleSizes",
    "add_label_noise",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "sample_sizes",
]

#: Number of classes of both data sets.
N_CLASSES = 10

#: Label-noise probability of the paper's Fig. 6 (new label uniform over the 10 classes).
LABEL_NOISE = 0.2

#: Digits held out as the test set (stratified); the rest is the pool tasks are drawn from.
DIGITS_TEST_SIZE = 497


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into a training pool and a test set.

    Attributes
    ----------
    name : str
        ``"digits"`` or ``"mnist"``.
    x_pool, y_pool : numpy.ndarray
        Pool the tasks' training/validation samples are drawn from, shape (n, d) float64
        (values exactly representable in float32) and (n,) int64.
    x_test, y_test : numpy.ndarray
        Held-out test set.
    """

    name: str
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self) -> None:
        for xs, ys, label in (
            (self.x_pool, self.y_pool, "pool"),
            (self.x_test, self.y_test, "test"),
        ):
            if xs.ndim != 2 or ys.shape != (xs.shape[0],):
                raise ShapeMismatchError(
                    f"x_{label}", xs, f"expected (n, d) features and (n,) labels, got {ys.shape}"
                )
        if self.x_pool.shape[1] != self.x_test.shape[1]:
            raise ShapeMismatchError("x_test", self.x_test, "feature dimension differs from pool")

    @property
    def n_features(self) -> int:
        """Input dimension of the inner MLP."""
        return int(self.x_pool.shape[1])


@dataclass(frozen=True)
class SampleSizes:
    """Training/validation sample sizes of the TbT/TbV comparison for one data set.

    ``small`` is the paper's 1000 (TbT1000, TbV1000+1000, TbT2000); ``all_train`` and
    ``all_valid`` are the paper's 50 000 + 10 000 split of all samples (TbT uses their sum).
    """

    small: int
    all_train: int
    all_valid: int


#: Sample sizes per data set (see the module docstring for the mapping).
SAMPLE_SIZES: dict[str, SampleSizes] = {
    "digits": SampleSizes(small=100, all_train=1083, all_valid=217),
    "mnist": SampleSizes(small=1000, all_train=50000, all_valid=10000),
}


def sample_sizes(name: str, pool_size: int) -> SampleSizes:
    """The :data:`SAMPLE_SIZES` entry of ``name``, with "all" capped at the pool (5:1 split)."""
    if name not in SAMPLE_SIZES:
        raise UnknownOptionError("name", name, f"expected one of {sorted(SAMPLE_SIZES)}")
    s = SAMPLE_SIZES[name]
    total = min(s.all_train + s.all_valid, pool_size)
    valid = total // 6
    return SampleSizes(small=min(s.small, pool_size // 2), all_train=total - valid, all_valid=valid)


def _stratified_split(y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (pool, test) with ``n_test`` test points spread over classes proportionally."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(y.shape[0])
    # interleave classes so any prefix is (nearly) stratified
    ranks = np.empty_like(order)
    for c in np.unique(y):
        members = order[y[order] == c]
        ranks[members] = np.arange(members.shape[0]) * (y.shape[0] / members.shape[0])
    interleaved = order[np.argsort(ranks[order], kind="stable")]
    return np.sort(interleaved[n_test:]), np.sort(interleaved[:n_test])


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 samples, 64 features), no download.

    The test set is a stratified :data:`DIGITS_TEST_SIZE`-sample split drawn with ``seed``;
    features are pixel intensities 0..16 divided by 16 (exact in float32).
    """
    from sklearn.datasets import load_digits as _sk_load  # type: ignore[import-untyped]

    bunch = _sk_load()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    pool, test = _stratified_split(y, DIGITS_TEST_SIZE, seed)
    return Dataset("digits", x[pool], y[pool], x[test], y[test])


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) as a numpy array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ArgumentError("mnist", str(path), "not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ArgumentError("mnist", str(path), f"IDX header shape {shape} does not match size")
    return data.reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for candidate in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (directory / candidate).exists():
            return directory / candidate
    raise ArgumentError("mnist", str(directory), f"no {stem}[.gz] in the directory")


def load_mnist(path: str | Path) -> Dataset:
    """MNIST from local files: a directory of the four IDX files, or a ``.npz`` archive.

    The ``.npz`` must hold ``x_train``, ``y_train``, ``x_test``, ``y_test`` (the layout of
    ``keras.datasets.mnist``). Pixels are divided by 255 and rounded once to float32; the pool
    is the 60 000 training images and the test set the 10 000 test images.
    """
    p = Path(path)
    if p.is_dir():
        xs = _read_idx(_find(p, "train-images-idx3-ubyte"))
        ys = _read_idx(_find(p, "train-labels-idx1-ubyte"))
        xt = _read_idx(_find(p, "t10k-images-idx3-ubyte"))
        yt = _read_idx(_find(p, "t10k-labels-idx1-ubyte"))
    elif p.is_file() and p.suffix == ".npz":
        with np.load(p) as archive:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(archive.files)
            if missing:
                raise ArgumentError("mnist", str(p), f"archive lacks {sorted(missing)}")
            xs, ys, xt, yt = (archive[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    else:
        raise ArgumentError("mnist", str(p), "expected a directory of IDX files or a .npz file")

    def prep(images: np.ndarray) -> np.ndarray:
        flat = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
        return flat.astype(np.float32).astype(np.float64)

    return Dataset("mnist", prep(xs), ys.astype(np.int64), prep(xt), yt.astype(np.int64))


def load_dataset(mnist: str | Path | None = None, seed: int = 0) -> Dataset:
    """MNIST from ``mnist`` when given, else the bundled digits."""
    return load_digits(seed) if mnist is None else load_mnist(mnist)


def add_label_noise(y: np.ndarray, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Each label independently replaced, with ``probability``, by a uniform class (0..9).

    The new label may equal the old one (paper notes §5.3, Fig. 6). Returns a new array.
    """
    if not 0.0 <= probability <= 1.0:
        raise ArgumentError("probability", probability, "must lie in [0, 1]")
    flip: np.ndarray = np.asarray(rng.random(y.shape[0]) < probability)
    noisy = y.copy()
    noisy[flip] = rng.integers(0, N_CLASSES, size=int(flip.sum()))
    return noisy
