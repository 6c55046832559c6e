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

__all__: list[str] = []
