"""PyTorch autograd through the unrolled GD trajectory (a framework under test).

The trajectory w_{k+1} = w_k - eta (H w_k - b) is built with ``torch`` tensors of the
requested dtype on the requested device, the meta-objective F = g(w_t) or (1/t) log g(w_t)
is formed, and ``backward()`` returns dF/deta -- exactly what a learning-to-learn code does.
A batch of G step sizes is one (G, 1) leaf tensor; the G objectives are independent, so the
gradient of their sum is the vector of meta-gradients.

Other inner optimizers (``optimizer="heavy_ball"`` / ``"adam"``) are the same unroll with a
hand-written functional optimizer in torch ops, the way a torch.func user writes one: heavy ball
as ``torch.optim.SGD`` updates (v = beta v + g, w = w - eta v) and Adam as
``torch.optim.Adam`` defines it (see :mod:`verify.backprop.adam`, whose sqrt-at-0 NaN torch
reproduces: SqrtBackward divides by 2 sqrt(0)).

Diagnostics: forward iterates are inspected as they are produced; adjoints bar w_k are read
with tensor hooks during ``backward()``. This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import BackendUnavailableError, Request, problem_data, reject
from ._torch_common import to_numpy, torch_dtype, torch_module
from .diagnostics import Diagnostics, Tracker, diagnostics_from

__all__ = ["run_torch"]


def run_torch(req: Request, device: str | None) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient by PyTorch autograd, in the dtype, on ``device``.

    Accuracy
    --------
    None promised (a system under test); same failure mechanisms as the numpy reference
    (paper notes §4.5).
    """
    torch = torch_module()
    tdt = torch_dtype(req.fmt)
    dev_name = "cpu" if device is None else device
    try:
        dev = torch.device(dev_name)
        torch.zeros(1, device=dev)
    except (RuntimeError, AssertionError) as exc:
        raise BackendUnavailableError("torch", f"device {dev_name!r} is not usable: {exc}") from exc
    if req.mode not in ("reverse", "forward"):  # pragma: no cover - validated earlier
        raise reject("mode", req.mode, "torch supports 'reverse'")
    if req.mode == "forward":
        raise reject("mode", "forward", "backend='torch' runs reverse-mode autograd only")
    dt = req.dt
    G = req.etas.shape[0]
    t = req.t

    def tens(a: Any) -> Any:
        # data already rounded once to the dtype in numpy; the transfer is exact
        arr = np.asarray(a)
        if arr.dtype.name == "bfloat16":
            return torch.from_numpy(arr.astype(np.float32)).to(device=dev, dtype=tdt)
        return torch.from_numpy(np.ascontiguousarray(arr)).to(device=dev)

    H_, b_, _, w0_ = problem_data(req.problem, dt)
    He_, be_, ce_, _ = problem_data(req.eval, dt)
    H, b, w0 = tens(H_), tens(b_), tens(w0_)
    He, be, ce = tens(He_), tens(be_), tens(ce_)
    homogeneous = not np.any(b_)
    eta = tens(req.etas.astype(dt).reshape(G, 1)).requires_grad_(True)
    fwd = Tracker(G)
    adj = Tracker(G)
    adj_seen: dict[int, Any] = {}

    def hook(k: int) -> Any:
        def grab(grad: Any) -> None:
            adj_seen[k] = to_numpy(grad, dt)

        return grab

    W = w0.unsqueeze(0).expand(G, -1)
    fwd.see(0, to_numpy(W, dt))
    iterates = []
    update, zero_at = _optimizer(req, eta, tens)
    for k in range(1, t + 1):
        g = W @ H if homogeneous else W @ H - b
        W = W - eta * g if update is None else update(W, g, k)
        if W.requires_grad:
            W.register_hook(hook(k))
        fwd.see(k, to_numpy(W, dt))
        iterates.append(W)
    HW = W @ He
    f = (W * HW).sum(dim=1) * 0.5 - (W * be).sum(dim=1) + ce
    F = torch.log(f) / t if req.objective == "log" else f
    F.sum().backward()
    grad = to_numpy(eta.grad.reshape(G), dt)
    value = to_numpy(F, dt)
    for k in range(t, 0, -1):
        if k in adj_seen:
            adj.see(k, adj_seen[k])
    fwd.flush()
    adj.flush()
    f_np = to_numpy(f, dt).astype(np.float64)
    diags = diagnostics_from(fwd, adj, f_np, t)
    if req.opt.name == "adam":
        diags = [
            dataclasses.replace(d, sqrt_at_zero=int(z) if z > 0 else None)
            for d, z in zip(diags, zero_at, strict=True)
        ]
    return value, grad, diags


def _optimizer(
    req: Request, eta: Any, tens: Callable[[Any], Any]
) -> tuple[Callable[[Any, Any, int], Any] | None, Any]:
    """The functional update ``(w_k, g_k, k) -> w_{k+1}`` of a non-GD optimizer (``None``:
    GD, written inline), and the per-row first step with a zero entry of vhat (Adam)."""
    torch = torch_module()
    opt, dt = req.opt, req.dt
    G = req.etas.shape[0]
    zero_at = np.full(G, -1, dtype=np.int64)
    if opt.is_gd:
        return None, zero_at
    state: dict[str, Any] = {}
    if opt.name == "heavy_ball":
        beta = tens(np.asarray(opt.beta).astype(dt))

        def heavy_ball(W: Any, g: Any, k: int) -> Any:
            state["v"] = g if k == 1 else beta * state["v"] + g  # torch.optim.SGD's buffer
            return W - eta * state["v"]

        return heavy_ball, zero_at
    from .adam import _settings

    b1, b2, eps, q1, q2, c1, c2 = (tens(x) for x in _settings(req, dt, req.t))

    def adam(W: Any, g: Any, k: int) -> Any:
        m = state.get("m", torch.zeros_like(g))
        v = state.get("v", torch.zeros_like(g))
        state["m"] = m = b1 * m + q1 * g
        state["v"] = v = b2 * v + q2 * (g * g)
        sq = torch.sqrt(v / c2[k - 1])
        hit = to_numpy((sq == 0).any(dim=1), np.dtype(bool)) & (zero_at < 0)
        zero_at[hit] = k
        return W - eta * ((m / c1[k - 1]) / (sq + eps))

    return adam, zero_at
