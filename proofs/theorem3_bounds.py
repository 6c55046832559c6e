r"""Theorem 3: the naive meta-gradient vanishes below and explodes above :math:`\eta = 2/L`.

Claim
-----
With :math:`\hat F'(\eta) = -t\sum_i c_i^2\lambda_i^2 z_i^{2t-1}`
(:mod:`proofs.naive_meta_gradient`),
:math:`z_i = 1-\eta\lambda_i`, :math:`\rho(\eta) = \max(|1-\eta\alpha|, |1-\eta L|)`:

.. math::
   |\hat F'(\eta)| \le t\sum_i c_i^2\lambda_i^2|z_i|^{2t-1} \le t L^2 \rho(\eta)^{2t-1}
   \quad (\eta < 2/L; \text{ in fact every } \eta \ge 0),

   \hat F'(\eta) \ge c_1^2 L^2 t (\eta L - 1)^{2t-1} - L^2 t \quad (\eta > 2/L).

For :math:`0 < \eta < 2/L`, :math:`\rho < 1` (vanishing); for :math:`\eta > 2/L`,
:math:`\eta L - 1 > 1` (explosion).  Paper Theorem 3 (bounds); the proof is the reconstruction
of paper notes §4.2.

Assumptions
-----------
:math:`\lambda_i \in [\alpha, L]`, :math:`L > \alpha > 0`, :math:`\sum_i c_i^2 = 1`
(:math:`\|w_0\| = 1`), :math:`t \ge 1` integer, :math:`\eta \ge 0`.

Derivation
----------
Steps are checked symbolically where SymPy decides them (per-summand absolute values, the sign
of the top mode and of modes with :math:`z_i < 0`); the monotonicity steps
(:math:`|z_i| \le \rho`, :math:`z^{2t-1} \le 1` on :math:`[0, 1]`) and the final inequalities
are checked by exact rational evaluation on the dense grid of :mod:`proofs._core`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import naive_meta_gradient

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive", "tightness"]

TITLE = "Theorem 3: vanishing (eta < 2/L) and exploding (eta > 2/L) naive meta-gradient"
ASSUMPTIONS = (
    r"$\alpha\le\lambda_i\le L$, $L>\alpha>0$, $\sum_i c_i^2=1$",
    r"$t\ge 1$ integer; upper bounds for $0\le\eta<2/L$, lower bound for $\eta>2/L$",
)
STATEMENTS = {
    "upper_bound": r"|\hat F'(\eta)| \le",
    "geometric_upper_bound": r"|\hat F'(\eta)| \le",
    "lower_bound": r"\hat F'(\eta) \ge",
}


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """The naive meta-gradient, derived in :mod:`proofs.naive_meta_gradient`.

    Returns
    -------
    mapping
        ``"gradient"``.
    """
    return MappingProxyType({"gradient": naive_meta_gradient.derive()["gradient"]})


def claim() -> Mapping[str, sp.Expr]:
    """The stated bounds.

    Returns
    -------
    mapping
        ``"upper_bound"``, ``"geometric_upper_bound"``, ``"lower_bound"``.
    """
    t = S.t
    return {
        "upper_bound": t
        * S.mode_sum(S.c[S.i] ** 2 * S.lam[S.i] ** 2 * sp.Abs(S.z_i) ** (2 * t - 1)),
        "geometric_upper_bound": t * S.L**2 * S.rho ** (2 * t - 1),
        "lower_bound": S.c_1**2 * S.L**2 * t * (S.eta * S.L - 1) ** (2 * t - 1) - S.L**2 * t,
    }


def _one_signed(inst: C.Instance, eta: Fraction) -> bool:
    """Every z_i = 1 - eta lambda_i has the same sign (eta <= 1/L or eta >= 1/alpha)."""
    return eta <= 1 / inst.eigs[0] or eta >= 1 / inst.eigs[-1]


def tightness(claimed: Mapping[str, sp.Expr]) -> list[C.ProofStep]:
    """The upper bounds are attained, so a weaker (still true) claim fails.

    Parameters
    ----------
    claimed : mapping
        :func:`claim`'s bounds (or a replacement, in the tests).

    Returns
    -------
    list of ProofStep
        Equality of |F'| and ``upper_bound`` wherever the summands of F' have one sign (the
        triangle inequality is then an equality); equality of |F'| and
        ``geometric_upper_bound`` at w_0 = u_1 for eta >= 2/(L + alpha), where rho = eta L - 1
        is the top mode's |z_1| and sum c^2 lambda^2 = L^2. The lower bound is not tight (a
        mode with z_i > 0 has lambda_i < 1/eta < L/2, so the slack is >= 3 L^2 t / 4
        whenever such a mode carries weight) and is not checked for tightness.
    """
    grad = sp.Abs(derive()["gradient"])
    return [
        C.grid_relation_step(
            "tight: |F'| = t sum c^2 lambda^2 |z|^(2t-1) where every z_i has one sign "
            "(eta <= 1/L or eta >= 1/alpha)",
            grad, "==", claimed["upper_bound"], C.spectral_points(_one_signed)),
        C.grid_relation_step(
            "tight: |F'| = t L^2 rho^(2t-1) at w_0 = u_1 for every eta >= 2/(L+alpha)",
            grad, "==", claimed["geometric_upper_bound"],
            C.top_mode_points(lambda inst, e: e >= 2 / (inst.eigs[0] + inst.eigs[-1]))),
    ]


def check() -> C.ProofResult:
    """Check the bounds step by step.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    grad = derive()["gradient"]
    claimed = claim()
    upper, geometric, lower = (
        claimed["upper_bound"],
        claimed["geometric_upper_bound"],
        claimed["lower_bound"],
    )
    gpre, gsum = C.split_sum(grad)
    upre, usum = C.split_sum(upper)
    t = S.t
    top_term = -t * S.c_1**2 * S.L**2 * (1 - S.eta * S.L) ** (2 * t - 1)
    top_claim = lower + S.L**2 * t  # the c_1 part of the claimed lower bound
    u = sp.Symbol("u", positive=True)
    neg_mode = C.canonical_signs((gpre * gsum).subs(S.z, -u))
    term_i = (-t * S.c[S.i] ** 2 * S.lam[S.i] ** 2 * S.z_i ** (2 * t - 1))
    below = C.spectral_points(lambda inst, e: e < 2 / inst.eigs[0])
    above = C.spectral_points(lambda inst, e: e > 2 / inst.eigs[0])
    steps = [
        C.symbolic_identity_step("|summand of F'| equals the summand of the upper bound",
                                 sp.Abs(gpre * gsum), upre * usum),
        C.ProofStep("|sum| <= sum of |summands|", C.METHOD_LEMMA, True,
                    "triangle inequality; the resulting bound is checked on the grid below"),
        C.grid_relation_step("|F'| <= t sum c^2 lambda^2 |z|^(2t-1) for eta < 2/L",
                             sp.Abs(grad), "<=", upper, below),
        C.grid_relation_step("the same bound for every grid eta >= 0 (paper notes §3, note a)",
                             sp.Abs(grad), "<=", upper, C.spectral_points()),
        C.grid_relation_step("t sum c^2 lambda^2 |z|^(2t-1) <= t L^2 rho^(2t-1) (sum c^2 = 1)",
                             upper, "<=", geometric, C.spectral_points()),
        C.grid_relation_step("rho(eta) < 1 for 0 < eta < 2/L (vanishing regime)", S.rho, "<",
                             sp.S.One, C.spectral_points(lambda inst, e: 0 < e < 2 / inst.eigs[0])),
        C.symbolic_identity_step("top mode: -t c_1^2 L^2 (1-eta L)^(2t-1) equals the c_1 part "
                                 "of the lower bound", top_term, top_claim),
        C.symbolic_step("modes with z = -u < 0 contribute >= 0", neg_mode.is_nonnegative,
                        f"({neg_mode}).is_nonnegative"),
        C.grid_relation_step("every mode contributes >= -t c_i^2 L^2 (z_i <= 1)",
                             term_i, ">=", -t * S.c[S.i] ** 2 * S.L**2, above, forall_index=True),
        C.grid_relation_step("eta L - 1 > 1 for eta > 2/L (explosion regime)",
                             S.eta * S.L - 1, ">", sp.S.One, above),
        C.grid_relation_step("F' >= c_1^2 L^2 t (eta L - 1)^(2t-1) - L^2 t for eta > 2/L",
                             grad, ">=", lower, above),
        *tightness(claimed),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
