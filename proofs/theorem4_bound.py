r"""Theorem 4: the log meta-gradient is bounded independently of :math:`t` (explicit constant).

Claim
-----
With :math:`\rho(\eta) = \max(|1-\eta\alpha|, |1-\eta L|)` and
:math:`c_{\min} = \min(|c_1|, |c_d|)`,
for all :math:`\eta \ge 0` and :math:`t \ge 1`:

.. math::
   |\hat F_{\log}'(\eta)| \le \frac{2L^2}{c_{\min}^2\,\alpha\,\rho(\eta)}
   \le \frac{4L^3}{c_{\min}^2\,\alpha\,(L-\alpha)} .

The paper states :math:`O(L^3/(c_{\min}^2\alpha(L-\alpha)))` (Theorem 4); the explicit constants
are the reconstruction of paper notes §4.3.

Assumptions
-----------
:math:`\alpha\le\lambda_i\le L`, :math:`L>\alpha>0`, :math:`\sum_i c_i^2 = 1`,
:math:`c_{\min} > 0`, :math:`t\ge1` integer, :math:`\eta\ge0`.

Derivation
----------
Numerator :math:`2|\sum_i c_i^2\lambda_i^2 z_i^{2t-1}| \le 2L^2\rho^{2t-1}`; denominator
:math:`\sum_i c_i^2\lambda_i z_i^{2t} \ge c_{\min}^2\alpha\rho^{2t}` (the extreme mode attaining
:math:`\rho` is mode 1 or mode :math:`d`); the quotient simplifies symbolically.  Then
:math:`\rho(\eta) \ge \tfrac{L}{L+\alpha}(1-\eta\alpha) + \tfrac{\alpha}{L+\alpha}(\eta L-1)
= \tfrac{L-\alpha}{L+\alpha}` (a convex combination, identity checked symbolically) and
:math:`L+\alpha \le 2L`.

Tightness
---------
Neither bound is attained, so no ``tight:`` step checks them (paper notes §4.3: "very
loose"): the numerator bound needs all weight on a mode with :math:`\lambda_i = L` and
:math:`|z_i| = \rho`, the denominator bound all but :math:`c_{\min}^2` of it away from the
mode attaining :math:`\rho`; the second bound adds :math:`L + \alpha \le 2L`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import log_meta_gradient

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Theorem 4: t-independent bound on the log meta-gradient (explicit constants)"
ASSUMPTIONS = (
    r"$\alpha\le\lambda_i\le L$, $L>\alpha>0$, $\sum_i c_i^2=1$, "
    r"$c_{\min}=\min(|c_1|,|c_d|)>0$",
    r"$t\ge 1$ integer, $\eta\ge 0$",
)
STATEMENTS = {
    "rho_bound": r"|\hat F_{\log}'(\eta)| \le",
    "uniform_bound": r"|\hat F_{\log}'(\eta)| \le",
}


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """The log meta-gradient, derived in :mod:`proofs.log_meta_gradient`.

    Returns
    -------
    mapping
        ``"gradient"``.
    """
    return MappingProxyType({"gradient": log_meta_gradient.derive()["gradient"]})


def claim() -> Mapping[str, sp.Expr]:
    """The stated bounds.

    Returns
    -------
    mapping
        ``"rho_bound"`` and ``"uniform_bound"``.
    """
    cm, a, big = S.c_min, S.alpha, S.L
    return {
        "rho_bound": 2 * big**2 / (cm**2 * a * S.rho),
        "uniform_bound": 4 * big**3 / (cm**2 * a * (big - a)),
    }


def check() -> C.ProofResult:
    """Check the chain of inequalities.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    grad = derive()["gradient"]
    claimed = claim()
    rho_bound, uniform = claimed["rho_bound"], claimed["uniform_bound"]
    t, big, a, cm = S.t, S.L, S.alpha, S.c_min
    num = S.mode_sum(S.c[S.i] ** 2 * S.lam[S.i] ** 2 * S.z_i ** (2 * t - 1))
    den = S.mode_sum(S.c[S.i] ** 2 * S.lam[S.i] * S.z_i ** (2 * t))
    r = sp.Symbol("r", positive=True)  # stands for rho > 0
    rho_min = (big - a) / (big + a)
    combo = big / (big + a) * (1 - S.eta * a) + a / (big + a) * (S.eta * big - 1)
    pts = C.spectral_points()
    steps = [
        C.symbolic_identity_step("derived gradient equals -2 num / den",
                                 grad, -2 * num / den),
        C.grid_relation_step("|num| <= L^2 rho^(2t-1) (|z_i| <= rho, lambda_i <= L, sum c^2 = 1)",
                             sp.Abs(num), "<=", big**2 * S.rho ** (2 * t - 1), pts),
        C.grid_relation_step("den >= c_min^2 alpha rho^(2t) (extreme mode attains rho)",
                             den, ">=", cm**2 * a * S.rho ** (2 * t), pts),
        C.symbolic_identity_step("2 L^2 rho^(2t-1) / (c_min^2 alpha rho^(2t)) = rho bound",
                                 2 * big**2 * r ** (2 * t - 1) / (cm**2 * a * r ** (2 * t)),
                                 rho_bound.subs(S.rho, r)),
        C.symbolic_identity_step("convex combination of 1-eta alpha and eta L-1 is "
                                 "(L-alpha)/(L+alpha)", combo, rho_min),
        C.ProofStep("max(x, y) >= theta x + (1-theta) y and |x| >= x", C.METHOD_LEMMA, True,
                    "hence rho(eta) >= (L-alpha)/(L+alpha); checked on the grid next"),
        C.grid_relation_step("rho(eta) >= (L-alpha)/(L+alpha)", S.rho, ">=", rho_min, pts),
        C.symbolic_step("uniform bound - rho bound at rho_min = 2L^2/(c_min^2 alpha) >= 0",
                        sp.simplify(uniform - rho_bound.subs(S.rho, rho_min)).is_nonnegative,
                        f"({sp.simplify(uniform - rho_bound.subs(S.rho, rho_min))})"
                        ".is_nonnegative"),
        C.grid_relation_step("|F'_log| <= 2 L^2 / (c_min^2 alpha rho)", sp.Abs(grad), "<=",
                             rho_bound, pts),
        C.grid_relation_step("|F'_log| <= 4 L^3 / (c_min^2 alpha (L - alpha))", sp.Abs(grad),
                             "<=", uniform, pts),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
