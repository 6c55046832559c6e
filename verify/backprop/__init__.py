"""Float meta-gradients from the systems under test (never imports :mod:`verify.truth`).

Available now: the numpy reference backprop (reverse and forward mode, float16 / bfloat16 /
float32 / float64, batched over step sizes).
"""

from .reference import BackpropResult, Diagnostics, meta_gradient

__all__ = ["BackpropResult", "Diagnostics", "meta_gradient"]
