"""higher's ``innerloop_ctx`` through the unrolled GD trajectory (a client under test).

Written as higher's documentation writes a differentiable inner loop, with the learning rate
overridden by a 0-d tensor that requires grad (``override={"lr": [lr]}``, one entry per
parameter group)::

    model = Iterate(w0)                              # nn.Module, one parameter w
    opt = torch.optim.SGD(model.parameters(), lr=float(eta))
    with higher.innerloop_ctx(model, opt, override={"lr": [lr]}) as (fmodel, diffopt):
        for _ in range(t):
            diffopt.step(fmodel())                   # forward() is the training loss
        F = meta_objective(fmodel.w)
    dF_deta = torch.autograd.grad(F, lr)

higher's differentiable SGD updates p <- p + (-lr) * g with g from
``torch.autograd.grad(loss, params, create_graph=True)``, so dF/deta reaches ``lr``.

Other inner optimizers, the same loop with the torch optimizer a user writes:

* ``optimizer="heavy_ball"``: ``torch.optim.SGD(params, lr, momentum=beta)`` (dampening 0,
  no Nesterov). higher's ``DifferentiableSGD`` sets the buffer to g_0 on the first step, then
  buf = beta buf + g, p = p - lr buf: heavy ball with eta = lr (see
  :mod:`verify.backprop.momentum`).
* ``optimizer="adam"``: ``torch.optim.Adam(params, lr, betas=(beta1, beta2), eps=eps)``.
  higher's ``DifferentiableAdam`` is *not* ``torch.optim.Adam``'s update: it steps
  p -= lr sqrt(1 - beta2^n) / (1 - beta1^n) * m / (sqrt(v) + eps), which is
  mhat / (sqrt(vhat) + eps / sqrt(1 - beta2^n)) -- Adam with eps replaced by
  eps / sqrt(1 - beta2^n) (the "epsilon hat" form of Kingma & Ba, §2), equal to our
  recurrence only as eps -> 0. It also masks the adjoint of v where v == 0 (a tensor hook),
  so it returns the finite exact-derivative convention at the sqrt-at-0 points where torch,
  optax and torchopt return NaN (see :mod:`verify.backprop.adam`).
float16, bfloat16, float32 and float64 all run (torch CPU kernels); CPU only. Diagnostics:
forward iterates are the fast weights after each step, adjoints come from tensor hooks (as
the ``torch`` backend). This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._common import Request, optional_import
from ._torch_clients import hyperparameters, iterate_module, run_client
from .diagnostics import Diagnostics

__all__ = ["run_higher"]


def _higher() -> Any:
    optional_import("torch", "higher", "PyTorch")
    return optional_import("higher", "higher", "higher")


def run_higher(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient through ``higher.innerloop_ctx`` with a differentiable learning
    rate, in the dtype.

    Accuracy
    --------
    None promised (a system under test); the failure mechanisms of stepwise backprop (paper
    notes §4.5).
    """
    higher = _higher()
    torch = importlib.import_module("torch")
    settings = hyperparameters(req)
    name = req.opt.name

    def optimizer(params: Any, lr: float) -> Any:
        if name == "heavy_ball":
            return torch.optim.SGD(params, lr=lr, momentum=settings[0])
        if name == "adam":
            b1, b2, eps = settings
            return torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps)
        return torch.optim.SGD(params, lr=lr)

    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        model = iterate_module(w0, loss)
        opt = optimizer(model.parameters(), lr.item())
        with higher.innerloop_ctx(model, opt, override={"lr": [lr]}) as (fmodel, diffopt):
            for k in range(1, t + 1):
                diffopt.step(fmodel())
                observe(k, fmodel.w)
            return fmodel.w

    return run_client(req, "higher", unroll)
