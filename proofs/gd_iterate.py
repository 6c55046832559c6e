r"""GD iterate on an (affine) quadratic, per eigen-coordinate.

Claim
-----
For :math:`f(w) = \tfrac12 w^\top H w - b^\top w + c_0` with
:math:`H = \sum_i \lambda_i u_i u_i^\top` and GD :math:`w_{k+1} = w_k - \eta (H w_k - b)`,
every eigen-coordinate
:math:`x_t = \langle w_t, u_i\rangle` (with :math:`w_0, b` also written in coordinates) satisfies

.. math:: x_t = (1-\eta\lambda)^t w_0 + \frac{1 - (1-\eta\lambda)^t}{\lambda}\, b
          \qquad (\lambda > 0),

and :math:`x_t = w_0 + t\eta b` for :math:`\lambda = 0` (the limit of the first formula).
With :math:`b = 0` this is :math:`w_t = \sum_i c_i (1-\eta\lambda_i)^t u_i` (paper notes §4.1);
:math:`b \neq 0` is the least-squares case of §4.7.

Assumptions
-----------
:math:`H` symmetric positive semi-definite, :math:`t \ge 0` integer, :math:`\eta \ge 0` real.

Derivation
----------
The scalar recurrence of one eigen-coordinate is solved with :func:`sympy.rsolve`; the claim is
also verified independently by induction (it satisfies the recurrence and the initial condition),
on exact rationals, through the :math:`\lambda \to 0` limit, and by literally unrolling the
*matrix* recurrence for :math:`d = 2` with a symbolic rotation (the eigenbasis decoupling).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C
from proofs import _symbols as S

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive", "unrolled"]

TITLE = "GD iterate on an affine quadratic in the eigenbasis"
ASSUMPTIONS = (
    r"$f(w)=\tfrac12 w^\top Hw-b^\top w+c_0$, $H=H^\top\succeq 0$; "
    r"$\lambda$, $w_0$, $b$ are one eigenvalue and the matching coordinates",
    r"$t\ge 0$ integer, $\eta\ge 0$",
)
STATEMENTS = {
    "iterate": r"w_t =",
    "iterate_null": r"w_t\big|_{\lambda=0} =",
}

_x = sp.Function("x")


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Solve the per-coordinate GD recurrence with ``rsolve``.

    Returns
    -------
    mapping
        ``"iterate"``: :math:`x_t` for :math:`\\lambda > 0`; ``"iterate_null"``: for
        :math:`\\lambda = 0`.  Both are expressions in :data:`proofs._symbols.t`.

    Examples
    --------
    >>> derive()["iterate_null"]
    b*eta*t + w_0
    """
    lam, w0, b, eta, k = S.lam_i, S.w0_i, S.b_i, S.eta, S.k
    step = _x(k + 1) - (_x(k) - eta * (lam * _x(k) - b))
    general = sp.rsolve(step, _x(k), {_x(0): w0})
    null = sp.rsolve(step.subs(lam, 0), _x(k), {_x(0): w0})
    return MappingProxyType(
        {"iterate": general.subs(k, S.t), "iterate_null": sp.expand(null.subs(k, S.t))}
    )


def claim() -> Mapping[str, sp.Expr]:
    """The stated closed forms.

    Returns
    -------
    mapping
        Same keys as :func:`derive`.
    """
    zt = (1 - S.eta * S.lam_i) ** S.t
    return {
        "iterate": zt * S.w0_i + (1 - zt) / S.lam_i * S.b_i,
        "iterate_null": S.w0_i + S.t * S.eta * S.b_i,
    }


def _matrix_unroll_step(max_t: int = 3) -> C.ProofStep:
    """Literal unroll of the matrix recurrence for d = 2 with a rational rotation."""
    s = sp.Symbol("s", real=True)
    l1, l2 = sp.symbols("lambda_1 lambda_2", positive=True)
    v1, v2, b1, b2 = sp.symbols("v_1 v_2 b_1 b_2", real=True)
    den = 1 + s**2
    q = sp.Matrix([[(1 - s**2) / den, -2 * s / den], [2 * s / den, (1 - s**2) / den]])
    h = q * sp.diag(l1, l2) * q.T
    vec_b = q * sp.Matrix([b1, b2])
    w = q * sp.Matrix([v1, v2])
    form = claim()["iterate"]
    ok = True
    for tt in range(max_t + 1):
        coords = [
            form.subs({S.lam_i: lv, S.w0_i: wv, S.b_i: bv, S.t: tt})
            for lv, wv, bv in ((l1, v1, b1), (l2, v2, b2))
        ]
        diff = w - q * sp.Matrix(coords)
        ok = ok and all(sp.cancel(sp.together(e)) == 0 for e in diff)
        w = w - S.eta * (h * w - vec_b)
    return C.ProofStep(
        f"matrix recurrence for d=2, H = Q diag(lambda_1, lambda_2) Q^T (Q a symbolic rational "
        f"rotation), t = 0..{max_t}, equals Q (closed form)",
        C.METHOD_SYMBOLIC,
        ok,
        "literal unrolling; entrywise difference cancels to 0" if ok else "nonzero difference",
    )


def check() -> C.ProofResult:
    """Check the closed forms against the recurrence.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    form, null = claimed["iterate"], claimed["iterate_null"]
    lam, eta, b = S.lam_i, S.eta, S.b_i
    recurrence = form.subs(S.t, S.t + 1) - (form - eta * (lam * form - b))
    recurrence_null = null.subs(S.t, S.t + 1) - (null + eta * b)
    steps = [
        C.symbolic_identity_step("rsolve solution equals the claim (lambda > 0)",
                                 derived["iterate"], form),
        C.symbolic_identity_step("rsolve solution equals the claim (lambda = 0)",
                                 derived["iterate_null"], null),
        C.symbolic_identity_step("induction: claim satisfies x_{t+1} = x_t - eta(lambda x_t - b)",
                                 recurrence, sp.S.Zero),
        C.symbolic_identity_step("induction base: claim at t = 0 is w_0", form.subs(S.t, 0),
                                 S.w0_i),
        C.symbolic_identity_step("induction (lambda = 0): recurrence and base",
                                 recurrence_null + null.subs(S.t, 0) - S.w0_i, sp.S.Zero),
        C.symbolic_identity_step("lambda -> 0 limit of the lambda > 0 form is the null form",
                                 sp.limit(form, lam, 0), null),
        C.grid_relation_step("closed form equals literal unrolling (lambda > 0)",
                             unrolled(), "==", form, C.mode_points()),
        _matrix_unroll_step(),
    ]
    return C.make_result(__name__, TITLE, STATEMENTS, claimed, ASSUMPTIONS, steps)


def unrolled(max_t: int = max(C.T_GRID)) -> sp.Expr:
    """Literal unrolling of one coordinate's recurrence, as a Piecewise in ``t``.

    Parameters
    ----------
    max_t : int, optional
        Largest unroll length covered (``1 <= t <= max_t``).

    Returns
    -------
    sympy.Piecewise
        ``x_t`` as an explicit polynomial for each ``t``, in the scalar mode symbols.
    """
    # t = 0 is the induction base above; the t symbol is positive, so Eq(t, 0) is False.
    x: sp.Expr = S.w0_i
    pieces = []
    for tt in range(1, max_t + 1):
        x = sp.expand(x - S.eta * (S.lam_i * x - S.b_i))
        pieces.append((x, sp.Eq(S.t, tt)))
    return sp.Piecewise(*pieces)
