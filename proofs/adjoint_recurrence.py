r"""Reverse mode (adjoint recurrence) equals forward mode; magnitudes behind Corollary 1.

Claim
-----
For :math:`\hat F = \tfrac1t\log f(w_t)`, :math:`w_{\tau+1} = (I-\eta H)w_\tau`:

* forward mode: :math:`\dot w_{\tau+1} = (I-\eta H)\dot w_\tau - H w_\tau`, :math:`\dot w_0 = 0`,
  :math:`\hat F' = \langle \nabla_{w_t}\hat F, \dot w_t\rangle`;
* reverse mode (paper notes §4.5): :math:`\bar w_t = H w_t / (t f(w_t))`,
  :math:`\bar w_\tau = (I-\eta H)\bar w_{\tau+1}`,
  :math:`\hat F' = \sum_{\tau=0}^{t-1}\langle \bar w_{\tau+1}, -H w_\tau\rangle`;

both equal :math:`-2\sum_i c_i^2\lambda_i^2 z_i^{2t-1} / \sum_i c_i^2\lambda_i z_i^{2t}` exactly.
The intermediates are exponentially large or small in :math:`t` (Corollary 1):

.. math::
   \tfrac12 c_{\min}^2\alpha\,\rho^{2t} \le f(w_t) \le \tfrac12 L\rho^{2t},\qquad
   |\bar w_{t,i}| \le \frac{2L}{c_{\min}^2\alpha\,t}\rho^{-t},\qquad
   \max(|\bar w_{t,1}|, |\bar w_{t,d}|) \ge \frac{2\alpha c_{\min}}{L\,t}\rho^{-t},

and :math:`\bar w_\tau = (I-\eta H)^{t-\tau}\bar w_t`.

Assumptions
-----------
:math:`\alpha\le\lambda_i\le L`, :math:`L>\alpha>0`, :math:`\sum_i c_i^2=1`, :math:`c_{\min}>0`,
:math:`t\ge1` integer, :math:`\eta\ge0`.

Derivation
----------
In the eigenbasis, the tangent and adjoint recurrences are solved with :func:`sympy.rsolve` for
symbolic :math:`t` and the sum over :math:`\tau` with :func:`sympy.summation`.  Independently,
for :math:`d = 2` with symbolic :math:`H` entries, :math:`w_0` and :math:`\eta`, the forward
derivative of the literally unrolled objective (``sympy.diff``) is compared with a literal
reverse sweep for :math:`t \le 4` (naive objective) and :math:`t \le 2` (log objective).
The magnitude bounds are checked by exact rational evaluation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S
from proofs import gd_iterate, gd_loss, log_meta_gradient

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive", "tightness"]

TITLE = "Reverse-mode adjoint recurrence equals forward mode; Corollary 1 magnitudes"
ASSUMPTIONS = (
    r"$\alpha\le\lambda_i\le L$, $L>\alpha>0$, $\sum_i c_i^2=1$, $c_{\min}>0$",
    r"$t\ge 1$ integer, $\eta\ge 0$; literal check: $d=2$, symbolic $H$, $t\le 4$",
)
STATEMENTS = {
    "reverse": r"\sum_{\tau=0}^{t-1}\langle\bar w_{\tau+1},-Hw_\tau\rangle =",
    "forward": r"\langle\nabla_{w_t}\hat F,\dot w_t\rangle =",
    "loss_upper": r"f(w_t) \le",
    "loss_lower": r"f(w_t) \ge",
    "adjoint_upper": r"|\bar w_{t,i}| \le",
    "adjoint_lower": r"\max(|\bar w_{t,1}|,|\bar w_{t,d}|) \ge",
}

_x = sp.Function("x")
_tau = sp.Symbol("tau", integer=True, nonnegative=True)


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Solve the tangent and adjoint recurrences in the eigenbasis.

    Returns
    -------
    mapping
        ``"forward"``, ``"reverse"`` (meta-gradients), ``"adjoint_t"`` (:math:`\\bar w_{t,i}`)
        and ``"adjoint_tau"`` (:math:`\\bar w_{\\tau,i}`), in the scalar mode symbols and
        :math:`f` = the derived loss.
    """
    k, t, z, lam, c = S.k, S.t, S.z, S.lam_i, S.c_i
    x = gd_iterate.derive()["iterate"].subs({S.b_i: 0, S.w0_i: c}).subs(1 - S.eta * lam, z)
    x_k = x.subs(t, k)
    tangent = sp.rsolve(_x(k + 1) - z * _x(k) + lam * x_k, _x(k), {_x(0): 0})
    f = sp.Symbol("f", positive=True)  # f(w_t); substituted after leaving the scalar mode
    adj_t = lam * x / (t * f)  # d/dw_t of log(f)/t, mode i
    adj = sp.rsolve(_x(k + 1) - z * _x(k), _x(k), {_x(0): adj_t})  # k = t - tau steps back
    # reverse accumulation: sum over tau of adjoint(tau+1) * (-lam * x_tau), per mode
    per_mode = sp.powsimp(adj.subs(k, t - _tau - 1) * (-lam * x.subs(t, _tau)), combine="exp")
    rev_mode = sp.summation(sp.powsimp(sp.expand(per_mode)), (_tau, 0, t - 1))
    fwd_mode = adj_t * tangent.subs(k, t)
    to_idx = {lam: S.lam[S.i], c: S.c[S.i], z: S.z_i}

    loss = gd_loss.derive()["loss"]

    def total(mode_expr: sp.Expr) -> sp.Expr:
        inner = sp.simplify(mode_expr * f)  # f does not depend on the mode index
        return S.mode_sum(inner.xreplace(to_idx)) / loss

    return MappingProxyType(
        {
            "forward": total(fwd_mode),
            "reverse": total(rev_mode),
            "adjoint_t": adj_t.xreplace(to_idx).xreplace({f: loss}),
            "adjoint_tau": adj.subs(k, t - _tau).xreplace(to_idx).xreplace({f: loss}),
        }
    )


def claim() -> Mapping[str, sp.Expr]:
    """The common value of both modes and the magnitude bounds.

    Returns
    -------
    mapping
        Keys of :data:`STATEMENTS`.
    """
    ratio = log_meta_gradient.claim()["gradient"]
    t, big, a, cm, rho = S.t, S.L, S.alpha, S.c_min, S.rho
    return {
        "reverse": ratio,
        "forward": ratio,
        "loss_upper": big * rho ** (2 * t) / 2,
        "loss_lower": cm**2 * a * rho ** (2 * t) / 2,
        "adjoint_upper": 2 * big / (cm**2 * a * t) * rho ** (-t),
        "adjoint_lower": 2 * a * cm / (big * t) * rho ** (-t),
    }


def _literal_step(max_t: int, *, log_objective: bool) -> C.ProofStep:
    h11, h12, h22, v1, v2 = sp.symbols("h_11 h_12 h_22 v_1 v_2", real=True)
    eta = S.eta
    h = sp.Matrix([[h11, h12], [h12, h22]])
    ok = True
    for tt in range(1, max_t + 1):
        ws = [sp.Matrix([v1, v2])]
        for _ in range(tt):
            ws.append(ws[-1] - eta * h * ws[-1])
        f = sp.expand((ws[-1].T * h * ws[-1])[0] / 2)
        objective = sp.log(f) / tt if log_objective else f
        forward = sp.diff(objective, eta)
        wbar = h * ws[-1] / (tt * f) if log_objective else h * ws[-1]
        reverse: sp.Expr = sp.S.Zero
        for tau in reversed(range(tt)):
            reverse += (wbar.T * (-h * ws[tau]))[0]
            wbar = wbar - eta * h * wbar
        diff = forward - reverse
        ok = ok and (sp.cancel(sp.together(diff)) if log_objective else sp.expand(diff)) == 0
    name = "log" if log_objective else "naive"
    return C.ProofStep(
        f"literal reverse sweep equals d/d eta of the unrolled {name} objective, d = 2, "
        f"symbolic H, w_0, eta, t = 1..{max_t}",
        C.METHOD_SYMBOLIC,
        ok,
        "difference cancels to 0" if ok else "nonzero difference",
    )


def _alpha_mode_alone(inst: C.Instance, eta: Fraction) -> bool:
    """eta = 1/lambda_i silences every mode but the last, which carries c_min (|c_d| <= |c_1|)."""
    others = all(1 - eta * lam == 0 for lam in inst.eigs[:-1])
    return others and abs(inst.cs[-1]) <= abs(inst.cs[0])


def tightness(claimed: Mapping[str, sp.Expr]) -> list[C.ProofStep]:
    """The loss bounds are attained, so a weaker (still true) claim fails.

    Parameters
    ----------
    claimed : mapping
        :func:`claim`'s bounds (or a replacement, in the tests).

    Returns
    -------
    list of ProofStep
        ``loss_upper`` is an equality at w_0 = u_1 for eta >= 2/(L + alpha) (then
        rho = |1 - eta L|); ``loss_lower`` is an equality where eta = 1/lambda_i silences
        every mode but the alpha mode and that mode carries c_min (then rho = 1 - eta alpha).
        The adjoint bounds are not tight (the upper one bounds |c_i| by 1 and f from below by
        the loss lower bound, which needs c_1 = 0 where |c_i| = 1 needs all weight on mode i;
        the lower one needs c_1^2 = 1 and c_min > 0 at once) and are not checked for it.
    """
    f = gd_loss.claim()["loss"]
    return [
        C.grid_relation_step(
            "tight: f(w_t) = L rho^(2t) / 2 at w_0 = u_1 for every eta >= 2/(L+alpha)",
            f, "==", claimed["loss_upper"],
            C.top_mode_points(lambda inst, e: e >= 2 / (inst.eigs[0] + inst.eigs[-1]))),
        C.grid_relation_step(
            "tight: f(w_t) = c_min^2 alpha rho^(2t) / 2 where only the alpha mode, carrying "
            "c_min, survives (eta = 1/lambda_i for the others)",
            f, "==", claimed["loss_lower"], C.spectral_points(_alpha_mode_alone),
            min_points=2 * len(C.T_GRID)),
    ]


def check() -> C.ProofResult:
    """Check both modes and the magnitude bounds.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    pts = C.spectral_points()
    f = gd_loss.claim()["loss"]
    t = S.t
    adj_i = sp.Abs(S.lam[S.i] * S.c[S.i] * S.z_i**t) / (t * f)
    adj_1 = sp.Abs(S.L * S.c_1 * (1 - S.eta * S.L) ** t) / (t * f)
    adj_d = sp.Abs(S.alpha * S.c_d * (1 - S.eta * S.alpha) ** t) / (t * f)
    steps = [
        C.symbolic_identity_step("adjoint seed bar w_t = H w_t / (t f(w_t)) in mode i",
                                 derived["adjoint_t"], S.lam[S.i] * S.c[S.i] * S.z_i**t / (t * f)),
        C.symbolic_identity_step("reverse mode (rsolve + summation) equals the claim",
                                 derived["reverse"], claimed["reverse"]),
        C.symbolic_identity_step("forward mode (rsolve) equals the claim",
                                 derived["forward"], claimed["forward"]),
        C.symbolic_identity_step("reverse equals forward", derived["reverse"],
                                 derived["forward"]),
        C.symbolic_identity_step("adjoint: bar w_tau = z^(t-tau) bar w_t",
                                 derived["adjoint_tau"],
                                 S.z_i ** (t - _tau) * derived["adjoint_t"]),
        _literal_step(4, log_objective=False),
        _literal_step(2, log_objective=True),
        C.grid_relation_step("f(w_t) <= L rho^(2t) / 2", f, "<=", claimed["loss_upper"], pts),
        C.grid_relation_step("f(w_t) >= c_min^2 alpha rho^(2t) / 2", f, ">=",
                             claimed["loss_lower"], pts),
        C.grid_relation_step("|bar w_(t,i)| <= 2L / (c_min^2 alpha t) rho^-t", adj_i, "<=",
                             claimed["adjoint_upper"], pts, forall_index=True),
        C.grid_relation_step("max(|bar w_(t,1)|, |bar w_(t,d)|) >= 2 alpha c_min / (L t) rho^-t",
                             sp.Max(adj_1, adj_d), ">=", claimed["adjoint_lower"], pts),
        *tightness(claimed),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)
