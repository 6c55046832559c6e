"""Validated problem definitions: quadratics and least-squares tasks.

A problem holds *exact* float64 data. Every quantity the suite computes about it (certified
ground truth, theorem constants) refers to the exact rational numbers those floats represent,
never to a rounded derivative of them.

* :class:`Quadratic` -- f(w) = 1/2 w^T H w - b^T w + c with start point ``w0`` (paper notes §2.3;
  the paper's case is ``b = 0, c = 0``).
* :class:`LeastSquares` -- f(w) = ||X w - y||^2 / (2n) with start ``w0`` (default 0), i.e. the
  quadratic with H = X^T X / n, b = X^T y / n, c = y^T y / (2n), held as (X, y) so that H is the
  exact Gram matrix, not a rounded copy (paper notes §2.4).

GD on either is w_{k+1} = w_k - eta * grad f(w_k) = (I - eta H) w_k + eta b.

Certified facts about H come from :mod:`verify.certified` (definiteness, the eigendecomposition),
which knows no problem class: the problems bind their exact H to it (:meth:`Quadratic.hessian_arb`,
:meth:`Quadratic.certified_eig`).

Caching
-------
Problems are frozen, so anything derived from their data can be kept for the life of the
instance. There is one scheme: ``problem.cached(key, compute)`` returns the value stored under
``key``, computing it once. Keys are ``"<module>:<name>"`` (``@<prec>`` for a working precision);
no other code reads or writes the store. The keys in use:

=================================  ===============================================  ==============
key                                value                                            written by
=================================  ===============================================  ==============
``problems:definiteness``          certified :data:`Definiteness` class of H        problems
``problems:eigh``                  float64 ``eigh`` of H, computed only when the    problems
                                   Cholesky definiteness test is inconclusive or an
                                   eigendecomposition needs it
``problems:eig``                   ``{prec: CertifiedEig}``, the certified          problems
                                   decompositions of H by working precision
``problems:spectral``              enclosures of L, alpha, c_1, c_d, c_min          problems
``problems:quadratic``             :meth:`LeastSquares.as_quadratic`                problems
``truth.engine:H``, ``:X``         the float64 matrix as an exact Arb matrix        truth.engine
``truth.engine:hessian@<prec>``    Arb enclosure of the exact H                     truth.engine
``truth.engine:vectors@<prec>``    (w0, b) as Arb vectors (b a ball for LS)         truth.engine
``truth.engine:wstar@<prec>``      enclosure of H^{-1} b, or None                   truth.engine
``truth.engine:z@<prec>``,         Q^{-1} w0, Q^{-1} (w0 - w*), Q^{-1} b in the     truth.engine
``:z-shifted@``, ``:beta@``        certified eigenbasis
``paper.theory:modes``             certified (eigenvalue, c_i^2) pairs of H         paper.theory
``sweep.case:truth``               ``{(eta hex, t, objective, prec bits):           sweep.case
                                   Enclosure}``, the certified F' of sweep cases
=================================  ===============================================  ==============

One cache is deliberately not here: the pytest plugin's ``l2l_truth`` keeps a bounded
first-in-first-out map of enclosures keyed by the problem's *content* (its fingerprint), because
Hypothesis rebuilds equal problems as new objects (replays, one run per dtype) and a per-object
cache would recompute the same certified truth for each of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .certified.definiteness import Definiteness, certified_definiteness
from .certified.eigen import MIN_EIG_PREC, CertifiedEig, certified_eig, spectral_constants
from .certified.enclosure import Enclosure
from .errors import (
    InvalidMatrixError,
    NonFiniteError,
    NotCertifiedError,
    NotPositiveDefiniteError,
    NotSymmetricError,
    ShapeMismatchError,
    UnknownOptionError,
)

__all__ = ["Definiteness", "LeastSquares", "Problem", "Quadratic"]

F64 = NDArray[np.float64]
T = TypeVar("T")


def _as_exact_float64(value: ArrayLike, name: str, ndim: int) -> F64:
    """Copy ``value`` to a read-only float64 array, refusing anything that would change a value."""
    try:
        raw = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types here
        raise ShapeMismatchError(name, value, f"cannot be read as an array ({exc})") from exc
    if raw.dtype == object or raw.dtype.kind not in "biuf":
        raise ShapeMismatchError(
            name, value, f"must be a real numeric array, got dtype {raw.dtype}"
        )
    if raw.ndim != ndim:
        raise ShapeMismatchError(
            name, value, f"must have {ndim} dimension(s), got shape {raw.shape}"
        )
    arr = raw.astype(np.float64)
    if raw.dtype.kind in "iu":
        back = arr.astype(raw.dtype)
        if not np.array_equal(back, raw):
            raise InvalidMatrixError(
                name, value, "integer entries not exactly representable in float64"
            )
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise NonFiniteError(name, value, f"entry {tuple(int(i) for i in bad)} is not finite")
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr.setflags(write=False)
    return arr


def _check_symmetric(H: F64, name: str) -> None:
    if H.shape[0] != H.shape[1]:
        raise ShapeMismatchError(name, H, f"must be square, got shape {H.shape}")
    if not np.array_equal(H, H.T):
        i, j = np.argwhere(H != H.T)[0]
        raise NotSymmetricError(
            name,
            H,
            f"must be exactly symmetric; {name}[{i},{j}]={H[i, j]!r} != "
            f"{name}[{j},{i}]={H[j, i]!r}",
        )


class _ProblemBase:
    """What both problem classes share: the cache and the certified spectrum of H (mixin)."""

    _cache: dict[str, object]
    w0: F64

    @property
    def d(self) -> int:  # pragma: no cover - provided by the subclasses
        raise NotImplementedError

    @property
    def definiteness(self) -> Definiteness:  # pragma: no cover - provided by the subclasses
        raise NotImplementedError

    def hessian_arb(self, prec: int) -> Any:  # pragma: no cover - provided by the subclasses
        """Arb enclosure of the exact H at working precision ``prec``."""
        raise NotImplementedError

    def hessian_float64(self) -> F64:  # pragma: no cover - provided by the subclasses
        """H rounded to float64 (exactly symmetric); a starting point, never ground truth."""
        raise NotImplementedError

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """The value stored under ``key`` for this problem, computing it once with ``compute``.

        The one caching scheme on problems (see the key table in the module docstring).
        Problems are frozen, so a stored value is never invalidated; the cache lives and dies
        with the instance. When ``compute`` raises, nothing is stored.

        Parameters
        ----------
        key : str
            ``"<module>:<name>"``, one of the documented keys.
        compute : callable
            Called without arguments, only when ``key`` is not stored yet.
        """
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        value = compute()
        self._cache[key] = value
        return value

    def certified_eig(self, prec: int) -> CertifiedEig:
        """The certified eigendecomposition of the exact H at ``prec`` bits or more.

        See :func:`verify.certified.eigen.certified_eig` for the guarantee.

        Cached per problem and precision; a decomposition at a higher precision serves a
        lower one, and a lower one is the starting point of a higher one.
        """
        decompositions: dict[int, CertifiedEig] = self.cached("problems:eig", dict)
        return certified_eig(
            self.hessian_arb,
            prec,
            start=lambda: self._float64_eigh()[1],
            decompositions=decompositions,
            fast=self._fast_eig_source(),
        )

    def _float64_eigh(self) -> tuple[F64, F64]:
        """float64 ``eigh`` of H, cached: guides the proofs, never trusted."""
        return self.cached("problems:eigh", lambda: np.linalg.eigh(self.hessian_float64()))

    def _fast_eig_source(self) -> Callable[[], tuple[F64, F64, F64]] | None:
        """(H, eigenvalues, eigenvectors) when H is exactly a float64 matrix (the float64
        engine of :func:`verify.certified.eigen.certified_eig`), else None."""
        return None

    def spectral_enclosures(self) -> dict[str, Enclosure]:
        """Certified enclosures of L = lambda_max(H), alpha = lambda_min(H) and c_min.

        c_min = min(|<w0, u_1>|, |<w0, u_d>|) (paper notes §2.3) is included only when both
        extreme eigenvalues are certified simple (otherwise the eigenvector is not unique and
        :attr:`c_min` raises :class:`~verify.errors.NotCertifiedError`).

        Guarantee
        ---------
        Each enclosure is proven (certified eigendecomposition, see
        :mod:`verify.certified.eigen`), relative radius <= 2**-60.
        """
        return self.cached("problems:spectral", self._spectral_enclosures)

    def _spectral_enclosures(self) -> dict[str, Enclosure]:
        out = spectral_constants(self.hessian_arb, self.w0, self.certified_eig, prec=MIN_EIG_PREC)
        if isinstance(self, LeastSquares) and self.n < self.d:
            # rank(X^T X) <= n < d: the smallest eigenvalue is exactly zero
            out["alpha"] = Enclosure.exact(0)
        elif out["alpha"].lower < 0 and self.definiteness != "semidefinite_at_roundoff":
            # H is proven PSD, so alpha >= 0 (intersect the enclosure with [0, inf))
            out["alpha"] = Enclosure(Fraction(0), max(out["alpha"].upper, Fraction(0)))
        return out

    @property
    def L(self) -> float:
        """Largest eigenvalue of H, correctly rounded to float64 from a certified enclosure."""
        return self.spectral_enclosures()["L"].to_float("float64")

    @property
    def alpha(self) -> float:
        """Smallest eigenvalue of H, correctly rounded to float64 from a certified enclosure."""
        return self.spectral_enclosures()["alpha"].to_float("float64")

    @property
    def c_min(self) -> float:
        """min(|c_1|, |c_d|) of paper notes §2.3, correctly rounded from a certified enclosure."""
        enc = self.spectral_enclosures().get("c_min")
        if enc is None:
            raise NotCertifiedError(
                "c_min undefined: an extreme eigenvalue of H is not certified simple",
                prec_bits=128,
                achieved_rel=float("inf"),
            )
        return enc.to_float("float64")


@dataclass(frozen=True, eq=False, init=False)
class Quadratic(_ProblemBase):
    """The quadratic f(w) = 1/2 w^T H w - b^T w + c with a GD start point ``w0``.

    Parameters
    ----------
    H : array_like, shape (d, d)
        Exactly symmetric, finite, positive semidefinite (see Notes).
    w0 : array_like, shape (d,)
        Start point of gradient descent.
    b : array_like, shape (d,), optional
        Linear term (default zero).
    c : float, optional
        Constant term (default 0).

    Notes
    -----
    Positive semidefiniteness is checked with a certified test (:attr:`definiteness`):
    ``"positive_definite"`` when proven; ``"positive_semidefinite"`` when proven exactly (small
    singular matrices, exact rational LDL^T); ``"semidefinite_at_roundoff"`` when the smallest
    eigenvalue is proven to lie in [-delta, delta] with delta at the level of float64 roundoff
    of H but its sign is not decided. A matrix with a proven negative eigenvalue raises
    :class:`~verify.errors.NotPositiveDefiniteError`. Everything else about the problem is
    exact: the values held are the float64 values given, bit for bit.

    Examples
    --------
    >>> q = Quadratic([[2.0, 0.0], [0.0, 1.0]], w0=[0.6, 0.8])
    >>> q.d, q.definiteness
    (2, 'positive_definite')
    >>> q.loss([1.0, 0.0])
    1.0
    """

    H: F64
    w0: F64
    b: F64 | None = None
    c: float = 0.0
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __init__(
        self, H: ArrayLike, w0: ArrayLike, b: ArrayLike | None = None, c: float = 0.0
    ) -> None:
        object.__setattr__(self, "_cache", {})
        Ha = _as_exact_float64(H, "H", 2)
        _check_symmetric(Ha, "H")
        d = Ha.shape[0]
        if d == 0:
            raise ShapeMismatchError("H", H, "must be at least 1x1")
        w0a = _as_exact_float64(w0, "w0", 1)
        if w0a.shape != (d,):
            raise ShapeMismatchError(
                "w0", w0, f"must have shape ({d},) to match H, got {w0a.shape}"
            )
        ba = None
        if b is not None:
            ba = _as_exact_float64(b, "b", 1)
            if ba.shape != (d,):
                raise ShapeMismatchError(
                    "b", b, f"must have shape ({d},) to match H, got {ba.shape}"
                )
            if not np.any(ba):
                ba = None
        ca = _as_exact_float64(c, "c", 0)
        H, w0, b, c = Ha, w0a, ba, float(ca)
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "w0", w0)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        # prove H positive semidefinite up front (raises NotPositiveDefiniteError otherwise)
        self.cached("problems:definiteness", self._certified_definiteness)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_spectrum(
        cls,
        eigenvalues: ArrayLike,
        *,
        w0: ArrayLike | None = None,
        seed: int = 0,
    ) -> Quadratic:
        """A quadratic with (approximately) the given spectrum in a random orthonormal basis.

        H = fl(Q diag(eigenvalues) Q^T), symmetrized exactly, with Q Haar-distributed from
        ``seed``. The eigenvalues of the stored float64 H differ from the requested ones by
        float64 roundoff (about 1e-16 * max|eigenvalue| * d); all certified quantities refer
        to the stored H. ``w0`` defaults to a unit vector uniform on the sphere (float64
        normalized, so ||w0|| = 1 up to one rounding).
        """
        lam = _as_exact_float64(eigenvalues, "eigenvalues", 1)
        if lam.size == 0:
            raise ShapeMismatchError("eigenvalues", eigenvalues, "must be non-empty")
        if np.any(lam <= 0):
            raise NotPositiveDefiniteError(
                "eigenvalues",
                eigenvalues,
                "must all be > 0 (a zero eigenvalue does not survive rounding H to float64: the "
                "stored matrix may be indefinite; build singular problems with LeastSquares)",
            )
        rng = np.random.default_rng(seed)
        d = lam.size
        G = rng.standard_normal((d, d))
        Q, R = np.linalg.qr(G)
        Q = Q * np.sign(np.diag(R))
        M = (Q * lam) @ Q.T
        H = (M + M.T) / 2.0
        start = _unit_vector(rng, d) if w0 is None else w0
        return cls(H, start)

    @classmethod
    def random(
        cls,
        d: int,
        *,
        seed: int,
        kind: Literal["wishart", "wishart2"] = "wishart",
    ) -> Quadratic:
        """A random quadratic as in the paper's experiments.

        ``kind="wishart"``: H = X^T X with X a d x d standard Gaussian matrix (the authors'
        code, paper notes §5.1; alpha is typically tiny). ``kind="wishart2"``: H = X X^T with X
        d x 2d (the remark of paper notes §2.3; alpha and L - alpha are Omega(d)).
        ``w0`` is a unit vector uniform on the sphere. Deterministic in ``seed``.
        """
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ShapeMismatchError("d", d, "must be a positive integer")
        rng = np.random.default_rng(seed)
        if kind == "wishart":
            X = rng.standard_normal((int(d), int(d)))
            M = X.T @ X
        elif kind == "wishart2":
            X = rng.standard_normal((int(d), 2 * int(d)))
            M = X @ X.T
        else:
            raise UnknownOptionError("kind", kind, "must be 'wishart' or 'wishart2'")
        H = (M + M.T) / 2.0
        return cls(H, _unit_vector(rng, int(d)))

    # ------------------------------------------------------------------ basic API
    @property
    def d(self) -> int:
        """Dimension."""
        return int(self.H.shape[0])

    @property
    def definiteness(self) -> Definiteness:
        """Certified definiteness class of H (see class Notes)."""
        return self.cached("problems:definiteness", self._certified_definiteness)

    def _certified_definiteness(self) -> Definiteness:
        # the float64 Cholesky test first; the float64 eigh (cached: it seeds the certified
        # eigensolver too) only guides the fallback proof when that test is inconclusive
        return certified_definiteness(self.H, "H", eigh=self._float64_eigh)

    def _fast_eig_source(self) -> Callable[[], tuple[F64, F64, F64]] | None:
        def source() -> tuple[F64, F64, F64]:
            lam, X = self._float64_eigh()
            return self.H, lam, X

        return source

    def hessian_arb(self, prec: int) -> Any:
        """Arb matrix of H at working precision ``prec`` (exact: H is float64 data)."""
        from flint import arb_mat, ctx

        with ctx.workprec(prec):
            return arb_mat(self.H.tolist())

    def hessian_float64(self) -> F64:
        """H itself."""
        return self.H

    @property
    def is_homogeneous(self) -> bool:
        """True when b = 0 (the paper's f(w) = 1/2 w^T H w + c)."""
        return self.b is None

    @property
    def b_vector(self) -> F64:
        """``b`` as an array (zeros when absent)."""
        return np.zeros(self.d) if self.b is None else self.b

    def loss(self, w: ArrayLike) -> float:
        """f(w) in float64 (a convenience, not ground truth)."""
        v = np.asarray(w, dtype=np.float64)
        return float(0.5 * v @ self.H @ v - self.b_vector @ v + self.c)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the exact data, for caching and provenance."""
        h = hashlib.sha256(b"Quadratic")
        for arr in (self.H, self.w0, self.b_vector, np.array([self.c])):
            h.update(arr.tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        fp = self.fingerprint[:12]
        return f"Quadratic(d={self.d}, homogeneous={self.is_homogeneous}, fingerprint={fp})"


@dataclass(frozen=True, eq=False, init=False)
class LeastSquares(_ProblemBase):
    """Least-squares loss f(w) = ||X w - y||^2 / (2n) on a data set, with GD start ``w0``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one sample per row.
    y : array_like, shape (n,)
        Targets.
    w0 : array_like, shape (d,), optional
        GD start (default 0, as in paper notes §2.4).

    Notes
    -----
    Equivalent to :class:`Quadratic` with H = X^T X / n, b = X^T y / n, c = y^T y / (2n), but
    those are *not* rounded: the certified engine forms them exactly from X and y, so H is an
    exact Gram matrix (positive semidefinite by construction, possibly singular when n < d).
    :meth:`as_quadratic` gives the float64-rounded quadratic for float backends.

    Examples
    --------
    >>> ls = LeastSquares([[1.0, 0.0], [0.0, 2.0]], [1.0, 2.0])
    >>> ls.loss([1.0, 1.0])
    0.0
    >>> ls.n, ls.d
    (2, 2)
    """

    X: F64
    y: F64
    w0: F64
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, X: ArrayLike, y: ArrayLike, w0: ArrayLike | None = None) -> None:
        object.__setattr__(self, "_cache", {})
        Xa = _as_exact_float64(X, "X", 2)
        n, d = Xa.shape
        if n == 0 or d == 0:
            raise ShapeMismatchError(
                "X", X, f"must have at least one row and column, got {Xa.shape}"
            )
        ya = _as_exact_float64(y, "y", 1)
        if ya.shape != (n,):
            raise ShapeMismatchError("y", y, f"must have shape ({n},) to match X, got {ya.shape}")
        if w0 is None:
            w0a = np.zeros(d)
            w0a.setflags(write=False)
        else:
            w0a = _as_exact_float64(w0, "w0", 1)
        if w0a.shape != (d,):
            raise ShapeMismatchError(
                "w0", w0, f"must have shape ({d},) to match X, got {w0a.shape}"
            )
        object.__setattr__(self, "X", Xa)
        object.__setattr__(self, "y", ya)
        object.__setattr__(self, "w0", w0a)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Dimension."""
        return int(self.X.shape[1])

    @property
    def definiteness(self) -> Definiteness:
        """H = X^T X / n is an exact Gram matrix: PSD by construction; PD iff rank(X) = d.

        Rank is certified with the same test as :class:`Quadratic` applied to the rounded Gram
        matrix; a Gram matrix is never indefinite, so an undecided case reads as
        ``"positive_semidefinite"``.
        """
        return self.cached("problems:definiteness", self._certified_definiteness)

    def _certified_definiteness(self) -> Definiteness:
        if self.n < self.d:
            return "positive_semidefinite"
        G = self.X.T @ self.X
        G = (G + G.T) / 2.0
        try:
            cls = certified_definiteness(G, "X^T X")
        except NotPositiveDefiniteError:
            cls = "positive_semidefinite"
        return "positive_definite" if cls == "positive_definite" else "positive_semidefinite"

    def hessian_arb(self, prec: int) -> Any:
        """Arb enclosure of the exact H = X^T X / n at working precision ``prec`` (a ball)."""
        from flint import arb_mat, ctx

        with ctx.workprec(prec):
            X = arb_mat(self.X.tolist())
            return (X.transpose() * X) / self.n

    def hessian_float64(self) -> F64:
        """fl(X^T X / n), symmetrized exactly."""
        M = self.X.T @ self.X / self.n
        return (M + M.T) / 2.0

    def loss(self, w: ArrayLike, data: LeastSquares | None = None) -> float:
        """||X w - y||^2 / (2n) in float64 on this data set, or on ``data`` (a convenience)."""
        src = self if data is None else data
        r = src.X @ np.asarray(w, dtype=np.float64) - src.y
        return float(r @ r / (2 * src.n))

    def as_quadratic(self) -> Quadratic:
        """The float64-rounded quadratic (H, b, c rounded once each; for float backends).

        Built once per problem (the same frozen :class:`Quadratic` is returned every time).
        """
        return self.cached("problems:quadratic", self._round_to_quadratic)

    def _round_to_quadratic(self) -> Quadratic:
        n = self.n
        H = self.hessian_float64()
        b = self.X.T @ self.y / n
        c = float(self.y @ self.y / (2 * n))
        return Quadratic(H, self.w0, b, c)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the exact data."""
        h = hashlib.sha256(b"LeastSquares")
        for arr in (self.X, self.y, self.w0):
            h.update(arr.tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"LeastSquares(n={self.n}, d={self.d}, fingerprint={self.fingerprint[:12]})"


Problem = Quadratic | LeastSquares


def _unit_vector(rng: np.random.Generator, d: int) -> F64:
    g = rng.standard_normal(d)
    return g / np.linalg.norm(g)
