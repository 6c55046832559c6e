"""Random-matrix asymptotics of the Gaussian least-squares family (paper notes §4.7).

Closed forms the experiment is compared with: the Marchenko-Pastur edges of the spectrum of
``X^T X / n``, the step size that contracts the slowest mode fastest, and the exact expected
errors of the ERM solution (Theorem 6) and of the min-norm interpolant (Theorem 5).
"""

from __future__ import annotations

import math

from ...errors import ShapeMismatchError
from .arguments import check_int, check_positive

__all__ = [
    "erm_expected_error",
    "fastest_contraction_step",
    "interpolant_expected_error",
    "marchenko_pastur_edges",
]


def marchenko_pastur_edges(d: int, n: int) -> tuple[float, float]:
    """Limits of the smallest and largest nonzero eigenvalue of X^T X / n (X is n x d Gaussian).

    ``((sqrt(d/n) - 1)^2, (sqrt(d/n) + 1)^2)`` as d, n -> infinity with d/n fixed (notes §4.7;
    for d/n = 2: [0.17, 5.83]). Finite-size edges fluctuate by O(n^(-2/3)).
    """
    dd = check_int("d", d, 1)
    nn = check_int("n", n, 1)
    ratio = math.sqrt(dd / nn)
    return (ratio - 1) ** 2, (ratio + 1) ** 2


def fastest_contraction_step(d: int, n: int) -> float:
    """``2 / (s_min + s_max)`` at the Marchenko-Pastur edges, i.e. ``1 / (1 + d/n)``.

    The step size that contracts the slowest mode fastest; the scale of ``eta*_train`` in
    Theorem 5 (notes §4.7: about 0.33 for d/n = 2).
    """
    lo, hi = marchenko_pastur_edges(d, n)
    return 2 / (lo + hi)


def erm_expected_error(d: int, n: int, sigma: float) -> float:
    """``E ||w_ERM - w*||^2 = sigma^2 d / (n - d - 1)`` for Gaussian design, n > d + 1.

    Exact (inverse-Wishart mean ``E (X^T X)^-1 = I / (n - d - 1)``); the comparison value of
    Theorem 6, whose bound is ``(1 + eps) d sigma^2 / n``.
    """
    dd = check_int("d", d, 1)
    nn = check_int("n", n, dd + 2)
    s = check_positive("sigma", sigma)
    return s * s * dd / (nn - dd - 1)


def interpolant_expected_error(d: int, n: int, sigma: float) -> float:
    """``E ||X^+ y - w*||^2 = (1 - n/d) + sigma^2 n / (d - n - 1)`` for n < d - 1.

    Exact for Gaussian design and ``w*`` uniform on the unit sphere: the min-norm interpolant
    misses the component of ``w*`` outside the row space (expected squared norm 1 - n/d) and
    fits the noise (``E tr (X X^T)^-1 = n / (d - n - 1)``). TbT at large t converges to it
    (the Omega(sigma^2) error of Theorem 5).
    """
    dd = check_int("d", d, 3)
    nn = check_int("n", n, 1)
    if nn >= dd - 1:
        raise ShapeMismatchError("n", n, f"must be < d - 1 = {dd - 1}")
    s = check_positive("sigma", sigma)
    return (1 - nn / dd) + s * s * nn / (dd - nn - 1)
