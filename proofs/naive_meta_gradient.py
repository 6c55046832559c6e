r"""Naive meta-objective: meta-gradient, second derivative and strict convexity (Theorem 3).

Claim
-----
For :math:`\hat F(\eta) = f(w_{t,\eta}) = \tfrac12\sum_i c_i^2\lambda_i z_i^{2t}`,
:math:`z_i = 1-\eta\lambda_i`:

.. math::
   \hat F'(\eta) = -t\sum_i c_i^2\lambda_i^2 z_i^{2t-1}, \qquad
   \hat F''(\eta) = t(2t-1)\sum_i c_i^2\lambda_i^3 z_i^{2t-2} > 0 ,

so :math:`\hat F` is strictly convex on :math:`[0,\infty)`; with :math:`\hat F'(0) < 0` and
:math:`\hat F'(\eta) > 0` for :math:`\eta > 1/\alpha` it has a unique minimizer (paper
Theorem 3, first claim; formulas from paper notes §4.1).

Assumptions
-----------
:math:`\lambda_i > 0`, :math:`L = \lambda_1 > \alpha = \lambda_d`, :math:`c_1, c_d \ne 0`,
:math:`t \ge 1` integer, :math:`\eta \ge 0`.

Derivation
----------
:func:`sympy.diff` of the loss derived in :mod:`proofs.gd_loss` (a ``Sum`` over modes).
Positivity: each summand of :math:`\hat F''` is a product of nonnegative factors (even power
of a real number), decided by SymPy's assumption system; strictness because the summands of
modes :math:`1` and :math:`d` vanish together only if :math:`1-\eta L = 1-\eta\alpha = 0`,
which has no solution for :math:`L \ne \alpha` (``sympy.solve``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_loss

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Naive meta-gradient, second derivative, strict convexity (Theorem 3)"
ASSUMPTIONS = (
    r"$\lambda_i>0$, $L=\lambda_1>\alpha=\lambda_d$, $c_1\neq 0$, $c_d\neq 0$",
    r"$t\ge 1$ integer, $\eta\ge 0$",
)
STATEMENTS = {
    "gradient": r"\hat F'(\eta) =",
    "second_derivative": r"\hat F''(\eta) =",
}


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Differentiate the derived loss once and twice in ``eta``.

    Returns
    -------
    mapping
        ``"objective"``, ``"gradient"``, ``"second_derivative"`` (``Sum`` expressions).
    """
    loss = gd_loss.derive()["loss"]
    grad = sp.diff(loss, S.eta)
    return MappingProxyType(
        {"objective": loss, "gradient": grad, "second_derivative": sp.diff(grad, S.eta)}
    )


def claim() -> Mapping[str, sp.Expr]:
    """The stated closed forms.

    Returns
    -------
    mapping
        ``"gradient"`` and ``"second_derivative"``.
    """
    lam_i, ci, zi, t = S.lam[S.i], S.c[S.i], S.z_i, S.t
    return {
        "gradient": -t * S.mode_sum(ci**2 * lam_i**2 * zi ** (2 * t - 1)),
        "second_derivative": t * (2 * t - 1) * S.mode_sum(ci**2 * lam_i**3 * zi ** (2 * t - 2)),
    }


def check() -> C.ProofResult:
    """Check the formulas, positivity of the second derivative and the sign pattern.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    grad, hess = claimed["gradient"], claimed["second_derivative"]
    pts = C.spectral_points()
    pre, summand = C.split_sum(hess)
    summand = pre * summand
    t = S.t
    pair = t * (2 * t - 1) * (
        S.c_1**2 * S.L**3 * (1 - S.eta * S.L) ** (2 * t - 2)
        + S.c_d**2 * S.alpha**3 * (1 - S.eta * S.alpha) ** (2 * t - 2)
    )
    gpre, gsummand = C.split_sum(grad)
    u = sp.Symbol("u", positive=True)  # z = -u < 0 for every mode once eta > 1/alpha
    grad_neg_z = C.canonical_signs((gpre * gsummand).subs(S.z, -u))
    steps = [
        C.symbolic_identity_step("d/d eta of the derived loss equals the claimed F'",
                                 derived["gradient"], grad),
        C.symbolic_identity_step("d^2/d eta^2 of the derived loss equals the claimed F''",
                                 derived["second_derivative"], hess),
        C.grid_relation_step("claimed F'' equals d/d eta of the claimed F'",
                             sp.diff(grad, S.eta), "==", hess, pts),
        C.symbolic_step("every summand of F'' is >= 0", summand.is_nonnegative,
                        f"({summand}).is_nonnegative"),
        C.symbolic_step("modes 1 and d cannot vanish together (L != alpha)",
                        sp.solve([1 - S.eta * S.L, 1 - S.eta * S.alpha], S.eta) == [],
                        "solve([1 - eta L, 1 - eta alpha], eta) == []"),
        C.symbolic_step("hence F'' >= (modes 1 and d) > 0", pair.is_nonnegative,
                        "sum of the two extreme summands is nonnegative"),
        C.grid_relation_step("F'' > 0", hess, ">", sp.S.Zero, pts),
        C.symbolic_step("F'(0) < 0: every summand of F'(0) is <= 0 (and c_1 != 0)",
                        (gpre * gsummand).subs(S.z, 1).is_nonpositive,
                        f"({(gpre * gsummand).subs(S.z, 1)}).is_nonpositive"),
        C.symbolic_step("F'(eta) > 0 for eta > 1/alpha: each summand -t c^2 lam^2 z^(2t-1) "
                        "is >= 0 for z = -u < 0", grad_neg_z.is_nonnegative,
                        f"({grad_neg_z}).is_nonnegative"),
        C.grid_relation_step("F'(0) < 0", grad.subs(S.eta, 0), "<", sp.S.Zero,
                             C.spectral_points(lambda inst, e: e == 0)),
        C.grid_relation_step("F'(eta) > 0 for eta > 1/alpha", grad, ">", sp.S.Zero,
                             C.spectral_points(lambda inst, e: e > 1 / inst.eigs[-1])),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)

