"""Independent numeric oracles generated from the derived SymPy expressions.

Every function here is built with :func:`sympy.lambdify` (``modules="mpmath"``) from an
expression produced by a derivation module's ``derive()`` -- nothing is typed in by hand, and
nothing imports :mod:`verify`.  Rational constants stay exact in the generated code
(``mpf(p)/mpf(q)``) and every evaluation runs inside a local ``mpmath.workprec(prec_bits)``;
the global ``mpmath.mp.prec`` is never touched.

Guarantee
---------
None beyond ordinary multiple-precision floating point: inputs are rounded once to
``prec_bits`` bits, and the sums/powers accumulate a few ulps per operation (about
``t`` ulps for the powers).  These oracles are *heuristic* references, not certified ground
truth; with ``prec_bits`` well above the target precision plus ``log2(t)`` bits they are
accurate to the target.  The ``*_exact`` variants are exact (``Fraction``) for rational inputs.

Inputs are eigen-data: ``eigs`` (eigenvalues of ``H``), ``c`` (coordinates of ``w_0`` in the
eigenbasis), the step size ``eta`` and the number of inner steps ``t``.  Numbers may be
``int``, ``float``, ``fractions.Fraction`` or ``mpmath.mpf``.

Examples
--------
>>> from fractions import Fraction
>>> eigs, c = [Fraction(2), Fraction(1, 2)], [Fraction(3, 5), Fraction(4, 5)]
>>> log_meta_gradient_exact(eigs, c, Fraction(1, 4), 3)
Fraction(-208184, 126865)
>>> float(log_meta_gradient(eigs, c, Fraction(1, 4), 3, prec_bits=80))  # doctest: +ELLIPSIS
-1.64098845229...
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, TypeAlias

import mpmath
import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_iterate, gd_loss, stable_meta_gradient
from proofs import log_meta_gradient as _log_mod
from proofs import naive_meta_gradient as _naive_mod

__all__ = [
    "Number",
    "affine_iterate",
    "affine_loss",
    "log_meta_gradient",
    "log_meta_gradient_exact",
    "log_objective",
    "loss",
    "loss_exact",
    "naive_meta_gradient",
    "naive_meta_gradient_exact",
    "stable_log_meta_gradient",
]

#: Accepted scalar inputs.
Number: TypeAlias = "int | float | Fraction | Any"


def _to_mpf(x: Number) -> Any:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


@functools.cache
def _spectral(name: str) -> Callable[..., Any]:
    exprs: dict[str, sp.Expr] = {
        "loss": gd_loss.derive()["loss"],
        "naive": _naive_mod.derive()["gradient"],
        "log_objective": _log_mod.derive()["objective"],
        "log": _log_mod.derive()["gradient"],
        "stable": stable_meta_gradient.derive()["gradient"],
    }
    # simplify each summand so z**(2t)/z becomes z**(2t-1): defined where 1 - eta*lambda_i = 0
    expr = exprs[name].replace(
        lambda e: isinstance(e, sp.Sum),
        lambda e: sp.Sum(C.canonical_signs(sp.simplify(e.function)), *e.limits),
    )
    args = [S.lam, S.c, S.eta, S.t, S.d, S.L, S.alpha]
    return sp.lambdify(args, expr, modules="mpmath")  # type: ignore[no-any-return]


def _eval_spectral(
    name: str, eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int, prec_bits: int
) -> Any:
    if len(eigs) != len(c) or not eigs:
        raise ValueError("eigs and c must be non-empty and of equal length")
    if int(t) != t or t < 1:
        raise ValueError("t must be a positive integer")
    with mpmath.workprec(prec_bits):
        lam = [_to_mpf(v) for v in eigs]
        cs = [_to_mpf(v) for v in c]
        func = _spectral(name)
        out = func(lam, cs, _to_mpf(eta), int(t), len(lam), max(lam), min(lam))
        return +out  # round to the working precision inside the context


def loss(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int, *,
         prec_bits: int) -> Any:
    """Final loss ``f(w_t) = 1/2 sum c_i^2 lambda_i (1 - eta lambda_i)^(2t)``.

    Parameters
    ----------
    eigs, c : sequence of numbers
        Eigenvalues of ``H`` and eigen-coordinates of ``w_0``.
    eta : number
        Step size.
    t : int
        Number of GD steps (``>= 1``).
    prec_bits : int
        Working precision in bits (local context).

    Returns
    -------
    mpmath.mpf
        From :func:`proofs.gd_loss.derive`.
    """
    return _eval_spectral("loss", eigs, c, eta, t, prec_bits)


def naive_meta_gradient(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int, *,
                        prec_bits: int) -> Any:
    """Naive meta-gradient ``d f(w_t) / d eta`` (from :mod:`proofs.naive_meta_gradient`).

    Parameters
    ----------
    eigs, c, eta, t, prec_bits
        As in :func:`loss`.

    Returns
    -------
    mpmath.mpf
    """
    return _eval_spectral("naive", eigs, c, eta, t, prec_bits)


def log_objective(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int, *,
                  prec_bits: int) -> Any:
    """Log meta-objective ``log(f(w_t)) / t``.

    Parameters
    ----------
    eigs, c, eta, t, prec_bits
        As in :func:`loss`.

    Returns
    -------
    mpmath.mpf
    """
    return _eval_spectral("log_objective", eigs, c, eta, t, prec_bits)


def log_meta_gradient(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int, *,
                      prec_bits: int) -> Any:
    """Log meta-gradient, plain form (derived by differentiating ``log(f(w_t))/t``).

    mpmath's exponent range is unbounded, so the plain form does not overflow here.

    Parameters
    ----------
    eigs, c, eta, t, prec_bits
        As in :func:`loss`.

    Returns
    -------
    mpmath.mpf
    """
    return _eval_spectral("log", eigs, c, eta, t, prec_bits)


def stable_log_meta_gradient(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int,
                             *, prec_bits: int) -> Any:
    """Log meta-gradient, normalized form (:mod:`proofs.stable_meta_gradient`).

    Uses ``L = max(eigs)`` and ``alpha = min(eigs)`` for ``rho(eta)``.

    Parameters
    ----------
    eigs, c, eta, t, prec_bits
        As in :func:`loss`.

    Returns
    -------
    mpmath.mpf
    """
    return _eval_spectral("stable", eigs, c, eta, t, prec_bits)


@functools.cache
def _mode(name: str) -> Callable[..., Any]:
    forms = gd_iterate.derive()
    expr = forms["iterate_null"] if name == "null" else forms["iterate"]
    args = [S.lam_i, S.w0_i, S.b_i, S.eta, S.t]
    return sp.lambdify(args, expr, modules="mpmath")  # type: ignore[no-any-return]


def affine_iterate(eigs: Sequence[Number], w0: Sequence[Number], b: Sequence[Number],
                   eta: Number, t: int, *, prec_bits: int) -> list[Any]:
    """Eigen-coordinates of the GD iterate on ``f(w) = w^T H w / 2 - b^T w + const``.

    Parameters
    ----------
    eigs : sequence of numbers
        Eigenvalues of ``H`` (``>= 0``; zero eigenvalues use the derived ``lambda = 0`` form).
    w0, b : sequence of numbers
        Eigen-coordinates of the start point and of ``b``.
    eta : number
        Step size.
    t : int
        Number of GD steps (``>= 0``).
    prec_bits : int
        Working precision in bits.

    Returns
    -------
    list of mpmath.mpf
        From :func:`proofs.gd_iterate.derive`.
    """
    if not len(eigs) == len(w0) == len(b):
        raise ValueError("eigs, w0 and b must have equal length")
    with mpmath.workprec(prec_bits):
        out = []
        for lam_, w_, b_ in zip(eigs, w0, b, strict=True):
            lam_m = _to_mpf(lam_)
            func = _mode("null" if lam_m == 0 else "general")
            out.append(+func(lam_m, _to_mpf(w_), _to_mpf(b_), _to_mpf(eta), int(t)))
        return out


def affine_loss(eigs: Sequence[Number], w0: Sequence[Number], b: Sequence[Number],
                const: Number, eta: Number, t: int, *, prec_bits: int) -> Any:
    """``f(w_t) = sum(lambda x^2 / 2 - b x) + const`` at the derived affine iterate.

    Parameters
    ----------
    eigs, w0, b, eta, t, prec_bits
        As in :func:`affine_iterate`.
    const : number
        Constant term of ``f``.

    Returns
    -------
    mpmath.mpf
    """
    with mpmath.workprec(prec_bits):
        xs = affine_iterate(eigs, w0, b, eta, t, prec_bits=prec_bits)
        total = _to_mpf(const)
        for lam_, b_, x in zip(eigs, b, xs, strict=True):
            total += _to_mpf(lam_) * x * x / 2 - _to_mpf(b_) * x
        return +total


@functools.cache
def _exact(name: str) -> C.ExactFunction:
    exprs = {
        "loss": gd_loss.derive()["loss"],
        "naive": _naive_mod.claim()["gradient"],
        "log": _log_mod.claim()["gradient"],
    }
    return C.compile_exact(exprs[name])


def _eval_exact(name: str, eigs: Sequence[Number], c: Sequence[Number], eta: Number,
                t: int) -> Fraction:
    env = {S.lam: [Fraction(v) for v in eigs], S.c: [Fraction(v) for v in c],
           S.d: len(eigs), S.eta: Fraction(eta), S.t: int(t)}
    return _exact(name)(env)


def loss_exact(eigs: Sequence[Number], c: Sequence[Number], eta: Number, t: int) -> Fraction:
    """Exact ``f(w_t)`` for rational (or float) inputs.

    Parameters
    ----------
    eigs, c, eta, t
        As in :func:`loss`; floats are converted exactly.

    Returns
    -------
    fractions.Fraction
    """
    return _eval_exact("loss", eigs, c, eta, t)


def naive_meta_gradient_exact(eigs: Sequence[Number], c: Sequence[Number], eta: Number,
                              t: int) -> Fraction:
    """Exact naive meta-gradient (the claimed form, proven equal to the derived one).

    Parameters
    ----------
    eigs, c, eta, t
        As in :func:`loss`.

    Returns
    -------
    fractions.Fraction
    """
    return _eval_exact("naive", eigs, c, eta, t)


def log_meta_gradient_exact(eigs: Sequence[Number], c: Sequence[Number], eta: Number,
                            t: int) -> Fraction:
    """Exact log meta-gradient (ratio form, proven equal to the derived one).

    Parameters
    ----------
    eigs, c, eta, t
        As in :func:`loss`.

    Returns
    -------
    fractions.Fraction
        Raises ``ZeroDivisionError`` if ``f(w_t) = 0``.
    """
    return _eval_exact("log", eigs, c, eta, t)
