"""Certified Adam / RMSProp meta-objectives and meta-gradients (verify.truth.adam).

References, and when each is used:

* exact Fractions (:func:`adam_reference` with ``number="fraction"``) wherever every quantity
  is rational -- every sqrt is of a rational square: beta2 = 0 (vhat = g^2), or t = 1
  (vhat_1 = g_0^2). Exact rationals grow about twofold in size per step (u = mhat/(|g| + eps)
  divides by a fresh rational each step: measured 622 bits at t = 5, 21753 at t = 10 on a
  3-d problem), so they are used for t <= EXACT_MAX_T.
* mpmath at REF_PREC bits (``number="mpmath"``), a *heuristic* reference, not ground truth:
  used where the values are irrational (beta2 > 0 takes square roots of non-squares) and
  where they are rational but far too large to hold (beta2 = 0 beyond EXACT_MAX_T).

The sqrt-at-0 points (module docstring of verify.truth.adam): the second moment is exactly 0
at some step (a coordinate decoupled from the rest with zero gradient; a coordinate whose
first gradient is 0; RMSProp landing exactly on the minimiser) -- the derivative exists and
the enclosures contain it; Adam with beta2 = 0 < beta1 at such a point has no derivative --
NotDifferentiableError, with the exact one-sided derivatives inside its enclosures.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify.errors import (
    InvalidStepSizeError,
    NotCertifiedError,
    UnknownOptionError,
    UnsupportedOptionError,
)
from verify.problems import Quadratic
from verify.truth import (
    NotDifferentiableError,
    adam_meta_gradient,
    adam_meta_objective,
    adam_reference,
)

#: Longest horizon for the exact-rational reference (sizes double per step; see module doc).
EXACT_MAX_T = 5
#: Precision of the heuristic mpmath reference.
REF_PREC = 1000
#: Allowance for the mpmath reference's own rounding, relative: each of the t <= 50 steps
#: rounds O(d) operations at REF_PREC bits and the step map amplifies errors by at most a
#: modest factor over 50 steps on these problems, so 2^-(REF_PREC - 200) is a wide margin
#: that is still 2^-720 below the enclosures' requested 2^-80.
REF_SLACK = Fraction(1, 2 ** (REF_PREC - 200))
#: Requested relative radius of the enclosures.
REL_TOL = Fraction(1, 2**80)

WRT = ("eta", "beta1", "beta2", "eps")


def _mpf_fraction(x: Any) -> Fraction:
    sign, man, exp, _ = x._mpf_
    return (-1) ** sign * Fraction(man) * Fraction(2) ** exp


def _holds(enc: Any, x: Fraction, slack: Fraction = Fraction(0)) -> bool:
    """``x`` lies in ``enc`` widened by ``slack * |x|`` (0 for exact references)."""
    pad = slack * abs(x)
    return bool(enc.lower - pad <= x <= enc.upper + pad)


def _problems() -> list[Quadratic]:
    """Dyadic quadratics, d = 1, 2, 3 (fixed seed): coupled, nonzero b, c = 1 keeps the loss
    positive for the log objective (b^T H^-1 b / 2 < 1 since H >= I/4 and |b|^2 <= 3/64)."""
    rng = np.random.default_rng(19)
    out = [Quadratic([[1.5]], w0=[0.75], b=[0.25], c=1.0)]
    for d in (2, 3):
        A = np.round(rng.normal(size=(d, d)) * 8) / 8
        H = A @ A.T + np.eye(d) / 4
        w0 = np.round(rng.normal(size=d) * 8) / 8
        out.append(Quadratic(H, w0=w0, b=np.ones(d) / 8, c=1.0))
    return out


PROBLEMS = _problems()


# --------------------------------------------------------------------------- exact reference
@pytest.mark.parametrize("k", range(len(PROBLEMS)))
@pytest.mark.parametrize("t", [1, 3, EXACT_MAX_T])
@pytest.mark.parametrize(
    "hyper", [(0.25, 0.5, 0.0, 0.125), (0.125, 0.0, 0.0, 0.5), (0.0625, 0.875, 0.0, 2**-20)]
)
def test_exact_reference_inside_enclosures(k: int, t: int, hyper: tuple[float, ...]) -> None:
    """beta2 = 0 (RMSProp-like and Adam): every quantity rational; exact containment."""
    p = PROBLEMS[k]
    eta, b1, b2, eps = hyper
    kw = dict(beta1=b1, beta2=b2, eps=eps)
    for wrt in ("eta", "beta1", "eps"):
        ref = adam_reference(p, eta, t, wrt=wrt, objective="naive", **kw)
        assert ref["right"] == ref["left"]
        enc = adam_meta_gradient(p, eta, t, wrt=wrt, objective="naive", **kw)
        assert _holds(enc, ref["right"]), (wrt, enc, ref["right"])
        log_ref = adam_reference(p, eta, t, wrt=wrt, objective="log", **kw)
        assert _holds(adam_meta_gradient(p, eta, t, wrt=wrt, **kw), log_ref["right"])
    value = adam_meta_objective(p, eta, t, objective="naive", **kw)
    assert _holds(value, ref["F"])
    assert value.rel_radius() <= REL_TOL


@pytest.mark.parametrize("k", range(len(PROBLEMS)))
def test_first_step_exact_with_beta2(k: int) -> None:
    """t = 1 with beta2 > 0: vhat_1 = g_0^2 is a rational square; exact containment, all wrt."""
    p = PROBLEMS[k]
    for wrt in WRT:
        ref = adam_reference(p, 0.25, 1, beta1=0.9, beta2=0.999, eps=0.5, wrt=wrt)
        enc = adam_meta_gradient(
            p, 0.25, 1, beta1=0.9, beta2=0.999, eps=0.5, wrt=wrt, objective="naive"
        )
        assert _holds(enc, ref["right"]), (wrt, enc, ref["right"])


# --------------------------------------------------------------------------- mpmath reference
@pytest.mark.parametrize("k", range(len(PROBLEMS)))
@pytest.mark.parametrize("t", [10, 50])
@pytest.mark.parametrize("objective", ["naive", "log"])
@pytest.mark.parametrize(
    "hyper", [(0.125, 0.9, 0.999, 1e-8), (0.0625, 0.0, 0.5, 0.25), (0.25, 0.5, 0.0, 0.125)]
)
def test_mpmath_reference_inside_enclosures(
    k: int, t: int, objective: str, hyper: tuple[float, ...]
) -> None:
    """d <= 3, t <= 50 (heuristic reference: values irrational, or rational but too large)."""
    p = PROBLEMS[k]
    eta, b1, b2, eps = hyper
    kw = dict(beta1=b1, beta2=b2, eps=eps, objective=objective)
    for wrt in WRT if b2 > 0 else ("eta", "beta1", "eps"):
        ref = adam_reference(p, eta, t, wrt=wrt, number="mpmath", prec_bits=REF_PREC, **kw)
        enc = adam_meta_gradient(p, eta, t, wrt=wrt, **kw)
        assert _holds(enc, _mpf_fraction(ref["right"]), REF_SLACK), (wrt, enc, ref["right"])
    enc = adam_meta_objective(p, eta, t, **kw)
    assert _holds(enc, _mpf_fraction(ref["F"]), REF_SLACK)


# --------------------------------------------------------------------------- sqrt at 0
def test_structurally_zero_coordinate_beta2_positive() -> None:
    """Coordinate 3 is decoupled with zero gradient: vhat_3 = 0 at every step (autodiff:
    0 * inf = NaN). The meta-gradient exists (the sqrt path contributes exactly 0) and the
    enclosures contain the reference, t = 1 exactly and t = 50 by mpmath."""
    H = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 3.0]])
    p = Quadratic(H, w0=[1.0, -0.5, 0.0])
    kw = dict(beta1=0.9, beta2=0.999, eps=1e-8)
    for wrt in WRT:
        exact = adam_reference(p, 0.125, 1, wrt=wrt, **kw)
        assert _holds(
            adam_meta_gradient(p, 0.125, 1, wrt=wrt, objective="naive", **kw), exact["right"]
        )
        ref = adam_reference(p, 0.125, 50, wrt=wrt, number="mpmath", prec_bits=REF_PREC, **kw)
        assert ref["right"] == ref["left"]
        enc = adam_meta_gradient(p, 0.125, 50, wrt=wrt, objective="naive", **kw)
        assert _holds(enc, _mpf_fraction(ref["right"]), REF_SLACK), (wrt, enc)


def test_first_gradient_zero_then_moves() -> None:
    """g_0 = (3/2, 0): coordinate 2 has vhat = 0 at step 1 only, then is driven by the
    coupling (a zero second moment that is not structural)."""
    p = Quadratic(np.array([[2.0, 1.0], [1.0, 2.0]]), w0=[1.0, -0.5])
    kw = dict(beta1=0.9, beta2=0.999, eps=2**-10, objective="log")
    for t in (1, 2, 30):
        for wrt in WRT:
            ref = adam_reference(p, 0.0625, t, wrt=wrt, number="mpmath", prec_bits=REF_PREC, **kw)
            enc = adam_meta_gradient(p, 0.0625, t, wrt=wrt, **kw)
            assert _holds(enc, _mpf_fraction(ref["right"]), REF_SLACK), (t, wrt, enc)


@pytest.mark.parametrize("eta,eps", [(Fraction(4, 3), Fraction(1, 3)), (Fraction(2), Fraction(1))])
@pytest.mark.parametrize("wrt", ["eta", "beta1", "eps"])
def test_rmsprop_lands_on_minimiser(eta: Fraction, eps: Fraction, wrt: str) -> None:
    """RMSProp (beta1 = beta2 = 0), d = 1: u_0 = g_0/(|g_0| + eps) puts w_1 exactly on the
    minimiser, so vhat = g_1^2 = 0 at step 2 with mhat = 0 (Case A): differentiable, the
    exact one-sided derivatives agree and the enclosure holds them. eta = 4/3 is not dyadic:
    the balls never see an exact 0, and the Cauchy-Schwarz enclosure of s' does the work."""
    p = Quadratic([[1.0]], w0=[1.0])
    ev = Quadratic([[1.0]], w0=[1.0], b=[0.5])
    kw = dict(beta1=0, beta2=0, eps=eps, wrt=wrt, eval_problem=ev)
    for t in (2, 3, EXACT_MAX_T):
        ref = adam_reference(p, eta, t, objective="naive", **kw)
        assert ref["right"] == ref["left"]
        enc = adam_meta_gradient(p, eta, t, objective="naive", **kw)
        assert _holds(enc, ref["right"]) and enc.rel_radius() <= REL_TOL, (t, enc, ref)


def test_adam_beta2_zero_kink_is_not_differentiable() -> None:
    """beta1 = 1/2, beta2 = 0: w_1 lands on the minimiser at eta = 2, vhat = g_1^2 = 0 with
    mhat = 1/3: sqrt(vhat) = |g_1| has a kink. Exact one-sided derivatives -1/9 (right) and
    1/3 (left); the engine proves them different and raises NotDifferentiableError."""
    p = Quadratic([[1.0]], w0=[1.0])
    ref = adam_reference(p, 2, 2, beta1=0.5, beta2=0, eps=1)
    assert (ref["right"], ref["left"]) == (Fraction(-1, 9), Fraction(1, 3))
    with pytest.raises(NotDifferentiableError) as info:
        adam_meta_gradient(p, 2, 2, beta1=0.5, beta2=0, eps=1, objective="naive")
    assert info.value.argument == "eta"
    assert info.value.right.contains(ref["right"]) and info.value.left.contains(ref["left"])
    # the value itself is fine (continuous)
    assert adam_meta_objective(p, 2, 2, beta1=0.5, beta2=0, eps=1, objective="naive").contains(
        Fraction(2, 9)
    )


def test_kink_not_separable_is_refused() -> None:
    """The same kink at a non-dyadic eta: no ball proves vhat = 0, so the engine cannot tell
    a kink from a smooth point and refuses (the exact reference shows the kink is real)."""
    p = Quadratic([[1.0]], w0=[1.0])
    kw = dict(beta1=0.5, beta2=0, eps=Fraction(1, 3))
    ref = adam_reference(p, Fraction(4, 3), 2, **kw)
    assert ref["right"] != ref["left"]
    with pytest.raises(NotCertifiedError):
        adam_meta_gradient(p, Fraction(4, 3), 2, objective="naive", max_prec_bits=512, **kw)


def test_t_zero_and_default_settings() -> None:
    p = PROBLEMS[2]
    assert adam_meta_gradient(p, 0.125, 0, objective="naive").is_exact
    enc = adam_meta_gradient(p, 1e-3, 50)  # torch defaults, log objective
    ref = adam_reference(p, 1e-3, 50, objective="log", number="mpmath", prec_bits=REF_PREC)
    assert _holds(enc, _mpf_fraction(ref["right"]), REF_SLACK)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,argument,error",
    [
        (dict(eta=0.0), "eta", InvalidStepSizeError),
        (dict(eta=-1.0), "eta", InvalidStepSizeError),
        (dict(eta=float("nan")), "eta", InvalidStepSizeError),
        (dict(beta1=1.0), "beta1", InvalidStepSizeError),
        (dict(beta1=-0.5), "beta1", InvalidStepSizeError),
        (dict(beta2=1.0), "beta2", InvalidStepSizeError),
        (dict(beta2=float("inf")), "beta2", InvalidStepSizeError),
        (dict(eps=0.0), "eps", InvalidStepSizeError),
        (dict(eps=-1e-8), "eps", InvalidStepSizeError),
        (dict(eps="1e-8"), "eps", InvalidStepSizeError),
        (dict(wrt="lr"), "wrt", UnknownOptionError),
        (dict(wrt="beta2", beta2=0.0), "wrt", UnsupportedOptionError),
    ],
)
def test_bad_input_typed_errors(kwargs: dict[str, Any], argument: str, error: type) -> None:
    args = dict(eta=0.125, beta1=0.9, beta2=0.999, eps=1e-8, wrt="eta") | kwargs
    eta = args.pop("eta")
    with pytest.raises(error) as info:
        adam_meta_gradient(PROBLEMS[0], eta, 3, **args)
    assert info.value.argument == argument
    assert argument in str(info.value)
