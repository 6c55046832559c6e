"""Certified Adam (bias-corrected; RMSProp is ``beta1 = 0``): values and meta-gradients.

The inner optimizer, as ``torch.optim.Adam`` / ``optax.adam`` define it, on a quadratic
(or least-squares) loss f with gradient g_k = H w_k - b, m_0 = v_0 = 0 and n = k + 1::

    m_n = beta1 m_{n-1} + (1 - beta1) g_k        mhat = m_n / (1 - beta1^n)
    v_n = beta2 v_{n-1} + (1 - beta2) g_k^2      vhat = v_n / (1 - beta2^n)
    w_{k+1} = w_k - eta u_k,   u_k = mhat / (sqrt(vhat) + eps)          (entrywise)

Values and first derivatives in one hyperparameter theta (``wrt``: eta, beta1, beta2 or eps)
are carried forward in Arb ball arithmetic for ``t`` steps (forward mode; no
eigendecomposition: Adam is not linear). The meta-objective (naive g(w_t) or log
(1/t) log g(w_t)) is composed at the end. Precision doubles from a start derived from
``rel_tol`` up to ``max_prec_bits``; past it :class:`~verify.errors.NotCertifiedError`.

The square root at 0
--------------------
Where vhat_i = 0 at some step (every gradient of coordinate i so far was 0 when beta2 > 0;
the current one when beta2 = 0), autodiff forms d sqrt(v)/dv = 1/(2 sqrt 0) = inf and
returns NaN. The exact answer:

* **Case A (beta2 > 0, or beta1 = 0): the meta-gradient exists, and the sqrt path contributes
  exactly 0.** vhat_i = 0 forces every g_{j,i} = 0 (j <= k), hence mhat_i = 0. With
  s = sqrt(vhat) continuous and s(theta_0) = 0, (u(theta) - u(theta_0)) / (theta - theta_0)
  = (mhat(theta)/(theta - theta_0)) / (s(theta) + eps) -> mhat'/eps: u is differentiable with
  u' = mhat'/eps (eps > 0 makes the map smooth in the denominator even though sqrt is not).
  By induction every step is differentiable and so is F. This is what masking the sqrt's
  adjoint to 0 computes (higher's DifferentiableAdam). A NaN there is an autodiff artefact: a
  failure (the truth is finite). The second derivative generally does *not* exist there
  (mhat * s ~ c (theta - theta_0)|theta - theta_0|), so no meta-Hessian is offered.
* **Case B (beta2 = 0 and beta1 > 0): the meta-gradient may not exist.** vhat_i = g_{k,i}^2
  vanishes with mhat_i != 0 (earlier gradients remembered by beta1), and s = |g_{k,i}| has a
  kink of slope +-|g'|: u has one-sided derivatives mhat'/eps -+ mhat |g'|/eps^2. The engine
  then carries both one-sided derivatives D+F and D-F; F is differentiable iff D+F = -D-F.
  Proven different: :class:`NotDifferentiableError` (a NaN from autodiff there has no true
  value to miss: classify it "undefined", not a failure). Not separable by balls:
  NotCertifiedError.

In ball arithmetic a vhat_i whose ball contains 0 is handled in Case A by an enclosure valid
whether vhat_i(theta_0) is 0 or positive: s in [0, sqrt(hi)], and |s'| <= sqrt(Qhat) + K s/2
with Q_n = beta2 Q_{n-1} + (1 - beta2) g'^2 (Cauchy-Schwarz on v' = 2 sum w_j g_j g_j';
K bounds |w_j'/w_j| when theta = beta2, else 0); the radius then shrinks with mhat_i's ball
as precision rises. In Case B only an exact zero ball (a zero Arb proves) is accepted.
Coordinates whose gradient is structurally 0 for every theta (outside the closure of the
support of g_0 under H's sparsity pattern) are frozen exactly.

The range where enclosures stay tight: ball radii grow with the step Jacobian's amplification
(wrapping), about t log2 ||J|| bits; precision doubles from rel_tol's bits + 64 to the cap.
Measured (d = 100, H = X X^T/d + I/10, eta = 1e-3, torch defaults): t = 100 loses ~16 bits
(certified at the start precision, 144 bits, 0.2 s); t = 1000 loses ~245 bits (needs 576 bits,
~4 s). At ~0.25 bits per step the 8192-bit cap reaches t ~ 3e4 on such problems; faster
growth (large eta, ill-conditioning) shortens it. Beyond the cap: NotCertifiedError.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import Any

from ..certified.enclosure import Enclosure
from ..errors import (
    InvalidPrecisionError,
    NotCertifiedError,
    NotDifferentiableError,
    UnsupportedOptionError,
    ZeroLossError,
)
from ..objectives import compose
from ..problems import Problem
from ..validation import (
    ADAM_DEFAULTS,
    AdamSettings,
    Point,
    validate_adam,
    validate_point,
    validate_rel_tol,
)
from . import rational
from .engine import (
    DEFAULT_MAX_PREC_BITS,
    DEFAULT_REL_TOL,
    _check_log_definiteness,
    _hessian,
    _loss_derivatives,
)

__all__ = [
    "ADAM_DEFAULTS",
    "NotDifferentiableError",
    "adam_meta_gradient",
    "adam_meta_objective",
    "adam_reference",
]


# --------------------------------------------------------------------------- setup
@dataclass(frozen=True)
class _Start:
    """Exact data of the run: g_0 = grad f(w_0) and the coordinates that can ever move."""

    g0: list[Fraction]
    active: frozenset[int]


def _start(problem: Problem) -> _Start:
    def make() -> _Start:
        data = rational.ExactData(problem)
        g0 = data.grad([Fraction(float(x)) for x in problem.w0])
        active = {i for i, x in enumerate(g0) if x != 0}
        frontier = list(active)
        while frontier:  # closure under H's sparsity: u_j != 0 moves g_i where H_ij != 0
            j = frontier.pop()
            for i in range(problem.d):
                if i not in active and data.H[i][j] != 0:
                    active.add(i)
                    frontier.append(i)
        return _Start(g0, frozenset(active))

    return problem.cached("truth.adam:start", make)


def _q(x: Fraction) -> Any:
    from flint import arb, fmpq

    return arb(fmpq(x.numerator, x.denominator))


@dataclass
class _Run:
    """Ball state of the unrolled run: values and one tangent list per direction."""

    w: list[Any]
    g: list[Any]
    m: list[Any]
    v: list[Any]
    dw: list[list[Any]]
    dg: list[list[Any]]
    dm: list[list[Any]]
    dv: list[list[Any]]
    q: list[Any]  # Q = beta2 Q + (1 - beta2) g'^2 (direction +1; Case A bound)
    kinked: bool = False


def _hyper(s: AdamSettings, sigma: int) -> dict[str, Any]:
    """The hyperparameters as exact balls and their tangents D_sigma (sigma on ``wrt``)."""
    from flint import arb

    out = {}
    for name in ("eta", "beta1", "beta2", "eps"):
        out[name] = _q(s.value(name))
        out["d" + name] = arb(sigma if s.wrt == name else 0)
    return out


# --------------------------------------------------------------------------- one step
def _sqrt_rule(
    vh: Any, dvh: list[Any], dg: list[Any], qh: Any, kk: Any, two_sided: bool
) -> tuple[Any, list[Any]] | None:
    """(s, [D s per direction]) for s = sqrt(vhat) of one coordinate, or None if unresolved."""
    from flint import arb

    if vh > 0:
        s = vh.sqrt()
        return s, [d / (2 * s) for d in dvh]
    if two_sided:  # Case B possible: beta2 = 0, vhat = g^2, s = |g|
        if not vh.is_zero():
            return None
        return arb(0), [abs(d) for d in dg]
    s = vh.nonnegative_part().sqrt()  # Case A: any s in [0, sqrt(hi)], |s'| <= bound
    bound = qh.nonnegative_part().sqrt() + kk * s / 2
    hi = bound.upper()
    return s, [hi.union(-hi)]


def _step(
    run: _Run,
    n: int,
    hp: list[dict[str, Any]],
    pw: dict[str, Any],
    two_sided: bool,
    active: frozenset[int],
) -> list[Any] | None:
    """Advance ``run`` by one Adam step (n = k + 1); returns the update's tangents z or None."""
    from flint import arb

    h0 = hp[0]
    b1, b2, eps, eta = h0["beta1"], h0["beta2"], h0["eps"], h0["eta"]
    dirs = range(len(hp))
    c1, c2 = 1 - pw["p1"], 1 - pw["p2"]
    u = [arb(0)] * len(run.w)
    z = [[arb(0)] * len(run.w) for _ in dirs]
    for i in active:
        g = run.g[i]
        mp, vp = run.m[i], run.v[i]
        run.m[i] = b1 * mp + (1 - b1) * g
        run.v[i] = b2 * vp + (1 - b2) * g * g
        for a in dirs:
            h, dg = hp[a], run.dg[a][i]
            run.dm[a][i] = h["dbeta1"] * (mp - g) + b1 * run.dm[a][i] + (1 - b1) * dg
            run.dv[a][i] = h["dbeta2"] * (vp - g * g) + b2 * run.dv[a][i] + 2 * (1 - b2) * g * dg
        run.q[i] = b2 * run.q[i] + (1 - b2) * run.dg[0][i] * run.dg[0][i]
        mh, vh = run.m[i] / c1, run.v[i] / c2
        dmh = [(run.dm[a][i] + mh * pw["dp1"][a]) / c1 for a in dirs]
        dvh = [(run.dv[a][i] + vh * pw["dp2"][a]) / c2 for a in dirs]
        rule = _sqrt_rule(vh, dvh, [run.dg[a][i] for a in dirs], run.q[i] / c2, pw["K"], two_sided)
        if rule is None:
            return None
        s, ds = rule
        den = s + eps
        u[i] = mh / den
        for a in dirs:
            if two_sided and not vh > 0 and not (mh.is_zero() or ds[a].is_zero()):
                run.kinked = True
            du = dmh[a] / den - mh * (ds[a] + hp[a]["deps"]) / (den * den)
            z[a][i] = hp[a]["deta"] * u[i] + eta * du
    _apply(run, u, z, eta, pw["H"], active)
    return z


def _apply(
    run: _Run, u: list[Any], z: list[list[Any]], eta: Any, H: Any, active: frozenset[int]
) -> None:
    """w -= eta u, g -= eta H u and the tangents (one matrix product for all columns)."""
    from flint import arb_mat

    d = len(u)
    cols = arb_mat([[u[i]] + [za[i] for za in z] for i in range(d)])
    Hc = H * cols
    for i in active:
        run.w[i] -= eta * u[i]
        run.g[i] -= eta * Hc[i, 0]
        for a, za in enumerate(z):
            run.dw[a][i] -= za[i]
            run.dg[a][i] -= Hc[i, a + 1]


def _powers(pw: dict[str, Any], hp: list[dict[str, Any]], n: int) -> None:
    """Advance beta^n and D beta^n (bias corrections) and K_n (theta = beta2 bound)."""
    b1, b2 = hp[0]["beta1"], hp[0]["beta2"]
    pw["dp1"] = [h["dbeta1"] * pw["p1"] + b1 * d for h, d in zip(hp, pw["dp1"], strict=True)]
    pw["dp2"] = [h["dbeta2"] * pw["p2"] + b2 * d for h, d in zip(hp, pw["dp2"], strict=True)]
    pw["p1"], pw["p2"] = b1 * pw["p1"], b2 * pw["p2"]
    if hp[0]["dbeta2"] != 0:  # |d/dbeta2 log w_j| <= 1/(1-b2) + (n-1)/b2 + n b2^(n-1)/(1-b2^n)
        pw["K"] = 1 / (1 - b2) + (n - 1) / b2 + n * (pw["p2"] / b2) / (1 - pw["p2"])


# --------------------------------------------------------------------------- the run
def _unroll(problem: Problem, s: AdamSettings, t: int, prec: int) -> _Run | None:
    """Forward-mode Adam for ``t`` steps at ``prec`` bits; None where a sign is unresolved."""
    from flint import arb, ctx

    start = _start(problem)
    two_sided = s.beta2 == 0 and s.beta1 > 0
    sigmas = (1, -1) if two_sided else (1,)
    d = problem.d
    with ctx.workprec(prec):
        hp = [_hyper(s, sg) for sg in sigmas]
        zeros = [arb(0)] * d
        run = _Run(
            w=[_q(Fraction(float(x))) for x in problem.w0],
            g=[_q(x) for x in start.g0],
            m=list(zeros),
            v=list(zeros),
            dw=[list(zeros) for _ in sigmas],
            dg=[list(zeros) for _ in sigmas],
            dm=[list(zeros) for _ in sigmas],
            dv=[list(zeros) for _ in sigmas],
            q=list(zeros),
        )
        pw: dict[str, Any] = {
            "p1": arb(1),
            "p2": arb(1),
            "dp1": [arb(0)] * len(sigmas),
            "dp2": [arb(0)] * len(sigmas),
            "K": arb(0),
            "H": _hessian(problem, prec),
        }
        for n in range(1, t + 1):
            _powers(pw, hp, n)
            if _step(run, n, hp, pw, two_sided, start.active) is None:
                return None
    return run


def _col(xs: list[Any]) -> Any:
    from flint import arb_mat

    return arb_mat([[x] for x in xs])


def _compute(point: Point, s: AdamSettings, order: int, prec: int) -> Any:
    """The meta-objective (order 0) or its derivative (order 1) as a ball, or None."""
    from flint import ctx

    run = _unroll(point.problem, s, point.t, prec)
    if run is None:
        return None
    with ctx.workprec(prec):
        w = _col(run.w)
        outs = []
        for a in range(len(run.dw)):
            g = _loss_derivatives(point.evaluated_on, w, _col(run.dw[a]), None, order)
            if point.objective == "log":
                if g[0].is_zero() or g[0] < 0:
                    raise ZeroLossError(
                        s.wrt,
                        float(s.value(s.wrt)),
                        f"the loss at w_t (t={point.t}) is <= 0; log undefined",
                    )
                if not g[0] > 0:
                    return None
            g += [None] * (3 - len(g))
            outs.append(
                compose(
                    point.objective, point.t, g[0], g[1], g[2], log=lambda x: x.log(), order=order
                )[order]
            )
            if order == 0:
                return outs[0]
        if len(outs) == 1:
            return outs[0]
        right, left = outs[0], -outs[1]
        if not right.overlaps(left):
            raise NotDifferentiableError(
                s.wrt,
                float(s.value(s.wrt)),
                Enclosure.from_arb(right, prec),
                Enclosure.from_arb(left, prec),
            )
        return right if not run.kinked else None


def _certify(
    problem: Problem,
    eta: object,
    t: object,
    *,
    beta1: object,
    beta2: object,
    eps: object,
    wrt: object,
    objective: object,
    eval_problem: Problem | None,
    rel_tol: object,
    max_prec_bits: object,
    order: int,
) -> Enclosure:
    s = validate_adam(eta, beta1, beta2, eps, wrt)
    point = validate_point(problem, s.eta, t, objective, eval_problem)
    if isinstance(max_prec_bits, bool) or not isinstance(max_prec_bits, int) or max_prec_bits < 64:
        raise InvalidPrecisionError("max_prec_bits", max_prec_bits, "must be an int >= 64")
    tol = validate_rel_tol(rel_tol, max_prec_bits=max_prec_bits)
    if order >= 1 and s.wrt == "beta2" and s.beta2 == 0:
        raise UnsupportedOptionError(
            "wrt", wrt, "beta2 = 0 is the end of its domain [0, 1): no two-sided derivative"
        )
    if point.objective == "log":
        _check_log_definiteness(
            point.evaluated_on, "problem" if eval_problem is None else "eval_problem"
        )
    if order >= 1 and point.t == 0:
        return Enclosure.exact(0)
    tol_bits = tol.denominator.bit_length() - tol.numerator.bit_length()
    prec = min(max_prec_bits, max(128, tol_bits + 64))
    achieved = float("inf")
    while prec <= max_prec_bits:
        x = _compute(point, s, order, prec)
        if x is not None and x.is_finite():
            if x.is_zero():
                return Enclosure.exact(0)
            enc = Enclosure.from_arb(x, prec)
            if enc.meets_rel_tol(tol):
                return enc
            achieved = enc.rel_radius()
        prec *= 2
    what = "meta-objective" if order == 0 else f"meta-gradient in {s.wrt}"
    raise NotCertifiedError(
        f"could not certify the Adam {what} (objective={point.objective!r}, "
        f"eta={float(s.eta)!r}, beta1={float(s.beta1)!r}, beta2={float(s.beta2)!r}, "
        f"eps={float(s.eps)!r}, t={point.t}) to relative radius {float(tol):.3g} within "
        f"max_prec_bits={max_prec_bits}; reached {achieved:.3g}. Ball growth over the unrolled "
        "steps, a value at or extraordinarily near 0, a second moment not separable from 0 "
        "(beta2 = 0 < beta1), or one-sided derivatives not separable at a kink.",
        prec_bits=max_prec_bits,
        achieved_rel=achieved,
    )


_DOC = """
    Parameters
    ----------
    problem : Quadratic or LeastSquares
        The training problem; Adam runs on it from ``problem.w0``.
    eta : float, int or Fraction
        Learning rate, > 0, used exactly (a float is the dyadic rational it holds).
    t : int
        Number of Adam steps, >= 0 (>= 1 for ``objective="log"``).
    beta1, beta2 : float, int or Fraction
        Moment decays in [0, 1), exact (default torch's 0.9, 0.999; ``beta1=0``: RMSProp).
    eps : float, int or Fraction
        Denominator offset, > 0, exact (default 1e-8 as the float64 it is).
    objective : {"log", "naive"}
        ``"naive"``: F = g(w_t); ``"log"``: F = (1/t) log g(w_t).
    eval_problem : Quadratic or LeastSquares, optional
        Loss g evaluated at w_t; defaults to ``problem``.
    rel_tol : float or Fraction
        Required relative radius (default 2**-80).
    max_prec_bits : int
        Precision cap; past it :class:`~verify.errors.NotCertifiedError` is raised.

    Returns
    -------
    Enclosure
        A proven interval around the exact value, relative radius <= ``rel_tol`` (or exactly
        0 when the ball is the exact zero).

    Guarantee
    ---------
    Enclosure proven by ball arithmetic (python-flint / Arb) over the exact rational inputs,
    including the points where Adam's second moment is exactly 0 (module docstring: the
    derivative there is the limit mhat'/eps, proven to exist). Never returns an unproven
    number. Cost O(t d^2) per precision tried.

    Accuracy
    --------
    Relative radius <= ``rel_tol``; enclosures stay tight while the ball growth over t steps
    (about t log2 of the step Jacobian's norm bits) stays below ``max_prec_bits``.

    Raises
    ------
    InvalidStepSizeError
        ``eta <= 0``, ``beta1`` or ``beta2`` outside [0, 1), ``eps <= 0`` (names the argument).
    UnknownOptionError, UnsupportedOptionError, InvalidHorizonError, InvalidPrecisionError,
    ShapeMismatchError
        Other bad arguments; ``wrt="beta2"`` at ``beta2 = 0`` (a domain end).
    NotPositiveDefiniteError, ZeroLossError
        The log objective on a problem that is not positive definite, or at a loss <= 0.
    NotDifferentiableError
        (meta-gradient) The derivative is proven not to exist (beta2 = 0 < beta1 only).
    NotCertifiedError
        The tolerance cannot be met within ``max_prec_bits``.
"""


def adam_meta_objective(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    beta1: float | Fraction = ADAM_DEFAULTS[0],
    beta2: float | Fraction = ADAM_DEFAULTS[1],
    eps: float | Fraction = ADAM_DEFAULTS[2],
    objective: str = "log",
    eval_problem: Problem | None = None,
    rel_tol: float | Fraction = DEFAULT_REL_TOL,
    max_prec_bits: int = DEFAULT_MAX_PREC_BITS,
) -> Enclosure:
    return _certify(
        problem,
        eta,
        t,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        wrt="eta",
        objective=objective,
        eval_problem=eval_problem,
        rel_tol=rel_tol,
        max_prec_bits=max_prec_bits,
        order=0,
    )


def adam_meta_gradient(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    beta1: float | Fraction = ADAM_DEFAULTS[0],
    beta2: float | Fraction = ADAM_DEFAULTS[1],
    eps: float | Fraction = ADAM_DEFAULTS[2],
    wrt: str = "eta",
    objective: str = "log",
    eval_problem: Problem | None = None,
    rel_tol: float | Fraction = DEFAULT_REL_TOL,
    max_prec_bits: int = DEFAULT_MAX_PREC_BITS,
) -> Enclosure:
    return _certify(
        problem,
        eta,
        t,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        wrt=wrt,
        objective=objective,
        eval_problem=eval_problem,
        rel_tol=rel_tol,
        max_prec_bits=max_prec_bits,
        order=1,
    )


adam_meta_objective.__doc__ = "Certified Adam meta-objective F(eta).\n" + _DOC
adam_meta_gradient.__doc__ = (
    "Certified Adam meta-gradient dF/dtheta, theta = ``wrt`` in {eta, beta1, beta2, eps}.\n" + _DOC
)


# --------------------------------------------------------------------------- reference
def _exact_sqrt(x: Fraction, where: str) -> Fraction:
    """sqrt(x) for a rational square, else UnsupportedOptionError (use number='mpmath')."""
    rn, rd = isqrt(x.numerator), isqrt(x.denominator)
    if rn * rn != x.numerator or rd * rd != x.denominator:
        raise UnsupportedOptionError(
            "number", "fraction", f"{where} is not the square of a rational; use 'mpmath'"
        )
    return Fraction(rn, rd)


def _reference_step(st: dict[str, Any], hp: dict[str, Any], n: int, sqrt: Any, zero: Any) -> None:
    """One Adam step of the reference, both directions sigma = +-1, every coordinate."""
    b1, b2, eps, eta = hp["beta1"], hp["beta2"], hp["eps"], hp["eta"]
    c1, c2 = 1 - b1**n, 1 - b2**n
    d = len(st["w"])
    g = [
        sum((h * x for h, x in zip(row, st["w"], strict=True)), zero) - bi
        for row, bi in zip(st["H"], st["b"], strict=True)
    ]
    u, z = [zero] * d, {sg: [zero] * d for sg in (1, -1)}
    for sg in (1, -1):
        dh = {k: (sg if hp["wrt"] == k else 0) for k in ("eta", "beta1", "beta2", "eps")}
        dg = [sum((h * x for h, x in zip(row, st["dw"][sg], strict=True)), zero) for row in st["H"]]
        dc1 = -n * b1 ** (n - 1) * dh["beta1"]
        dc2 = -n * b2 ** (n - 1) * dh["beta2"]
        for i in range(d):
            m_old, v_old = st["m"][i], st["v"][i]
            m = b1 * m_old + (1 - b1) * g[i]
            v = b2 * v_old + (1 - b2) * g[i] ** 2
            dm = dh["beta1"] * (m_old - g[i]) + b1 * st["dm"][sg][i] + (1 - b1) * dg[i]
            dv = (
                dh["beta2"] * (v_old - g[i] ** 2)
                + b2 * st["dv"][sg][i]
                + 2 * (1 - b2) * g[i] * dg[i]
            )
            qv = b2 * st["q"][sg][i] + (1 - b2) * dg[i] ** 2
            st["dm"][sg][i], st["dv"][sg][i], st["q"][sg][i] = dm, dv, qv
            mh, vh = m / c1, v / c2
            dmh = (dm - mh * dc1) / c1
            if vh != 0:
                s = sqrt(vh, f"vhat[{i}] at step {n}")
                ds = ((dv - vh * dc2) / c2) / (2 * s)
            else:  # v(theta0 + sigma h) = h^2 Qhat + o(h^2): D_sigma s = sqrt(Qhat)
                s = zero
                ds = zero if mh == 0 else sqrt(qv / c2, f"Qhat[{i}] at step {n}")
            den = s + eps
            u[i] = mh / den
            z[sg][i] = dh["eta"] * u[i] + eta * (dmh / den - mh * (ds + dh["eps"]) / den**2)
        if sg == -1:
            st["m"] = [b1 * mo + (1 - b1) * gi for mo, gi in zip(st["m"], g, strict=True)]
            st["v"] = [b2 * vo + (1 - b2) * gi**2 for vo, gi in zip(st["v"], g, strict=True)]
    st["w"] = [wi - eta * ui for wi, ui in zip(st["w"], u, strict=True)]
    for sg in (1, -1):
        st["dw"][sg] = [a - b for a, b in zip(st["dw"][sg], z[sg], strict=True)]


def _reference_loss(
    ev: rational.ExactData, st: dict[str, Any], conv: Any, zero: Any
) -> tuple[Any, dict[int, Any]]:
    """g(w_t) and its one-sided derivatives D_sigma g = grad g(w_t) . D_sigma w_t."""
    H = [[conv(x) for x in row] for row in ev.H]
    w = st["w"]
    r = [
        sum((h * x for h, x in zip(row, w, strict=True)), zero) - conv(bi)
        for row, bi in zip(H, ev.b, strict=True)
    ]
    loss = (
        sum((x * ri for x, ri in zip(w, r, strict=True)), zero)
        - sum((conv(bi) * x for bi, x in zip(ev.b, w, strict=True)), zero)
    ) / 2 + conv(ev.c)
    # f = w.Hw/2 - b.w + c = w.(Hw - b)/2 - b.w/2 + c
    dloss = {
        sg: sum((ri * x for ri, x in zip(r, st["dw"][sg], strict=True)), zero) for sg in (1, -1)
    }
    return loss, dloss


def adam_reference(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    beta1: float | Fraction = ADAM_DEFAULTS[0],
    beta2: float | Fraction = ADAM_DEFAULTS[1],
    eps: float | Fraction = ADAM_DEFAULTS[2],
    wrt: str = "eta",
    objective: str = "naive",
    eval_problem: Problem | None = None,
    number: str = "fraction",
    prec_bits: int = 400,
) -> dict[str, Any]:
    """Adam's meta-objective and one-sided meta-derivatives by a plain forward-mode unroll.

    An independent reference for :func:`adam_meta_gradient`: dense loops over scalars, both
    one-sided derivatives always, and at vhat = 0 the exact one-sided rule
    D_sigma sqrt(vhat) = sqrt(Qhat_sigma) (v(theta0 + sigma h) = h^2 Qhat + o(h^2)), instead of
    the engine's enclosure.

    Parameters
    ----------
    problem, eta, t, beta1, beta2, eps, wrt, objective, eval_problem
        As :func:`adam_meta_gradient` (``t`` small: O(t d^2) scalar operations).
    number : {"fraction", "mpmath"}
        ``"fraction"``: exact rationals; needs every sqrt taken to be of a rational square
        (e.g. beta2 = 0, or t = 1) and raises UnsupportedOptionError otherwise. ``"mpmath"``:
        floating point at ``prec_bits`` in a private context.
    prec_bits : int
        mpmath precision.

    Returns
    -------
    dict
        ``loss`` g(w_t); ``F`` (None for the log objective in Fractions); ``right`` and
        ``left``, the one-sided derivatives of F in ``wrt`` (equal iff it is differentiable).

    Accuracy
    --------
    ``"fraction"``: exact. ``"mpmath"``: not certified (a heuristic reference, used only
    where the values are irrational; each step rounds at ``prec_bits``).
    """
    import mpmath

    s = validate_adam(eta, beta1, beta2, eps, wrt)
    point = validate_point(problem, s.eta, t, objective, eval_problem)
    data, ev = rational.ExactData(problem), rational.ExactData(point.evaluated_on)
    if number == "fraction":
        conv: Any = Fraction
        zero: Any = Fraction(0)
        sqrt: Any = _exact_sqrt
        log: Any = None
    elif number == "mpmath":
        ctx = mpmath.mp.clone()
        ctx.prec = prec_bits  # a private context: the global mpmath.mp is never touched

        def conv(x: Fraction) -> Any:
            return ctx.mpf(x.numerator) / x.denominator

        zero = ctx.mpf(0)

        def sqrt(x: Any, where: str) -> Any:
            return ctx.sqrt(x)

        log = ctx.log
    else:
        raise UnsupportedOptionError("number", number, "must be 'fraction' or 'mpmath'")
    hp: dict[str, Any] = {k: conv(s.value(k)) for k in ("eta", "beta1", "beta2", "eps")}
    hp["wrt"] = s.wrt
    d = problem.d
    st: dict[str, Any] = {
        "H": [[conv(x) for x in row] for row in data.H],
        "b": [conv(x) for x in data.b],
        "w": [conv(Fraction(float(x))) for x in problem.w0],
        "m": [zero] * d,
        "v": [zero] * d,
        "dw": {1: [zero] * d, -1: [zero] * d},
        "dm": {1: [zero] * d, -1: [zero] * d},
        "dv": {1: [zero] * d, -1: [zero] * d},
        "q": {1: [zero] * d, -1: [zero] * d},
    }
    for n in range(1, point.t + 1):
        _reference_step(st, hp, n, sqrt, zero)
    loss, dloss = _reference_loss(ev, st, conv, zero)
    tt = max(point.t, 1)
    if point.objective == "naive":
        return {"loss": loss, "F": loss, "right": dloss[1], "left": -dloss[-1]}
    return {
        "loss": loss,
        "F": None if log is None else log(loss) / tt,
        "right": dloss[1] / (tt * loss),
        "left": -dloss[-1] / (tt * loss),
    }
