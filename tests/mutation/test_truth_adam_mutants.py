"""Behaviours of :mod:`verify.truth.adam` that mutation testing found unpinned (``mutmut run``
with ``only_mutate = ["verify/truth/adam.py", ...]``; docs/mutation-survivors.md).

The zero-second-moment enclosure (module docstring of :mod:`verify.truth.adam`, "The square
root at 0", Case A): where the ball of vhat_i contains 0, s = sqrt(vhat_i) is enclosed by
[0, sqrt(hi)] and its slope by |s'| <= sqrt(Qhat) + K s / 2. Every other test reaches that
branch only where the exact vhat_i is 0, and then the exact mhat_i is 0 too: the slope is
multiplied by a ball around 0 and any slope bound (even 0) gives a valid enclosure. The slope
bound carries the proof only *near* a zero second moment: vhat_i tiny but positive (its ball
still contains 0 at the first precision), mhat_i far from 0 (beta1 remembers an earlier
gradient). :func:`test_slope_bound_near_a_zero_second_moment` builds that point exactly:

* d = 2, H = I, w0 = (1, 1/2), eps = 1/3, beta1 = 1/2, beta2 = 2^-400 (> 0: Case A);
* eta = 4/3 + 2^-160: step 1 moves coordinate 1 by eta * 3/4 = 1 + (3/4) 2^-160, so
  g_1 = -(3/4) 2^-160 -- not 0, but its ball at the start precision (128 bits at
  rel_tol = 2^-20) contains 0, and so does vhat = (beta2 g_0^2 + g_1^2) / (1 + beta2);
* there s' = d sqrt(vhat)/d theta is O(1) along eta and eps (g_1' = O(1), from the
  sqrt(Qhat) term) and ~2^159 along beta2 (d vhat/d beta2 ~ 1 divided by 2 s ~ 2^-159, from
  the K s / 2 term, K ~ (n - 1)/beta2 = 2^400), while mhat = 1/3.

With the slope bound (or either of its two terms) removed, the enclosure at 128 bits omits
mhat s' / (s + eps)^2 and is returned narrow and wrong (measured: d/d eta -0.33 instead of
-4.33; d/d beta2 0.0068 instead of -5.2e48). With it, the 128-bit ball is wide, precision
doubles, and at 256 bits vhat > 0 is proven. Coordinate 2 is an ordinary coordinate: it keeps
the beta2-derivative away from 0 at 128 bits, so the wrong narrow ball meets the tolerance.

The reference is :func:`adam_reference` in mpmath (the values are irrational):
:data:`REF_PREC` bits, of which ~160 are lost to the cancellation in g_1; the comparison
allows :data:`REF_SLACK` relative, far below the misses above (factor > 10).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify.errors import NotCertifiedError
from verify.problems import Quadratic
from verify.truth import adam_meta_gradient, adam_reference

#: Precision of the heuristic mpmath reference.
REF_PREC = 1000
#: Its allowance, relative: the reference loses ~160 bits to the cancellation in g_1 and
#: rounds O(1) operations per step at REF_PREC bits over t = 2 steps; 2^-(REF_PREC - 300) is
#: a wide margin and still ~2^-680 below the tolerance asked of the engine.
REF_SLACK = Fraction(1, 2 ** (REF_PREC - 300))
#: Tolerance asked of the engine: loose, so that the start precision is 128 bits (the
#: precision at which the ball of vhat still contains 0; module docstring).
LOOSE_TOL = Fraction(1, 2**20)
#: Arb stores a radius with a 30-bit mantissa rounded up, and the slope bound passes through
#: two such radii (s's, then the ball +-hi): a few units of 2^-30 relative, 2^-27 allowed.
RADIUS_ULP = Fraction(1, 2**27)


def _mpf_fraction(x: Any) -> Fraction:
    sign, man, exp, _ = x._mpf_
    return Fraction((-1) ** sign * int(man)) * Fraction(2) ** int(exp)


def _exact(x: Any) -> Fraction:
    """An exact Arb number (a ball of radius 0, e.g. an endpoint) as a Fraction."""
    man, exp = x.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def _holds(enc: Any, x: Fraction, slack: Fraction) -> bool:
    pad = slack * abs(x)
    return bool(enc.lower - pad <= x <= enc.upper + pad)


NEAR_ZERO = Quadratic(np.eye(2), w0=[1.0, 0.5])
NEAR_ETA = Fraction(4, 3) + Fraction(1, 2**160)
NEAR_KW: dict[str, Any] = dict(beta1=0.5, beta2=2.0**-400, eps=Fraction(1, 3), objective="naive")


@pytest.mark.parametrize("wrt", ["eta", "beta1", "beta2", "eps"])
def test_slope_bound_near_a_zero_second_moment(wrt: str) -> None:
    """Kills ``_sqrt_rule``'s Case-A slope bound set to 0, its sqrt(Qhat) term dropped (caught
    along eta and eps) or its K s / 2 term dropped (caught along beta2); see module doc."""
    ref = adam_reference(
        NEAR_ZERO, NEAR_ETA, 2, wrt=wrt, number="mpmath", prec_bits=REF_PREC, **NEAR_KW
    )
    assert ref["right"] == ref["left"]  # differentiable: Case A
    exact = _mpf_fraction(ref["right"])
    enc = adam_meta_gradient(NEAR_ZERO, NEAR_ETA, 2, wrt=wrt, rel_tol=LOOSE_TOL, **NEAR_KW)
    assert _holds(enc, exact, REF_SLACK), (wrt, enc, float(exact))
    assert enc.rel_radius() <= LOOSE_TOL


# A coordinate whose gradient is 0 at every step by symmetry, but whose balls never prove it:
# coordinates 1 and 2 move antisymmetrically, g_3 = w_1 + w_2 + 2 w_3 = 0 exactly, while Arb
# computes (H u)_3 = u_1 - u_1' with u_1 = 1/(1 + eps) inexact (eps = 1/3): a ball [0 +- r].
SYMMETRIC = Quadratic(
    np.array([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [1.0, 1.0, 2.0]]), w0=[0.5, -0.5, 0.0]
)


@pytest.mark.parametrize(
    ("beta1", "beta2", "wrt"),
    [(0.0, 0.0, "eta"), (0.0, 0.0, "beta1"), (0.0, 0.0, "eps"), (0.9, 0.999, "beta2")],
)
def test_zero_midpoint_tangent_does_not_poison_the_slope_bound(
    beta1: float, beta2: float, wrt: str
) -> None:
    """Regression (found by mutation testing): python-flint 0.9's ``x ** 2`` is NaN for a ball
    with midpoint exactly 0 and a nonzero radius, and the tangent g_3' of the coordinate above
    is such a ball from step 1 on. Q = beta2 Q + (1 - beta2) g'^2 then became NaN, and so did
    every Case-A enclosure of coordinate 3 at every precision: NotCertifiedError at a point
    where the meta-gradient exists (Case A) and the engine certifies it with g' * g'.

    RMSProp (beta2 = 0): every vhat is a rational square, so the reference is exact; with
    beta2 = 0.999 the mpmath reference (vhat_3 = 0 exactly there, too)."""
    kw: dict[str, Any] = dict(beta1=beta1, beta2=beta2, eps=Fraction(1, 3), wrt=wrt)
    number = "fraction" if beta2 == 0 else "mpmath"
    ref = adam_reference(
        SYMMETRIC, 0.125, 3, objective="naive", number=number, prec_bits=REF_PREC, **kw
    )
    value = ref["right"] if number == "fraction" else _mpf_fraction(ref["right"])
    try:
        enc = adam_meta_gradient(SYMMETRIC, 0.125, 3, objective="naive", **kw)
    except NotCertifiedError as exc:  # pragma: no cover - the regression
        pytest.fail(f"refused a certifiable Case-A point: {exc}")
    assert _holds(enc, value, Fraction(0) if number == "fraction" else REF_SLACK), (enc, value)


# --------------------------------------------------------------------------- the pieces
def test_slope_rule_encloses_the_documented_bound() -> None:
    """``_sqrt_rule`` in Case A (vhat's ball contains 0): s is enclosed by [0, sqrt(hi)] and
    every D s by +-(sqrt(Qhat) + K s / 2) for every such s -- so by +-(sqrt(Qhat) + K sqrt(hi)
    / 2), and (the rule computes exactly that, rounded up) not by more than 2^-100 relative.
    Kills the bound's sign, its 1/2 (as 2 or 1/3) and ``upper`` -> ``lower``: near a zero
    second moment of a real run, the ball of s is so much wider than s that these stay sound
    there (module doc), so the documented bound is pinned here directly."""
    from flint import arb, ctx

    from verify.truth.adam import _sqrt_rule

    with ctx.workprec(256):  # endpoints are read at the working precision: read them here
        got = []
        for vh, qh in ((arb(0, 0.25), arb(0)), (arb(0), arb(9))):  # the K term; the Q term
            rule = _sqrt_rule(vh, [arb(0)], [arb(0)], qh, arb(6), False)
            assert rule is not None
            s, (ds,) = rule
            ends = (s.lower(), s.upper(), vh.upper(), ds.lower(), ds.upper())
            got.append([_exact(x) for x in ends])
    for s_lo, s_max, v_hi, lo, hi in got:
        # s's ball contains [0, sqrt(hi)] (Arb's sqrt at 0 is wider, ~2.7x); the bound must
        # hold for every s in it: sqrt(Qhat) + K s_max / 2 with s_max the ball's upper end
        assert s_lo <= 0 and s_max**2 >= v_hi
        want = (3 if v_hi == 0 else 0) + 6 * s_max / 2
        assert hi >= want and lo <= -want, (float(lo), float(hi), float(want))
        assert hi <= want * (1 + RADIUS_ULP), (float(hi), float(want))


@pytest.mark.parametrize("n", [1, 2, 3, 7])
@pytest.mark.parametrize("beta2", [Fraction(1, 2), Fraction(999, 1000), Fraction(1, 1024)])
def test_beta2_weight_bound_is_the_documented_one_and_holds(n: int, beta2: Fraction) -> None:
    """``_powers``' K_n for theta = beta2 is 1/(1-b2) + (n-1)/b2 + n b2^(n-1)/(1-b2^n) (its
    comment), and it bounds |d/d b2 log w_j| for every bias-corrected weight
    w_j = (1-b2) b2^(n-1-j) / (1-b2^n), j < n, computed exactly here. Kills every change of a
    term of K (in a run the Case-A bound that uses K is far from attained; module doc)."""
    from flint import arb, ctx, fmpq

    from verify.truth.adam import _powers
    from verify.validation import validate_adam

    s = validate_adam(Fraction(1, 8), Fraction(1, 2), beta2, Fraction(1, 4), "beta2")
    with ctx.workprec(256):
        hp = [
            {
                "beta1": arb(fmpq(1, 2)),
                "beta2": arb(fmpq(beta2.numerator, beta2.denominator)),
                "dbeta1": arb(0),
                "dbeta2": arb(1),
            }
        ]
        pw: dict[str, Any] = {"p1": arb(1), "p2": arb(1), "dp1": [arb(0)], "dp2": [arb(0)]}
        for k in range(1, n + 1):
            _powers(pw, hp, k)
        K = pw["K"]
        lo, hi = _exact(K.lower()), _exact(K.upper())
    b = s.beta2
    documented = 1 / (1 - b) + (n - 1) / b + n * b ** (n - 1) / (1 - b**n)
    assert lo <= documented <= hi and hi - lo <= documented / 2**200, (K, documented)
    # d/db log w_j = -1/(1-b) + (n-1-j)/b + n b^(n-1)/(1-b^n)
    worst = max(
        abs(-1 / (1 - b) + (n - 1 - j) / b + n * b ** (n - 1) / (1 - b**n)) for j in range(n)
    )
    assert worst <= documented


@pytest.mark.parametrize("x", [Fraction(2), Fraction(1, 2), Fraction(2, 3), Fraction(9, 8)])
def test_exact_sqrt_refuses_every_non_square(x: Fraction) -> None:
    """A rational is a square iff numerator and denominator both are (lowest terms): refused
    when either is not (kills ``or`` -> ``and``), with the documented argument and value."""
    from verify.errors import UnsupportedOptionError
    from verify.truth.adam import _exact_sqrt

    with pytest.raises(UnsupportedOptionError) as info:
        _exact_sqrt(x, "vhat[0] at step 2")
    assert info.value.argument == "number" and info.value.value == "fraction"
    assert "vhat[0] at step 2 is not the square of a rational" in str(info.value)
    assert _exact_sqrt(x * x, "w") == x


@pytest.mark.parametrize("wrt", ["eta", "eps"])
def test_log_objective_at_an_exactly_zero_loss(wrt: str) -> None:
    """RMSProp with eta = 2, eps = 1 puts w_1 exactly on the minimiser 0 of f(w) = w^2/2 (c = 0):
    the loss is exactly 0 and the log objective raises ZeroLossError naming ``wrt`` and its
    value (not NotCertifiedError after exhausting the precision cap)."""
    from verify.errors import ZeroLossError
    from verify.truth import adam_meta_objective

    p = Quadratic([[1.0]], w0=[1.0])
    kw: dict[str, Any] = dict(beta1=0, beta2=0, eps=1, max_prec_bits=256)
    with pytest.raises(ZeroLossError) as info:
        adam_meta_gradient(p, 2, 1, wrt=wrt, objective="log", **kw)
    assert info.value.argument == wrt and info.value.value == (2.0 if wrt == "eta" else 1.0)
    assert "t=1" in str(info.value)
    with pytest.raises(ZeroLossError):
        adam_meta_objective(p, 2, 1, objective="log", **kw)


def test_kink_with_equal_one_sided_derivatives_is_refused() -> None:
    """Adam with beta2 = 0 < beta1 has a kink in coordinate 1 at step 2 (eta = 2, eps = 1:
    w_1 lands on its minimiser, vhat = 0 exactly, mhat = 1/3; tests/truth/test_adam.py), but the
    evaluation loss ignores coordinate 1, so the two one-sided derivatives of F are equal and
    cannot be separated. Documented: refused (NotCertifiedError), not returned as if the
    kink were smooth (kills ``return right if not run.kinked``'s condition removed)."""
    p = Quadratic(np.eye(2), w0=[1.0, 0.5])
    ev = Quadratic(np.diag([0.0, 1.0]), w0=[1.0, 0.5])
    kw: dict[str, Any] = dict(beta1=0.5, beta2=0, eps=1, objective="naive", eval_problem=ev)
    ref = adam_reference(p, 2, 2, **kw)
    assert ref["right"] == ref["left"]
    with pytest.raises(NotCertifiedError):
        adam_meta_gradient(p, 2, 2, max_prec_bits=256, **kw)


@pytest.mark.parametrize(
    ("wrt", "value", "w0", "eta"),
    [("eta", 2.0, 1.0, 2), ("eps", 1.0, 1.0, 2), ("eta", 4.0, 3.0, 4)],
)
def test_not_differentiable_names_the_hyperparameter_and_its_value(
    wrt: str, value: float, w0: float, eta: int
) -> None:
    """The kink of tests/truth/test_adam.py (beta1 = 1/2, beta2 = 0, eta = 2, eps = 1, t = 2)
    along eta and along eps, and the same kink with mhat = 1 (w0 = 3, eta = 4: g_0 = 3,
    mhat_2 = (1/2) 3 / (3/2)): NotDifferentiableError carries ``wrt`` and its value, and both
    one-sided derivatives as enclosures of the exact ones (the reference's one-sided rule
    D_sigma s = sqrt(Qhat) applies whenever mhat != 0, mhat = 1 included)."""
    from verify.truth import NotDifferentiableError

    p = Quadratic([[1.0]], w0=[w0])
    kw: dict[str, Any] = dict(beta1=0.5, beta2=0, eps=1, wrt=wrt, objective="naive")
    ref = adam_reference(p, eta, 2, **kw)
    assert ref["right"] != ref["left"]
    with pytest.raises(NotDifferentiableError) as info:
        adam_meta_gradient(p, eta, 2, **kw)
    assert info.value.argument == wrt and info.value.value == value
    assert info.value.right.contains(ref["right"]) and info.value.left.contains(ref["left"])


@pytest.mark.parametrize("t", [2, 3])
def test_zero_second_moment_without_memory_is_no_kink(t: int) -> None:
    """beta2 = 0 < beta1 (Case B) at a zero second moment whose first moment is 0 too: no kink.
    g_0 = (1, -3, 0); coordinate 3 is coupled to the others by H_31 = 3/4, H_32 = 1/2, which
    cancel in H u_0 at eps = 1 (3/4 * 1/2 = 1/2 * 3/4) but not in its eps-derivative, so at
    step 2 vhat_3 = 0 and mhat_3 = 0 exactly while |g_3'| != 0. The derivative exists (the
    sqrt path is multiplied by mhat_3 = 0), the exact one-sided derivatives agree, and the
    engine certifies it (kills the kink test ``not (mh == 0 or ds == 0)`` weakened to
    ``not (mh == 0 and ds == 0)``, which refused here)."""
    H = np.array([[2.0, 0.0, 0.75], [0.0, 1.0, 0.5], [0.75, 0.5, 1.0]])
    p = Quadratic(H, w0=[0.0, 0.0, 0.0], b=[-1.0, 3.0, 0.0])
    kw: dict[str, Any] = dict(beta1=0.5, beta2=0, eps=1, wrt="eps", objective="naive")
    ref = adam_reference(p, 0.25, t, **kw)
    assert ref["right"] == ref["left"]
    enc = adam_meta_gradient(p, 0.25, t, max_prec_bits=512, **kw)
    assert _holds(enc, ref["right"], Fraction(0)), (enc, ref["right"])


@pytest.mark.parametrize(
    ("H", "active"),
    [
        ([[2.0, 0.5, 0.0], [0.5, 2.0, 0.5], [0.0, 0.5, 2.0]], {0, 1, 2}),  # 2 reached via 1
        ([[2.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 1.0]], {0, 2}),  # 1 never moves
    ],
)
def test_active_coordinates_are_the_closure_under_the_sparsity(
    H: list[list[float]], active: set[int]
) -> None:
    """w0 = (1, 0, 0): the coordinates that can ever move are those of g_0 != 0 and everything
    H's pattern connects to them. A fresh problem each time: ``_start`` is cached per problem,
    and the module-level problems elsewhere are already cached when a mutant runs."""
    from verify.truth.adam import _start

    p = Quadratic(np.array(H), w0=[1.0, 0.0, 0.0])
    assert _start(p).active == frozenset(active)
    assert _start(p).g0 == [Fraction(x) for x in np.array(H) @ np.array([1.0, 0.0, 0.0])]


# --------------------------------------------------------------------------- arguments
def test_precision_cap_is_an_int_of_at_least_64() -> None:
    from verify.errors import InvalidPrecisionError

    p = Quadratic([[1.5]], w0=[0.75])
    kw: dict[str, Any] = dict(objective="naive", rel_tol=Fraction(1, 2**10))
    assert adam_meta_gradient(p, 0.125, 3, max_prec_bits=64, **kw).rel_radius() <= 2**-10
    for bad in (63, 64.0, True, "64"):
        with pytest.raises(InvalidPrecisionError) as info:
            adam_meta_gradient(p, 0.125, 3, max_prec_bits=bad, **kw)  # type: ignore[arg-type]
        assert info.value.argument == "max_prec_bits" and info.value.value == bad
        assert info.value.reason == "must be an int >= 64"


def test_log_objective_needs_a_positive_definite_loss() -> None:
    """Names the problem whose loss is evaluated: ``problem``, or ``eval_problem``."""
    from verify.errors import NotPositiveDefiniteError
    from verify.truth import adam_meta_objective

    pd = Quadratic([[1.5]], w0=[0.75], c=1.0)
    semi = Quadratic([[1.5, 0.0], [0.0, 0.0]], w0=[0.75, 0.5], c=1.0)
    pd2 = Quadratic(np.eye(2), w0=[0.75, 0.5], c=1.0)
    with pytest.raises(NotPositiveDefiniteError) as info:
        adam_meta_objective(semi, 0.125, 2)
    assert info.value.argument == "problem"
    with pytest.raises(NotPositiveDefiniteError) as info:
        adam_meta_gradient(pd2, 0.125, 2, eval_problem=semi)
    assert info.value.argument == "eval_problem"
    assert adam_meta_objective(semi, 0.125, 2, objective="naive").rel_radius() <= 2**-80
    assert adam_meta_objective(pd, 0.125, 2).rel_radius() <= 2**-80


def test_horizon_zero_and_beta2_domain_end() -> None:
    """t = 0: the meta-gradient is exactly 0 (w_0 does not move), the value is the loss at w0;
    wrt="beta2" at beta2 = 0 is refused with the documented reason."""
    from verify.errors import UnsupportedOptionError
    from verify.truth import adam_meta_objective

    p = Quadratic([[1.5]], w0=[0.75])
    enc = adam_meta_gradient(p, 0.125, 0, objective="naive")
    assert enc.is_exact and enc.contains(0)
    assert adam_meta_objective(p, 0.125, 0, objective="naive").contains(Fraction(27, 64))
    with pytest.raises(UnsupportedOptionError) as info:
        adam_meta_gradient(p, 0.125, 2, beta2=0, wrt="beta2")
    assert info.value.argument == "wrt" and info.value.value == "beta2"
    assert info.value.reason == "beta2 = 0 is the end of its domain [0, 1): no two-sided derivative"


@pytest.mark.parametrize("order", [0, 1])
def test_refusal_message_describes_the_point(order: int) -> None:
    """An exactly-zero value in inexact balls (the evaluation loss (w_1 - w_2)^2 / 2 at
    w_1 = w_2, with eta = eps = 1/3 not dyadic) is refused; the message names what and where."""
    from verify.truth import adam_meta_objective

    p = Quadratic(np.eye(2), w0=[1.0, 1.0])
    ev = Quadratic(np.array([[1.0, -1.0], [-1.0, 1.0]]), w0=[1.0, 1.0], c=0.0)
    kw: dict[str, Any] = dict(
        beta1=0.5, beta2=0.25, eps=Fraction(1, 3), objective="naive", eval_problem=ev
    )
    f = adam_meta_objective if order == 0 else adam_meta_gradient
    with pytest.raises(NotCertifiedError) as info:
        f(p, Fraction(1, 3), 3, max_prec_bits=256, **kw)
    text = str(info.value)
    what = "meta-objective" if order == 0 else "meta-gradient in eta"
    assert (
        f"could not certify the Adam {what} (objective='naive', eta=0.3333333333333333, "
        "beta1=0.5, beta2=0.25, eps=0.3333333333333333, t=3) to relative radius 8.27e-25 "
        "within max_prec_bits=256; reached inf." in text
    ), text
    assert info.value.prec_bits == 256 and info.value.achieved_rel == float("inf")
    assert text.endswith(
        "Ball growth over the unrolled steps, a value at or extraordinarily near 0, a second "
        "moment not separable from 0 (beta2 = 0 < beta1), or one-sided derivatives not "
        "separable at a kink."
    ), text


def test_reference_arguments_and_results() -> None:
    """adam_reference: an unknown number system is refused naming ``number``; in Fractions a
    second moment that is not a rational square is refused naming where it arose; the log
    objective's one-sided derivatives are the naive ones over t g(w_t)."""
    from verify.errors import UnsupportedOptionError

    p = Quadratic([[1.5]], w0=[0.75], c=1.0)
    with pytest.raises(UnsupportedOptionError) as info:
        adam_reference(p, 0.125, 2, number="float")
    assert info.value.argument == "number" and info.value.value == "float"
    assert info.value.reason == "must be 'fraction' or 'mpmath'"
    with pytest.raises(UnsupportedOptionError) as info:
        adam_reference(p, 0.125, 2, beta2=0.5)
    assert info.value.reason.startswith("vhat[0] at step 2 is not the square of a rational")
    kw: dict[str, Any] = dict(beta1=0.5, beta2=0, eps=0.25)
    naive = adam_reference(p, 0.125, 3, objective="naive", **kw)
    log = adam_reference(p, 0.125, 3, objective="log", **kw)
    assert naive["loss"] == log["loss"] == naive["F"] and log["F"] is None
    for side in ("right", "left"):
        assert log[side] == naive[side] / (3 * naive["loss"])
