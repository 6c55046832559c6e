r"""Log meta-objective: meta-gradient in ratio and softmax form; same sign as the naive one.

Claim
-----
For :math:`\hat F_{\log}(\eta) = \tfrac1t \log f(w_{t,\eta})`, :math:`z_i = 1-\eta\lambda_i`:

.. math::
   \hat F_{\log}'(\eta)
   = \frac{-2\sum_i c_i^2\lambda_i^2 z_i^{2t-1}}{\sum_i c_i^2\lambda_i z_i^{2t}}
   = -2\sum_i p_i \frac{\lambda_i}{z_i},\quad
   p_i = \frac{c_i^2\lambda_i z_i^{2t}}{\sum_j c_j^2\lambda_j z_j^{2t}}
   \quad(\text{softmax form, all } z_i \ne 0),

and :math:`\hat F_{\log}' = \hat F_{\rm naive}' / (t\,\hat F_{\rm naive})` with
:math:`t\,\hat F_{\rm naive} > 0`, so both meta-gradients have the same sign everywhere and the two
objectives have the same unique minimizer (paper notes §4.1; Theorem 4's unique minimizer).

Assumptions
-----------
:math:`\lambda_i > 0`, :math:`L > \alpha`, :math:`c_1, c_d \ne 0` (so :math:`f(w_t) > 0`),
:math:`t \ge 1` integer, :math:`\eta \ge 0`; the softmax form needs every :math:`z_i \ne 0`.

Derivation
----------
:func:`sympy.diff` of :math:`\tfrac1t\log` of the loss derived in :mod:`proofs.gd_loss`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_loss, naive_meta_gradient

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Log meta-gradient (ratio and softmax forms); same sign as the naive meta-gradient"
ASSUMPTIONS = (
    r"$\lambda_i>0$, $L>\alpha$, $c_1\neq0$, $c_d\neq0$ (hence $f(w_t)>0$)",
    r"$t\ge 1$ integer, $\eta\ge 0$; softmax form: all $1-\eta\lambda_i\neq 0$",
)
STATEMENTS = {
    "gradient": r"\hat F_{\log}'(\eta) =",
    "softmax_form": r"\hat F_{\log}'(\eta) =",
    "naive_relation": r"\hat F_{\log}'(\eta) =",
}

_j = sp.Symbol("j", integer=True, nonnegative=True)


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Differentiate ``log(f(w_t)) / t`` in ``eta``.

    Returns
    -------
    mapping
        ``"objective"`` and ``"gradient"``.
    """
    objective = sp.log(gd_loss.derive()["loss"]) / S.t
    return MappingProxyType({"objective": objective, "gradient": sp.diff(objective, S.eta)})


def claim() -> Mapping[str, sp.Expr]:
    """The stated forms.

    Returns
    -------
    mapping
        ``"gradient"`` (ratio form), ``"softmax_form"`` and ``"naive_relation"``.
    """
    lam_i, ci, zi, t = S.lam[S.i], S.c[S.i], S.z_i, S.t
    weight_sum = sp.Sum(
        (ci**2 * lam_i * zi ** (2 * t)).subs(S.i, _j), (_j, 0, S.d - 1)
    )
    p_i = ci**2 * lam_i * zi ** (2 * t) / weight_sum
    return {
        "gradient": -2
        * S.mode_sum(ci**2 * lam_i**2 * zi ** (2 * t - 1))
        / S.mode_sum(ci**2 * lam_i * zi ** (2 * t)),
        "softmax_form": -2 * S.mode_sum(p_i * lam_i / zi),
        "naive_relation": naive_meta_gradient.claim()["gradient"]
        / (t * gd_loss.claim()["loss"]),
    }


def _normaliser(expr: sp.Expr) -> sp.Sum:
    inner = [s for s in expr.atoms(sp.Sum) if s.limits[0][0] == _j]
    if len(inner) != 1:
        raise ValueError("softmax form must contain exactly one normalising sum over j")
    return inner[0]


def _softmax_linearity_step(softmax: sp.Expr) -> C.ProofStep:
    weight_sum = _normaliser(softmax)
    ok = S.i not in weight_sum.free_symbols
    names = sorted(map(str, weight_sum.free_symbols))
    return C.ProofStep("the softmax normaliser sum_j does not depend on i (linearity of the sum)",
                       C.METHOD_SYMBOLIC, ok, f"free symbols {names}")


def _pull_out_normaliser(softmax: sp.Expr) -> sp.Expr:
    """Multiply by the (i-independent) normaliser inside the sum and divide outside."""
    weight_sum = _normaliser(softmax)
    renamed = weight_sum.xreplace({_j: S.i})
    inside = softmax.replace(
        lambda e: isinstance(e, sp.Sum) and e.limits[0][0] == S.i,
        lambda e: sp.Sum(sp.simplify(e.function * weight_sum), *e.limits),
    )
    return inside / renamed


def check() -> C.ProofResult:
    """Check both forms, the relation to the naive gradient and the sign agreement.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    grad = claimed["gradient"]
    pts = C.spectral_points()
    naive = naive_meta_gradient.claim()["gradient"]
    loss = gd_loss.claim()["loss"]
    _, loss_summand = C.split_sum(loss)
    steps = [
        C.symbolic_identity_step("d/d eta of log(f(w_t))/t equals the ratio form",
                                 derived["gradient"], grad),
        _softmax_linearity_step(claimed["softmax_form"]),
        C.symbolic_identity_step(
            "softmax form (normaliser pulled out of the sum) equals the ratio form",
            _pull_out_normaliser(claimed["softmax_form"]), grad),
        C.symbolic_identity_step("derived gradient equals F'_naive / (t F_naive)",
                                 derived["gradient"], claimed["naive_relation"]),
        C.grid_relation_step("ratio form equals softmax form (all z_i != 0)",
                             claimed["softmax_form"], "==", grad, pts),
        C.grid_relation_step("ratio form equals F'_naive / (t F_naive)",
                             claimed["naive_relation"], "==", grad, pts),
        C.symbolic_step("each summand of f(w_t) is >= 0", loss_summand.is_nonnegative,
                        f"({loss_summand}).is_nonnegative"),
        C.grid_relation_step("t f(w_t) > 0", S.t * loss, ">", sp.S.Zero, pts),
        C.grid_relation_step("sign(F'_log) == sign(F'_naive)", sp.sign(grad), "==",
                             sp.sign(naive), pts),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
