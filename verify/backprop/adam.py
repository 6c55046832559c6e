"""Reference backprop of Adam (bias-corrected) in numpy (a system under test, any dtype).

Adam as ``torch.optim.Adam`` and ``optax.adam`` define it (no weight decay, no AMSGrad), with
g_k = H w_k - b, m_0 = v_0 = 0 and n = k + 1::

    m_n = beta1 m_{n-1} + (1 - beta1) g_k          vhat = v_n / (1 - beta2^n)
    v_n = beta2 v_{n-1} + (1 - beta2) g_k * g_k     mhat = m_n / (1 - beta1^n)
    w_{k+1} = w_k - eta u_k,   u_k = mhat / (sqrt(vhat) + eps)          (entrywise)

RMSProp with bias correction is ``beta1=0``. The powers beta^n are formed by repeated
multiplication in the dtype. Derivatives with respect to eta, by autodiff's own rules
(d sqrt(x) = dx / (2 sqrt(x)), d(a/b) = da/b - a db/b^2):

* ``mode="forward"``: tangents of (w, m, v) carried with the state;
* ``mode="reverse"``: store g_k, m_n, v_n for every step, then the adjoint pass.

The square root at 0
--------------------
Where an entry of vhat is exactly 0 (every gradient of that coordinate so far was 0 -- e.g.
w_0 has a zero entry on a diagonal problem -- or its squares underflowed), autodiff forms
1/(2 sqrt(0)) = inf and multiplies it by the entry's adjoint or tangent, which is 0 there
(m_n = 0 and v's tangent is 2(1 - beta2) g g' = 0): inf * 0 = NaN, and the NaN spreads to
dF/deta. This module does the same (it is the reference *autodiff*), and so do
``torch.autograd`` (SqrtBackward: grad / (2 sqrt(x)) = 0/0), ``jax.grad`` (0 * inf) and,
through them, optax and torchopt; higher's ``DifferentiableAdam`` masks the adjoint of
v where v == 0 (a tensor hook) and returns a finite number.

The exact derivative exists there and is finite. Near such an eta, that entry's gradients
g_j(eta) all vanish at eta, so v_n(eta) = O((eta - eta_0)^2) and sqrt(vhat) is Lipschitz with
one-sided derivatives +-c (c >= 0; a two-sided derivative of sqrt(vhat) alone exists only
when c = 0), while mhat(eta_0) = 0. Hence u = mhat / (sqrt(vhat) + eps) has the derivative
mhat'(eta_0) / eps: the sqrt path contributes exactly 0 (the true derivative of the composite,
not a convention), which is what masking the sqrt's adjoint to 0 computes. The result's
:attr:`Diagnostics.sqrt_at_zero` names the first step where vhat had a zero entry, so a NaN
there is classified as this autodiff artefact (vhat rounding to 0 from a nonzero exact value
-- squares underflowing -- lands there too; the exact derivative then is the smooth one).

eps is rounded once to the dtype: ``eps=1e-8`` is 0 in float16 (below its smallest
subnormal), so there u = 0/0 = NaN in the forward pass itself wherever vhat = 0.

This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._common import Request, check_dtype
from ._unrolled import Unrolled, final_objective, gradient, mm, setup, store
from .diagnostics import Diagnostics, Tracker, diagnostics_from

__all__ = ["run_adam"]


def _settings(req: Request, dt: np.dtype[Any], t: int) -> tuple[Any, ...]:
    """beta1, beta2, eps, 1 - beta1, 1 - beta2 in the dtype and the bias corrections
    c1[n-1] = 1 - beta1^n, c2[n-1] = 1 - beta2^n (powers by repeated multiplication)."""
    o = req.opt
    b1, b2, eps = (np.asarray(x).astype(dt) for x in (o.beta1, o.beta2, o.eps))
    one = dt.type(1)
    c1 = np.empty(t, dtype=dt)
    c2 = np.empty(t, dtype=dt)
    p1, p2 = one, one
    for n in range(t):
        p1, p2 = dt.type(p1 * b1), dt.type(p2 * b2)
        c1[n], c2[n] = one - p1, one - p2
    return b1, b2, eps, one - b1, one - b2, c1, c2


def _direction(M: Any, S: Any, c1: Any, c2: Any, eps: Any) -> tuple[Any, Any, Any, Any]:
    """(mhat, sqrt(vhat), sqrt(vhat) + eps, u) of one step."""
    mh = M / c1
    sq = np.sqrt(S / c2)
    den = sq + eps
    return mh, sq, den, mh / den


def _forward(req: Request, u: Unrolled, fwd: Tracker, adj: Tracker) -> tuple[Any, ...]:
    """Run t steps; forward mode carries tangents, reverse mode stores g, m, v per step.
    Returns (W, Wd or None, stored or None, first step with vhat == 0 per row)."""
    dt, t, E, W = u.dt, req.t, u.E, u.W
    b1, b2, eps, q1, q2, c1, c2 = _settings(req, dt, t)
    forward = req.mode == "forward"
    two = dt.type(2)
    M, S = np.zeros_like(W), np.zeros_like(W)
    Wd, Md, Sd = np.zeros_like(W), np.zeros_like(W), np.zeros_like(W)
    kept = None if forward else tuple(store(t, W.shape, dt) for _ in range(3))
    zero_at = np.full(W.shape[0], -1, dtype=np.int64)
    for k in range(t):
        g = gradient(u, W)
        M = b1 * M + q1 * g
        S = b2 * S + q2 * (g * g)
        mh, sq, den, step = _direction(M, S, c1[k], c2[k], eps)
        hit = (sq == 0).any(axis=1) & (zero_at < 0)
        zero_at[hit] = k + 1
        if forward:
            gd = mm(Wd, u.H)
            Md = b1 * Md + q1 * gd
            Sd = b2 * Sd + q2 * (two * (g * gd))
            sqd = (Sd / c2[k]) / (two * sq)
            step_d = (Md / c1[k]) / den - mh * sqd / (den * den)
            Wd = Wd - step - E * step_d
            adj.see(k + 1, Wd)
        else:
            assert kept is not None
            kept[0][k], kept[1][k], kept[2][k] = g, M, S
        W = W - E * step
        fwd.see(k + 1, W)
    return W, (Wd if forward else None), kept, zero_at


def _reverse(req: Request, u: Unrolled, bar_w: Any, kept: Any, adj: Tracker) -> Any:
    """The adjoint pass from bar w_t: dF/deta per row."""
    dt, t, E = u.dt, req.t, u.E
    b1, b2, eps, q1, q2, c1, c2 = _settings(req, dt, t)
    two = dt.type(2)
    bar_m, bar_s = np.zeros_like(bar_w), np.zeros_like(bar_w)
    grad = np.zeros(bar_w.shape[0], dtype=dt)
    for k in range(t - 1, -1, -1):
        g, M, S = kept[0][k], kept[1][k], kept[2][k]
        mh, sq, den, step = _direction(M, S, c1[k], c2[k], eps)
        grad = grad - (bar_w * step).sum(axis=1)
        bar_step = -(E * bar_w)
        bar_den = -(bar_step * mh) / (den * den)
        bar_m = bar_m + (bar_step / den) / c1[k]
        bar_s = bar_s + (bar_den / (two * sq)) / c2[k]
        bar_g = q1 * bar_m + q2 * (two * (g * bar_s))
        bar_w = bar_w + mm(bar_g, u.H)
        bar_m, bar_s = b1 * bar_m, b2 * bar_s
        adj.see(k, bar_w)
    return grad


def run_adam(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value, meta-gradient with respect to eta (arrays (G,) in the dtype) and diagnostics.

    Accuracy
    --------
    None promised: a system under test. In exact real arithmetic both modes equal the exact
    meta-gradient wherever vhat > 0 entrywise at every step; at an entry vhat = 0 they return
    NaN where the exact derivative is finite (see the module docstring;
    ``diagnostics.sqrt_at_zero`` says so). Float errors: ordinary rounding in each step,
    amplified where sqrt(vhat) is small against eps.
    """
    u = setup(req)
    G = u.W.shape[0]
    fwd, adj = Tracker(G), Tracker(G)
    fwd.see(0, u.W)
    with np.errstate(all="ignore"):
        W, Wd, kept, zero_at = _forward(req, u, fwd, adj)
        value, scale, r, f = final_objective(u, W, req.objective, req.t)
        if Wd is not None:
            grad = (r * Wd).sum(axis=1) * scale
        else:
            bar_w = r * scale[:, None]
            adj.see(req.t, bar_w)
            grad = _reverse(req, u, bar_w, kept, adj)
    fwd.flush()
    adj.flush()
    check_dtype(grad, u.dt, "Adam meta-gradient")
    check_dtype(value, u.dt, "Adam meta-objective")
    diags = diagnostics_from(fwd, adj, f.astype(np.float64), req.t)
    return (
        value,
        grad,
        [
            dataclasses.replace(d, sqrt_at_zero=int(z) if z > 0 else None)
            for d, z in zip(diags, zero_at, strict=True)
        ],
    )
