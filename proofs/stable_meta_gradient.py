r"""The normalized ("stable") log meta-gradient equals the plain one exactly.

Claim
-----
With :math:`\rho = \rho(\eta) = \max(|1-\eta\alpha|, |1-\eta L|) > 0` and
:math:`r_i = (1-\eta\lambda_i)/\rho \in [-1, 1]`:

.. math::
   \hat F_{\log}'(\eta) = -\frac{2}{\rho}\,
   \frac{\sum_i c_i^2\lambda_i^2 r_i^{2t-1}}{\sum_i c_i^2\lambda_i r_i^{2t}},
   \qquad
   \hat F_{\log}(\eta) = 2\log\rho + \frac1t\log\Big(\tfrac12\sum_i c_i^2\lambda_i r_i^{2t}\Big),

i.e. numerator and denominator divided by :math:`\rho^{2t}` (paper notes §4.6; the authors' code
uses the branch form :math:`s(\eta) = 1-\eta\alpha` for :math:`\eta \le 2/(\alpha+L)`, else
:math:`\eta L-1`, which equals :math:`\rho(\eta)`).  After normalization the denominator is
at least :math:`c_{\min}^2\alpha` and every :math:`|r_i| \le 1`, so nothing over- or underflows.

Assumptions
-----------
:math:`\alpha \le \lambda_i \le L`, :math:`L > \alpha > 0`, :math:`c_{\min} > 0`,
:math:`t \ge 1` integer, :math:`\eta \ge 0` (then :math:`\rho \ge (L-\alpha)/(L+\alpha) > 0`).

Derivation
----------
Starting from the ratio form derived in :mod:`proofs.log_meta_gradient`, substitute
:math:`1-\eta\lambda_i = \rho\, r_i` with :math:`\rho` a positive symbol, expand the powers and let
SymPy cancel :math:`\rho^{2t}`; the objective uses
:math:`\log(\rho^{2t} X) = 2t\log\rho + \log X` (valid for :math:`\rho, X > 0`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_loss, log_meta_gradient

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Normalized (stable) log meta-gradient equals the plain formula"
ASSUMPTIONS = (
    r"$\alpha\le\lambda_i\le L$, $L>\alpha>0$, $c_{\min}>0$",
    r"$t\ge 1$ integer, $\eta\ge 0$; $\rho(\eta)=\max(|1-\eta\alpha|,|1-\eta L|)>0$",
)
STATEMENTS = {
    "gradient": r"\hat F_{\log}'(\eta) =",
    "objective": r"\hat F_{\log}(\eta) =",
}

#: A positive symbol standing for rho(eta) during the derivation.
_r = sp.Symbol("rho", positive=True)
#: The normalized contraction factors r_i = (1 - eta lambda_i) / rho.
_R = sp.IndexedBase("r", real=True)


def _normalized_sums() -> tuple[sp.Expr, sp.Expr]:
    t, ci, li = S.t, S.c[S.i], S.lam[S.i]
    return (
        S.mode_sum(ci**2 * li**2 * _R[S.i] ** (2 * t - 1)),
        S.mode_sum(ci**2 * li * _R[S.i] ** (2 * t)),
    )


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Divide numerator and denominator of the plain forms by ``rho**(2t)``.

    Returns
    -------
    mapping
        ``"gradient"`` and ``"objective"`` in terms of ``rho(eta)`` and ``r_i = z_i / rho``.
    """
    plain = log_meta_gradient.derive()
    to_r = {S.eta: (1 - _r * _R[S.i]) / S.lam[S.i]}  # i.e. 1 - eta*lam[i] -> rho * r[i]

    def normalize(expr: sp.Expr) -> sp.Expr:
        out = expr.replace(
            lambda e: isinstance(e, sp.Sum),
            lambda e: sp.factor_terms(
                sp.Sum(sp.expand_power_base(sp.powsimp(e.function.subs(to_r))), *e.limits)
            ),
        )
        return sp.powsimp(sp.expand_power_base(out))

    grad = sp.simplify(normalize(plain["gradient"]))
    objective = sp.expand_log(normalize(plain["objective"]), force=True)
    back = {_R[S.i]: S.z_i / S.rho, _r: S.rho}
    return MappingProxyType(
        {"gradient": grad.xreplace(back), "objective": objective.xreplace(back)}
    )


def claim() -> Mapping[str, sp.Expr]:
    """The stated normalized forms.

    Returns
    -------
    mapping
        ``"gradient"`` and ``"objective"``.
    """
    num, den = _normalized_sums()
    back = {_R[S.i]: S.z_i / S.rho}
    return {
        "gradient": (-2 / S.rho * num / den).xreplace(back),
        "objective": (2 * sp.log(S.rho) + sp.log(den / 2) / S.t).xreplace(back),
    }


def code_scale() -> sp.Expr:
    """The authors' normalizer ``s(eta)`` (``learn_eta_quadratic.py``) as a Piecewise.

    Returns
    -------
    sympy.Piecewise
        ``1 - eta alpha`` for ``eta <= 2/(alpha+L)``, else ``eta L - 1``.
    """
    return sp.Piecewise(
        (1 - S.eta * S.alpha, S.eta <= 2 / (S.alpha + S.L)), (S.eta * S.L - 1, True)
    )


def _pull_powers(expr: sp.Expr) -> sp.Expr:
    """Expand powers of products inside sums and pull i-independent factors out."""
    return expr.replace(
        lambda e: isinstance(e, sp.Sum),
        lambda e: sp.factor_terms(sp.Sum(sp.expand_power_base(e.function), *e.limits)),
    )


def check() -> C.ProofResult:
    """Check the normalized forms against the plain ones.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    plain = log_meta_gradient.claim()["gradient"]
    to_sym = {S.rho: _r}
    pts = C.spectral_points()
    _, den = _normalized_sums()
    den_z = den.xreplace({_R[S.i]: S.z_i / S.rho})
    den_rz = den.xreplace({_R[S.i]: S.z_i / _r})
    steps = [
        C.symbolic_identity_step("derived normalized gradient equals the claim",
                                 derived["gradient"].xreplace(to_sym),
                                 claimed["gradient"].xreplace(to_sym)),
        C.symbolic_identity_step("claimed normalized gradient equals the plain ratio form "
                                 "(rho any positive symbol)",
                                 claimed["gradient"].xreplace(to_sym), plain),
        C.grid_relation_step("normalized gradient equals the plain ratio form exactly",
                             claimed["gradient"], "==", plain, pts),
        C.symbolic_identity_step("derived normalized objective equals the claim",
                                 sp.expand_log(derived["objective"].xreplace(to_sym), force=True),
                                 sp.expand_log(claimed["objective"].xreplace(to_sym), force=True)),
        C.symbolic_identity_step(
            "claimed objective equals log(rho^(2t) * sum c^2 lambda r^(2t) / 2) / t "
            "(log rules, rho > 0 and the sum > 0)",
            sp.expand_log(claimed["objective"].xreplace(to_sym), force=True),
            sp.expand_log(sp.log(_r ** (2 * S.t) * den_rz / 2) / S.t, force=True),
        ),
        C.symbolic_identity_step("rho^(2t) * sum c^2 lambda r^(2t) / 2 equals f(w_t)",
                                 _pull_powers(_r ** (2 * S.t) * den_rz / 2),
                                 gd_loss.claim()["loss"]),
        C.grid_relation_step("the code's s(eta) equals rho(eta)", code_scale(), "==", S.rho,
                             pts),
        C.grid_relation_step("|r_i| <= 1 for every mode", sp.Abs(S.z_i / S.rho), "<=",
                             sp.S.One, pts, forall_index=True),
        C.grid_relation_step("normalized denominator >= c_min^2 alpha (no underflow)", den_z,
                             ">=", S.c_min**2 * S.alpha, pts),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
