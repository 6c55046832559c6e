"""Hypothesis strategies for property tests of meta-gradients (what users import).

Every value drawn is exactly representable in the dtype(s) named by ``exact_in`` (and hence in
every wider format), so all backends and the certified oracle see bit-identical inputs.
Strategies shrink toward small, well-conditioned problems and short horizons.

Arguments are keyword-only and validated when the strategy is built, with typed errors
(:mod:`verify.errors`) that name the argument.

Examples
--------
>>> from hypothesis import given, settings
>>> from verify import strategies as vs
>>> @settings(max_examples=5, database=None)
... @given(vs.quadratics(max_dim=3, max_condition=100.0), vs.horizons(max_t=50))
... def test_shapes(q, t):
...     assert q.H.shape == (q.d, q.d) and 1 <= t <= 50
>>> test_shapes()
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .errors import (
    InvalidHorizonError,
    InvalidPrecisionError,
    NotPositiveDefiniteError,
    ShapeMismatchError,
    UnknownOptionError,
)
from .floats import FORMATS, exact_in_all, get_format, round_through
from .problems import LeastSquares, Quadratic

__all__ = [
    "adam_settings",
    "horizons",
    "least_squares_tasks",
    "momenta",
    "quadratics",
    "step_sizes",
]

Spectrum = Literal["loguniform", "wishart", "two_cluster"]
Regime = Literal["vanishing", "explosion", "near_optimal", "any"]


def _check_dtype(exact_in: object) -> tuple[str, ...]:
    """``exact_in`` as a tuple of format names, narrowest first (a name or a sequence of names)."""
    items: tuple[object, ...]
    if isinstance(exact_in, str):
        items = (exact_in,)
    elif isinstance(exact_in, (list, tuple)):
        items = tuple(exact_in)
    else:
        items = (exact_in,)
    names = {n for n in items if isinstance(n, str) and n in FORMATS}
    if not items or len(names) != len(set(items)):
        raise UnknownOptionError(
            "exact_in", exact_in, f"must be one of {sorted(FORMATS)} or a sequence of them"
        )
    return tuple(sorted(names, key=lambda n: (get_format(n).precision, n)))


def _label(dts: tuple[str, ...]) -> str:
    return dts[0] if len(dts) == 1 else "+".join(dts)


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ShapeMismatchError(name, value, f"must be an integer >= {low}")
    return int(value)


def quadratics(
    *,
    min_dim: int = 1,
    max_dim: int = 8,
    max_condition: float = 1e3,
    spectrum: Spectrum = "loguniform",
    exact_in: str | Sequence[str] = "float32",
) -> st.SearchStrategy[Quadratic]:
    """Positive definite quadratics with a controlled condition number, exact in ``exact_in``.

    Parameters
    ----------
    min_dim, max_dim : int
        Dimension range (shrinks toward ``min_dim``).
    max_condition : float
        Upper bound on the requested condition number L/alpha (shrinks toward 1). The stored
        H is the requested one rounded to ``exact_in``, whose eigenvalues move by about
        d u ||H||; the bound must leave room for that (``max_condition * max_dim * u < 1/4``).
    spectrum : {"loguniform", "wishart", "two_cluster"}
        Eigenvalues log-uniform in [1, kappa]; those of X^T X / d (X Gaussian, rescaled to
        [1, kappa]); or two tight clusters at 1 and kappa.
    exact_in : {"float16", "bfloat16", "float32", "float64"} or a sequence of them
        Every entry of H and w0 is representable in this format (in each of them: pass every
        dtype under test, e.g. ``("float16", "bfloat16")``, neither of which holds the other).
    """
    dt = _check_dtype(exact_in)
    name = _label(dt)
    lo = _check_int("min_dim", min_dim, 1)
    hi = _check_int("max_dim", max_dim, lo)
    if not isinstance(max_condition, (int, float)) or not max_condition >= 1:
        raise InvalidPrecisionError("max_condition", max_condition, "must be a number >= 1")
    u = max(get_format(n).unit_roundoff for n in dt)
    if max_condition * hi * u >= 0.25:
        raise InvalidPrecisionError(
            "max_condition",
            max_condition,
            f"too large for exact_in={name!r} at max_dim={hi}: rounding H to {name} (unit roundoff "
            f"{u:.3g}) could make it indefinite; need max_condition * max_dim * u < 1/4",
        )
    if spectrum not in ("loguniform", "wishart", "two_cluster"):
        raise UnknownOptionError(
            "spectrum", spectrum, "must be 'loguniform', 'wishart' or 'two_cluster'"
        )

    @st.composite
    def build(draw: st.DrawFn) -> Quadratic:
        d = draw(st.integers(lo, hi))
        log_kappa = draw(st.floats(0.0, float(np.log10(max_condition))))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        kappa = 10.0**log_kappa
        if spectrum == "loguniform":
            lam = 10.0 ** rng.uniform(0.0, log_kappa, size=d)
        elif spectrum == "wishart":
            X = rng.standard_normal((d, d))
            ev = np.linalg.eigvalsh(X.T @ X)
            span = ev[-1] - ev[0]
            lam = 1.0 + (ev - ev[0]) / span * (kappa - 1.0) if span > 0 else np.ones(d)
        else:
            lam = np.where(rng.random(d) < 0.5, 1.0, kappa) * (1 + 1e-3 * rng.random(d))
        G = rng.standard_normal((d, d))
        Q, R = np.linalg.qr(G)
        Q = Q * np.sign(np.diag(R))
        M = (Q * lam) @ Q.T
        H = round_through((M + M.T) / 2.0, dt)
        w = rng.standard_normal(d)
        w0 = round_through(w / np.linalg.norm(w), dt)
        assume(bool(np.any(w0)) and exact_in_all(H, dt) and exact_in_all(w0, dt))
        try:
            return Quadratic(H, w0)
        except NotPositiveDefiniteError:  # pragma: no cover - excluded by the condition cap
            assume(False)
            raise

    return build()


def step_sizes(
    problem: Quadratic | LeastSquares,
    *,
    regime: Regime = "any",
    exact_in: str | Sequence[str] = "float32",
) -> st.SearchStrategy[float]:
    """Step sizes for ``problem`` in a regime of Theorem 3, exact in ``exact_in``.

    ``"vanishing"``: 0 < eta < 2/L; ``"explosion"``: 2/L < eta <= 3/L; ``"near_optimal"``:
    within 5% of 2/(L + alpha); ``"any"``: 0 <= eta <= 3/L. Membership is checked on the
    certified L and alpha after rounding (values that round across a boundary are rejected).
    """
    dt = _check_dtype(exact_in)
    if not isinstance(problem, (Quadratic, LeastSquares)):
        raise UnknownOptionError("problem", problem, "must be a Quadratic or a LeastSquares")
    if regime not in ("vanishing", "explosion", "near_optimal", "any"):
        raise UnknownOptionError(
            "regime", regime, "must be 'vanishing', 'explosion', 'near_optimal' or 'any'"
        )
    enc = problem.spectral_enclosures()
    L_lo, L_hi = enc["L"].lower, enc["L"].upper
    L = float(enc["L"].mid)
    alpha = float(enc["alpha"].mid)
    ranges = {
        "vanishing": (0.0, 2.0 / L),
        "explosion": (2.0 / L, 3.0 / L),
        "near_optimal": (0.95 * 2 / (L + alpha), 1.05 * 2 / (L + alpha)),
        "any": (0.0, 3.0 / L),
    }
    a, b = ranges[regime]

    def ok(eta: float) -> bool:
        q = Fraction(eta)
        if regime == "vanishing":
            return q > 0 and q * L_hi < 2
        if regime == "explosion":
            return q * L_lo > 2
        return q >= 0

    return (
        st.floats(a, b)
        .map(lambda x: float(round_through(np.array(x), dt)))
        .filter(lambda x: a <= x <= b and ok(x) and exact_in_all(np.array(x), dt))
    )


def horizons(*, min_t: int = 1, max_t: int = 10_000) -> st.SearchStrategy[int]:
    """Horizons t, log-uniform in [min_t, max_t] (shrinks toward ``min_t``)."""
    lo = int(min_t) if not isinstance(min_t, bool) and isinstance(min_t, (int, np.integer)) else -1
    if lo < 0:
        raise InvalidHorizonError("min_t", min_t, "must be an integer >= 0")
    if isinstance(max_t, bool) or not isinstance(max_t, (int, np.integer)) or max_t < lo:
        raise InvalidHorizonError("max_t", max_t, f"must be an integer >= min_t={lo}")
    hi = int(max_t)
    top_bits = max(1, hi.bit_length())
    return st.integers(0, top_bits).flatmap(
        lambda b: st.integers(max(lo, (1 << b) >> 1), min(hi, max(lo, (1 << b) - 1)))
    )


def least_squares_tasks(
    *,
    d: int,
    n_train: int,
    n_valid: int | None = None,
    sigma: float = 1.0,
    exact_in: str | Sequence[str] = "float32",
) -> st.SearchStrategy[tuple[LeastSquares, LeastSquares | None]]:
    """Noisy least-squares tasks of paper notes §2.4: (train, valid-or-None), exact in ``exact_in``.

    w* is uniform on the unit sphere, x ~ N(0, I_d), y = <w*, x> + N(0, sigma^2); GD starts at 0.
    """
    dt = _check_dtype(exact_in)
    dd = _check_int("d", d, 1)
    nt = _check_int("n_train", n_train, 1)
    nv = None if n_valid is None else _check_int("n_valid", n_valid, 1)
    if not isinstance(sigma, (int, float)) or not np.isfinite(sigma) or sigma < 0:
        raise InvalidPrecisionError("sigma", sigma, "must be a finite number >= 0")

    @st.composite
    def build(draw: st.DrawFn) -> tuple[LeastSquares, LeastSquares | None]:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        w = rng.standard_normal(dd)
        w_star = w / np.linalg.norm(w)

        def sample(n: int) -> LeastSquares:
            X = round_through(rng.standard_normal((n, dd)), dt)
            y = round_through(X @ w_star + sigma * rng.standard_normal(n), dt)
            assume(exact_in_all(X, dt) and exact_in_all(y, dt))
            return LeastSquares(X, y)

        return sample(nt), None if nv is None else sample(nv)

    return build()


def _unit_bound(name: str, value: object, *, closed: bool) -> float:
    """A bound of a decay in [0, 1] (``closed``) or [0, 1), as a float (typed error)."""
    interval = "[0, 1]" if closed else "[0, 1)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidPrecisionError(name, value, f"must be a number in {interval}")
    x = float(value)
    if not 0.0 <= x <= 1.0 or (not closed and x == 1.0):
        raise InvalidPrecisionError(name, value, f"must be a number in {interval}")
    return x


def _decays(lo: float, hi: float, dt: tuple[str, ...]) -> st.SearchStrategy[float]:
    """Decays in [lo, hi] and [0, 1), exact in every format of ``dt``: uniform draws (shrinking
    toward lo) and, to reach the values near 1 that training uses, 1 - 2^-k (exact in every
    format while k is below its precision)."""
    prec = min(get_format(n).precision for n in dt)
    near_one = st.integers(1, prec - 1).map(lambda k: 1.0 - 2.0**-k)
    # lo + (hi - lo) f with f in [0, 1] shrinks to lo (floats(lo, hi) shrinks to "simple" values)
    uniform = st.floats(0.0, 1.0).map(
        lambda f: float(round_through(np.array(lo + (hi - lo) * f), dt))
    )
    return st.one_of(uniform, near_one).filter(
        lambda x: lo <= x <= hi and x < 1.0 and exact_in_all(np.array(x), dt)
    )


def momenta(
    *,
    min_beta: float = 0.0,
    max_beta: float = 0.99,
    exact_in: str | Sequence[str] = "float32",
) -> st.SearchStrategy[float]:
    """Heavy-ball momenta beta in [min_beta, max_beta] (inside [0, 1)), exact in ``exact_in``.

    Shrinks toward ``min_beta`` (0 is plain GD); values 1 - 2^-k near 1 are drawn too, since
    training uses 0.9-0.99. Every value is a float64 that each format of ``exact_in`` holds
    exactly, so all backends and the oracle see the same beta.

    Raises
    ------
    InvalidPrecisionError
        Naming ``min_beta``/``max_beta`` outside [0, 1) or in the wrong order.
    UnknownOptionError
        Naming ``exact_in``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, database=None)
    ... @given(momenta(exact_in=("float16", "bfloat16")))
    ... def test_beta(beta):
    ...     assert 0 <= beta < 1
    >>> test_beta()
    """
    dt = _check_dtype(exact_in)
    lo = _unit_bound("min_beta", min_beta, closed=False)
    hi = _unit_bound("max_beta", max_beta, closed=False)
    if hi < lo:
        raise InvalidPrecisionError("max_beta", max_beta, f"must be >= min_beta={lo}")
    return _decays(lo, hi, dt)


def adam_settings(
    *,
    rmsprop: bool | None = None,
    min_eps: float | None = None,
    max_eps: float = 2.0**-3,
    exact_in: str | Sequence[str] = "float32",
) -> st.SearchStrategy[dict[str, float]]:
    """Adam settings ``{"beta1", "beta2", "eps"}`` (pass as ``**settings``), exact in
    ``exact_in``.

    beta1 and beta2 are decays in [0, 1) (see :func:`momenta`; beta2 from [0.5, 1): Adam's
    second moment averages over at least two steps in practice); eps is log-uniform in
    [min_eps, max_eps] and a positive normal number of every format (default ``min_eps``: 1e-8,
    raised to the smallest normal of the narrowest exponent range, e.g. 2^-14 for float16,
    where torch's default 1e-8 would round to 0).

    Parameters
    ----------
    rmsprop : bool or None
        True: beta1 = 0 always (RMSProp with bias correction); False: beta1 > 0; None: both.

    Raises
    ------
    InvalidPrecisionError
        Naming ``min_eps``/``max_eps`` (not positive, wrong order) or ``rmsprop``.
    UnknownOptionError
        Naming ``exact_in``.
    """
    dt = _check_dtype(exact_in)
    if not (rmsprop is None or isinstance(rmsprop, bool)):
        raise InvalidPrecisionError("rmsprop", rmsprop, "must be True, False or None")
    tiny = max(float(2.0 ** (get_format(n).emin)) for n in dt)
    lo = max(1e-8, tiny) if min_eps is None else min_eps
    for name, v in (("min_eps", lo), ("max_eps", max_eps)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf"):
            raise InvalidPrecisionError(name, v, "must be a finite number > 0")
    if max_eps < lo:
        raise InvalidPrecisionError("max_eps", max_eps, f"must be >= min_eps={lo}")
    eps = (
        st.floats(float(np.log2(lo)), float(np.log2(max_eps)))
        .map(lambda e: float(round_through(np.array(2.0**e), dt)))
        .filter(lambda x: lo <= x <= max_eps and x >= tiny and exact_in_all(np.array(x), dt))
    )
    if rmsprop is None:
        beta1 = _decays(0.0, 0.99, dt)
    elif rmsprop:
        beta1 = st.just(0.0)
    else:
        beta1 = _decays(0.0, 0.99, dt).filter(lambda x: x > 0)
    return st.fixed_dictionaries({"beta1": beta1, "beta2": _decays(0.5, 0.999, dt), "eps": eps})
