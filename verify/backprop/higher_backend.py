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
float16, bfloat16, float32 and float64 all run (torch CPU kernels); CPU only. Diagnostics:
forward iterates are the fast weights after each step, adjoints come from tensor hooks (as
the ``torch`` backend). This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._common import Request, optional_import
from ._torch_clients import iterate_module, run_client
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

    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        model = iterate_module(w0, loss)
        opt = torch.optim.SGD(model.parameters(), lr=lr.item())
        with higher.innerloop_ctx(model, opt, override={"lr": [lr]}) as (fmodel, diffopt):
            for k in range(1, t + 1):
                diffopt.step(fmodel())
                observe(k, fmodel.w)
            return fmodel.w

    return run_client(req, "higher", unroll)
