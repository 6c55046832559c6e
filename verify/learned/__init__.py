"""Neural-network learned optimizer: the paper's §5.3 claims beyond the step size.

Submodules (PyTorch and scikit-learn are imported inside functions, so importing this
package needs neither):

* :mod:`~verify.learned.data` -- bundled digits / local MNIST, label noise, sample sizes;
* :mod:`~verify.learned.inner` -- the 2-layer ReLU MLP inner problem on a flat vector;
* :mod:`~verify.learned.optimizer` -- the coordinate-wise MLP optimizer (Metz et al. 2019);
* :mod:`~verify.learned.meta` -- meta-objectives and truncated-backprop meta-training;
* :mod:`~verify.learned.explosion` -- meta-gradient norm vs unroll length, float32 vs float64;
* :mod:`~verify.learned.experiment` -- train-by-train vs train-by-validation (Figs. 5-7);
* :mod:`~verify.learned.cli` -- ``l2l-verify learned-optimizer``.
"""

from __future__ import annotations

import os

__all__ = ["THREADS_ENV", "torch_threads"]

#: Environment variable holding the torch intra-op thread count of every process of an
#: experiment (``l2l-verify learned-optimizer --threads N`` sets it; worker processes inherit
#: it). Default 1: results must not depend on it, and a test compares 1 with 2.
THREADS_ENV = "L2L_TORCH_THREADS"


def torch_threads() -> int:
    """The torch thread count the experiment runs with (``$L2L_TORCH_THREADS``, default 1)."""
    text = os.environ.get(THREADS_ENV, "1")
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        from ..errors import ArgumentError

        raise ArgumentError(THREADS_ENV, text, "must be an integer >= 1")
    return n
