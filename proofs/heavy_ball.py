r"""Heavy-ball momentum per eigenmode: closed form, explosion threshold, optimal tuning.

Claim
-----
For heavy ball :math:`w_{k+1} = w_k - \eta\nabla f(w_k) + \beta(w_k - w_{k-1})`,
:math:`w_{-1} = w_0`, on a quadratic, an eigen-coordinate with eigenvalue :math:`\lambda` and
start :math:`z` satisfies, with :math:`a = 1 + \beta - \eta\lambda` and the roots
:math:`r_{1,2}` of :math:`r^2 - a r + \beta` (the eigenvalues of the companion matrix
:math:`\begin{pmatrix} a & -\beta \\ 1 & 0\end{pmatrix}`),

.. math:: x_t = z\,(p_t (1 - \eta\lambda) - \beta p_{t-1}),\qquad
          p_t = \frac{r_1^t - r_2^t}{r_1 - r_2}\ (r_1 \ne r_2),\quad p_t = t r^{t-1}\ (r_1=r_2=r).

The iteration explodes iff :math:`\rho(\eta,\beta) = \max(|r_1|, |r_2|) > 1` for some mode.
For a spectrum in :math:`[\alpha, L]` the tuning
:math:`\eta = 4/(\sqrt L + \sqrt\alpha)^2`,
:math:`\beta = ((\sqrt L - \sqrt\alpha)/(\sqrt L + \sqrt\alpha))^2` gives double roots at
:math:`\lambda = \alpha, L`, complex roots in between, and the rate
:math:`\max_\lambda \rho = \sqrt\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`; no
:math:`(\eta, \beta)` does better (checked on a grid).

Assumptions
-----------
:math:`0 \le \beta < 1`, :math:`\eta > 0`, :math:`0 < \alpha \le L`, :math:`t \ge 1` integer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import sympy as sp

from proofs import _core as C

__all__ = ["ASSUMPTIONS", "STATEMENTS", "TITLE", "check", "claim", "derive"]

TITLE = "Heavy-ball momentum: per-mode closed form, explosion threshold, optimal tuning"
ASSUMPTIONS = (
    r"$0\le\beta<1$, $\eta>0$, $\lambda$ one eigenvalue of $H$, $x_{-1}=x_0=z$",
    r"spectrum in $[\alpha, L]$, $0<\alpha\le L$, $\kappa = L/\alpha$",
)
STATEMENTS = {
    "p_distinct": r"p_t =",
    "p_double": r"p_t\big|_{r_1=r_2=r} =",
    "iterate": r"x_t =",
    "eta_opt": r"\eta^\star =",
    "beta_opt": r"\beta^\star =",
    "rate": r"\rho^\star =",
}

t, k = sp.symbols("t k", integer=True, positive=True)
r1, r2, r = sp.symbols("r_1 r_2 r", nonzero=True)
eta, beta, lam, z = sp.symbols("eta beta lambda z", positive=True)
alpha, L = sp.symbols("alpha L", positive=True)
_p = sp.Function("p")


@functools.cache
def derive() -> Mapping[str, sp.Expr]:
    """Solve p_{k+1} = (r_1 + r_2) p_k - r_1 r_2 p_{k-1}, p_0 = 0, p_1 = 1 with ``rsolve``
    (distinct and double roots), and the tuning that makes both spectrum ends double roots."""
    step = _p(k + 1) - (r1 + r2) * _p(k) + r1 * r2 * _p(k - 1)
    distinct = sp.rsolve(step, _p(k), {_p(0): 0, _p(1): 1})
    double = sp.rsolve(step.subs({r1: r, r2: r}), _p(k), {_p(0): 0, _p(1): 1})
    # discriminant (1 + beta - eta lam)^2 - 4 beta vanishes iff eta lam = (1 -+ sqrt(beta))^2
    s = sp.symbols("s", positive=True)  # s = sqrt(beta)
    sol = sp.solve([(1 - s) ** 2 - eta * alpha, (1 + s) ** 2 - eta * L], [eta, s], dict=True)
    # the momentum root: 0 <= sqrt(beta) < 1 (the other root has sqrt(beta) > 1)
    probe = {alpha: 1, L: 4}
    good = [x for x in sol if 0 <= x[s].subs(probe) < 1 and x[eta].subs(probe) > 0]
    e_opt, s_opt = sp.simplify(good[0][eta]), sp.simplify(good[0][s])
    return MappingProxyType(
        {
            "p_distinct": sp.simplify(distinct.subs(k, t)),
            "p_double": sp.simplify(double.subs(k, t)),
            "eta_opt": e_opt,
            "beta_opt": sp.simplify(s_opt**2),
            "rate": s_opt,
        }
    )


def claim() -> Mapping[str, sp.Expr]:
    """The claimed statements (see the module docstring)."""
    a = 1 + beta - eta * lam
    p = (r1**t - r2**t) / (r1 - r2)
    sq = sp.sqrt(L) + sp.sqrt(alpha)
    return MappingProxyType(
        {
            "p_distinct": p,
            "p_double": t * r ** (t - 1),
            "iterate": z * (p * (1 - eta * lam) - beta * p.subs(t, t - 1)),
            "eta_opt": 4 / sq**2,
            "beta_opt": ((sp.sqrt(L) - sp.sqrt(alpha)) / sq) ** 2,
            "rate": (sp.sqrt(L / alpha) - 1) / (sp.sqrt(L / alpha) + 1),
            "_a": a,
        }
    )


def _recurrence_step() -> C.ProofStep:
    """x_t of the claim satisfies x_{t+1} = a x_t - beta x_{t-1} with x_0 = x_{-1} = z when
    r_1 + r_2 = a, r_1 r_2 = beta (Vieta), checked symbolically."""
    c = claim()
    x = c["iterate"].subs({beta: r1 * r2, lam: (1 + r1 * r2 - (r1 + r2)) / eta})
    a = r1 + r2
    rec = x.subs(t, t + 1) - a * x + r1 * r2 * x.subs(t, t - 1)
    ok = C.is_symbolically_zero(sp.simplify(sp.expand(rec)))
    base0 = sp.simplify(x.subs(t, 0) - z) == 0
    base1 = sp.simplify(x.subs(t, 1) - z * (1 - (1 + r1 * r2 - a))) == 0
    return C.symbolic_step(
        "closed form satisfies the heavy-ball recurrence, x_0 = z, x_1 = (1 - eta lambda) z",
        bool(ok and base0 and base1),
    )


def _tuning_steps() -> list[C.ProofStep]:
    c = claim()
    e, b = c["eta_opt"], c["beta_opt"]
    disc = (1 + b - e * lam) ** 2 - 4 * b
    factor = e**2 * (lam - alpha) * (lam - L)
    u = sp.Symbol("u", positive=True)  # L = alpha (1 + u)^2 > alpha, so signs are known
    kappa_rate = (sp.sqrt(b) - c["rate"]).subs(L, alpha * (1 + u) ** 2)
    return [
        C.symbolic_identity_step(
            "at the tuning the discriminant is eta^2 (lambda - alpha)(lambda - L): double roots "
            "at alpha and L, complex roots (|r| = sqrt(beta)) in between",
            sp.expand(disc),
            sp.expand(factor),
        ),
        C.symbolic_identity_step(
            "rate sqrt(beta*) = (sqrt(kappa) - 1)/(sqrt(kappa) + 1)",
            sp.simplify(kappa_rate),
            sp.S.Zero,
        ),
    ]


def _spectral_radius(e: sp.Expr, b: sp.Expr, lmb: sp.Expr) -> sp.Expr:
    a = 1 + b - e * lmb
    s = sp.sqrt(sp.Abs(a * a - 4 * b))
    return sp.Max(sp.sqrt(b), (sp.Abs(a) + s) / 2) if a * a - 4 * b >= 0 else sp.sqrt(b)


def _grid_step() -> C.ProofStep:
    """No (eta, beta) on an exact rational grid beats the claimed optimal rate on [1, 16]
    (max over lambda in {1, 16} alone already suffices for a lower bound)."""
    al, ll = sp.Integer(1), sp.Integer(16)
    rate = claim()["rate"].subs({alpha: al, L: ll})  # = 3/5
    worse = 0
    n = 0
    for i in range(1, 21):
        for j in range(0, 20):
            e, b = sp.Rational(i, 80), sp.Rational(j, 20)
            worst = max(_spectral_radius(e, b, lmb) for lmb in (al, ll))
            n += 1
            if (worst - rate).evalf(50) < 0:
                worse += 1
    e0, b0 = (claim()["eta_opt"].subs({alpha: al, L: ll}), claim()["beta_opt"].subs(
        {alpha: al, L: ll}))
    attained = sp.simplify(max(_spectral_radius(e0, b0, x) for x in (al, ll)) - rate) == 0
    return C.symbolic_step(
        "grid of 400 exact (eta, beta): none has max(rho(alpha), rho(L)) below the rate; the "
        "tuning attains it",
        worse == 0 and attained,
        f"{worse} of {n} grid points beat the rate; attained: {attained}",
    )


def check() -> C.ProofResult:
    """Check the derivation against the claim, the recurrence and the grid.

    Returns
    -------
    ProofResult
        The record; ``passed`` is True iff every step passed.
    """
    derived, claimed = derive(), claim()
    steps = [
        C.symbolic_identity_step(
            "rsolve: p_t for distinct roots", derived["p_distinct"], claimed["p_distinct"]
        ),
        C.symbolic_identity_step(
            "rsolve: p_t for a double root", derived["p_double"], claimed["p_double"]
        ),
        _recurrence_step(),
        C.symbolic_identity_step(
            "double-root tuning: eta", derived["eta_opt"], claimed["eta_opt"]
        ),
        C.symbolic_identity_step(
            "double-root tuning: beta", derived["beta_opt"], claimed["beta_opt"]
        ),
        *_tuning_steps(),
        _grid_step(),
    ]
    shown = {key: v for key, v in claimed.items() if not key.startswith("_")}
    return C.make_result(__name__, TITLE, STATEMENTS, shown, ASSUMPTIONS, steps)
