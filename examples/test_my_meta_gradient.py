"""A user's property test of their own meta-gradient against l2l-verify's certified truth.

Copy into your project's tests (with l2l-verify installed, the pytest plugin is active) and
run ``pytest``; the session ends with an accuracy summary. ``my_meta_gradient`` stands for
your optimizer's hypergradient: here, forward-mode differentiation through t GD steps.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify import strategies as vs


def my_meta_gradient(H, w0, eta, t, dtype):
    """d/deta of (1/t) log f(w_t), f(w) = w^T H w / 2, forward mode, every operation in dtype."""
    H, w = H.astype(dtype), w0.astype(dtype)
    eta, dw = np.asarray(eta, dtype=dtype), np.zeros_like(w)
    with np.errstate(all="ignore"):  # f(w_t) may underflow: the check knows where (see below)
        for _ in range(t):
            Hw = H @ w
            w, dw = w - eta * Hw, dw - Hw - eta * (H @ dw)
        return (H @ w) @ dw / (w @ H @ w / 2) / t


@pytest.mark.meta_gradient(objective="log", dtypes=["float32", "float64"])
@given(q=vs.quadratics(max_dim=6, max_condition=100.0), t=vs.horizons(max_t=100), data=st.data())
def test_my_meta_gradient(q, t, data, l2l_dtype, l2l_check):
    eta = data.draw(vs.step_sizes(q, regime="vanishing"))
    l2l_check(q, eta, t, my_meta_gradient(q.H, q.w0, eta, t, l2l_dtype), dtype=l2l_dtype)
