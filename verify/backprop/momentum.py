"""Reference backprop of heavy-ball momentum in numpy (a system under test, any dtype).

Heavy ball w_{k+1} = w_k - eta g_k + beta (w_k - w_{k-1}), w_{-1} = w_0, g_k = H w_k - b, run
in the velocity form every library uses (``torch.optim.SGD(momentum=beta)``,
``optax.sgd(momentum=beta)``, ``torchopt.sgd(momentum=beta)``)::

    v_{k+1} = beta v_k + g_k,   w_{k+1} = w_k - eta v_{k+1},   v_0 = 0,

equal to heavy ball in exact arithmetic (d_k = w_k - w_{k-1} = -eta v_k). Derivatives with
respect to eta (beta held fixed):

* ``mode="forward"``: tangents v'_{k+1} = beta v'_k + H w'_k,
  w'_{k+1} = w'_k - v_{k+1} - eta v'_{k+1}; dF/deta = <dF/dw_t, w'_t>;
* ``mode="reverse"``: store v_1..v_t, then from bar w_t = dF/dw_t, bar v_t = 0:
  s = bar v_{k+1} - eta bar w_{k+1}, dF/deta -= <bar w_{k+1}, v_{k+1}>,
  bar w_k = bar w_{k+1} + H s, bar v_k = beta s.

Every operation is in the dtype (data, eta and beta rounded once to it), batched over step
sizes as (G, d) arrays. beta = 0 is plain GD in exact arithmetic (its float roundings differ
from :mod:`verify.backprop.reference` only by the extra multiply by 0 and add). This module
never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Request, check_dtype
from ._unrolled import final_objective, gradient, mm, setup, store
from .diagnostics import Diagnostics, Tracker, diagnostics_from

__all__ = ["run_heavy_ball"]


def run_heavy_ball(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value, meta-gradient with respect to eta (arrays (G,) in the dtype) and diagnostics.

    Accuracy
    --------
    None promised: a system under test. In exact arithmetic both modes equal the exact
    meta-gradient of heavy ball (tests/backprop/test_optimizers.py checks this in rational
    arithmetic); in floating point the iterates grow like rho^k, rho the spectral radius of
    the 2x2 companion matrix [[1 + beta - eta lambda, -beta], [1, 0]] per eigenvalue lambda,
    and over/underflow where rho^t leaves the dtype's range.
    """
    u = setup(req)
    dt, t, E, W = u.dt, req.t, u.E, u.W
    beta = np.asarray(req.opt.beta).astype(dt)
    G = W.shape[0]
    fwd, adj = Tracker(G), Tracker(G)
    fwd.see(0, W)
    forward = req.mode == "forward"
    with np.errstate(all="ignore"):
        V = np.zeros_like(W)
        Vs = None if forward else store(t, W.shape, dt)
        Wd = np.zeros_like(W)
        Vd = np.zeros_like(W)
        for k in range(t):
            g = gradient(u, W)
            V = beta * V + g
            if forward:
                Vd = beta * Vd + mm(Wd, u.H)
                Wd = Wd - V - E * Vd
                adj.see(k + 1, Wd)
            else:
                assert Vs is not None
                Vs[k] = V
            W = W - E * V
            fwd.see(k + 1, W)
        value, scale, r, f = final_objective(u, W, req.objective, t)
        if forward:
            grad = (r * Wd).sum(axis=1) * scale
        else:
            assert Vs is not None
            bar_w = r * scale[:, None]
            bar_v = np.zeros_like(bar_w)
            adj.see(t, bar_w)
            grad = np.zeros(G, dtype=dt)
            for k in range(t - 1, -1, -1):
                s = bar_v - E * bar_w
                grad = grad - (bar_w * Vs[k]).sum(axis=1)
                bar_w = bar_w + mm(s, u.H)
                bar_v = beta * s
                adj.see(k, bar_w)
    fwd.flush()
    adj.flush()
    check_dtype(grad, dt, "heavy-ball meta-gradient")
    check_dtype(value, dt, "heavy-ball meta-objective")
    return value, grad, diagnostics_from(fwd, adj, f.astype(np.float64), t)
