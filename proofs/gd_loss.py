r"""Loss of the GD iterate on a quadratic, in the eigenbasis.

Claim
-----
With :math:`z_i = 1-\eta\lambda_i` and the iterate of :mod:`proofs.gd_iterate`,

.. math:: f(w_t) = \tfrac12 \sum_i c_i^2 \lambda_i z_i^{2t}
          \qquad (b = 0,\ c_i = \langle w_0,u_i\rangle),

and for the affine quadratic :math:`f(w) = \tfrac12 w^\top H w - b^\top w + c_0` with
:math:`H \succ 0`,

.. math:: f(w_t) = c_0 - \tfrac12\sum_i \frac{b_i^2}{\lambda_i}
          + \tfrac12 \sum_i \lambda_i z_i^{2t} \Big(w_{0,i} - \frac{b_i}{\lambda_i}\Big)^2 ,

i.e. the excess loss over :math:`f^\star = c_0 - \tfrac12 b^\top H^{-1} b` decays mode by mode
as :math:`z_i^{2t}` (paper notes §4.1, §4.7).

Assumptions
-----------
:math:`H \succ 0` (all :math:`\lambda_i > 0`), :math:`t \ge 1` integer, :math:`\eta \ge 0`.

Derivation
----------
The per-coordinate iterate derived by :func:`proofs.gd_iterate.derive` is substituted into
:math:`f` written in the eigenbasis, :math:`f = \sum_i (\tfrac12\lambda_i x_i^2 - b_i x_i) + c_0`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_iterate

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Loss of the GD iterate on a quadratic (homogeneous and affine)"
ASSUMPTIONS = (
    r"$H\succ 0$ with eigenvalues $\lambda_i>0$; $c_i=\langle w_0,u_i\rangle$, "
    r"$b_i=\langle b,u_i\rangle$",
    r"$t\ge 1$ integer, $\eta\ge 0$",
)
STATEMENTS = {
    "loss": r"f(w_t) =",
    "affine_loss": r"\tfrac12 w_t^\top H w_t - b^\top w_t + c_0 =",
}


def _indexed(expr: sp.Expr, *, w0: sp.Basic) -> sp.Expr:
    """Move a scalar per-mode expression to mode ``i`` of the indexed spectrum."""
    return expr.subs({S.lam_i: S.lam[S.i], S.w0_i: w0, S.b_i: S.b[S.i]})


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Substitute the derived iterate into the loss.

    Returns
    -------
    mapping
        ``"loss"`` (``b = 0``, start coordinates ``c[i]``) and ``"affine_loss"``; both are
        ``Sum`` expressions over the modes.

    Examples
    --------
    >>> derive()["loss"]
    Sum((-eta*lambda[i] + 1)**(2*t)*c[i]**2*lambda[i]/2, (i, 0, d - 1))
    """
    x = gd_iterate.derive()["iterate"]
    x_hom = _indexed(x.subs(S.b_i, 0), w0=S.c[S.i])
    x_aff = _indexed(x, w0=S.w0[S.i])
    lam_i, b_i = S.lam[S.i], S.b[S.i]
    loss = S.mode_sum(sp.expand(lam_i * x_hom**2 / 2))
    affine = S.const + S.mode_sum(lam_i * x_aff**2 / 2 - b_i * x_aff)
    return MappingProxyType({"loss": loss, "affine_loss": affine})


def claim() -> Mapping[str, sp.Expr]:
    """The stated closed forms.

    Returns
    -------
    mapping
        Same keys as :func:`derive`.
    """
    lam_i, b_i, zi = S.lam[S.i], S.b[S.i], S.z_i
    return {
        "loss": S.mode_sum(S.c[S.i] ** 2 * lam_i * zi ** (2 * S.t) / 2),
        "affine_loss": S.const
        - S.mode_sum(b_i**2 / lam_i) / 2
        + S.mode_sum(lam_i * zi ** (2 * S.t) * (S.w0[S.i] - b_i / lam_i) ** 2) / 2,
    }


def check() -> C.ProofResult:
    """Check the closed forms.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    pts = C.spectral_points()
    x_lit = gd_iterate.unrolled()
    lit_hom = _indexed(x_lit.subs(S.b_i, 0), w0=S.c[S.i])
    lit_aff = _indexed(x_lit, w0=S.w0[S.i])
    lam_i, b_i = S.lam[S.i], S.b[S.i]
    literal_loss = S.mode_sum(lam_i * lit_hom**2 / 2)
    literal_affine = S.const + S.mode_sum(lam_i * lit_aff**2 / 2 - b_i * lit_aff)
    steps = [
        C.symbolic_identity_step("loss of the derived iterate equals the claim (b = 0)",
                                 derived["loss"], claimed["loss"]),
        C.symbolic_identity_step("affine loss of the derived iterate equals the claim",
                                 derived["affine_loss"], claimed["affine_loss"]),
        C.grid_relation_step("claim equals the loss of the literally unrolled iterate (b = 0)",
                             literal_loss, "==", claimed["loss"], pts),
        C.grid_relation_step("claim equals the affine loss of the literally unrolled iterate",
                             literal_affine, "==", claimed["affine_loss"], pts),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
