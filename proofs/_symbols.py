"""Shared SymPy symbols and building blocks for the derivations.

This module defines no ``derive``/``claim``/``check`` triple, so proof discovery skips it.

The notation follows the paper notes (§2.3, §4.1): ``d`` eigen-modes indexed by ``i`` (0-based
here), eigenvalues ``lam[i] > 0`` of :math:`H`, coordinates ``c[i]`` of the start :math:`w_0` in
the eigenbasis, step size ``eta >= 0`` and number of inner steps ``t >= 1``.  Scalar symbols
``L``, ``alpha``, ``c_1``, ``c_d``, ``c_min`` stand for the largest/smallest eigenvalue and the
corresponding start coordinates; exact-evaluation grids bind them consistently with ``lam`` and
``c``.
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "L",
    "alpha",
    "b",
    "b_i",
    "c",
    "c_1",
    "c_d",
    "c_i",
    "c_min",
    "const",
    "d",
    "eta",
    "i",
    "k",
    "lam",
    "lam_i",
    "mode_sum",
    "rho",
    "t",
    "w0",
    "w0_i",
    "z",
    "z_i",
]

#: Number of inner GD steps (the unroll length); a positive integer.
t = sp.Symbol("t", integer=True, positive=True)
#: Step index used while solving recurrences.
k = sp.Symbol("k", integer=True, nonnegative=True)
#: Inner step size.
eta = sp.Symbol("eta", nonnegative=True)
#: Mode index and dimension.
i = sp.Symbol("i", integer=True, nonnegative=True)
d = sp.Symbol("d", integer=True, positive=True)

#: Eigenvalues of ``H`` and the eigen-coordinates of ``w_0`` / ``b`` (indexed over modes).
lam = sp.IndexedBase("lambda", positive=True)
c = sp.IndexedBase("c", real=True)
w0 = sp.IndexedBase("w_0", real=True)
b = sp.IndexedBase("b", real=True)
#: Constant term of the affine quadratic ``f(w) = w^T H w / 2 - b^T w + const``.
const = sp.Symbol("c_0", real=True)

#: Scalar per-mode symbols (one generic eigen-coordinate).
lam_i = sp.Symbol("lambda", positive=True)
c_i = sp.Symbol("c", real=True)
w0_i = sp.Symbol("w_0", real=True)
b_i = sp.Symbol("b", real=True)
#: Contraction factor ``1 - eta * lambda`` of one mode, as a free real symbol.
z = sp.Symbol("z", real=True)

#: Extreme eigenvalues and start coordinates.
L = sp.Symbol("L", positive=True)
alpha = sp.Symbol("alpha", positive=True)
c_1 = sp.Symbol("c_1", real=True)
c_d = sp.Symbol("c_d", real=True)
c_min = sp.Symbol("c_min", positive=True)

#: ``1 - eta * lambda_i`` for the indexed mode ``i``.
z_i = 1 - eta * lam[i]
#: Spectral radius of ``I - eta H``: ``rho(eta) = max(|1 - eta alpha|, |1 - eta L|)``.
rho = sp.Max(sp.Abs(1 - eta * alpha), sp.Abs(1 - eta * L))


def mode_sum(summand: sp.Expr) -> sp.Expr:
    """Return ``Sum(summand, (i, 0, d - 1))``, the sum over all eigen-modes.

    Parameters
    ----------
    summand : sympy.Expr
        Expression in the mode index :data:`i` (through ``lam[i]``, ``c[i]``, ...).

    Returns
    -------
    sympy.Expr
        The unevaluated sum over ``i = 0, ..., d - 1``.

    Examples
    --------
    >>> mode_sum(c[i] ** 2)
    Sum(c[i]**2, (i, 0, d - 1))
    """
    return sp.Sum(summand, (i, 0, d - 1))
