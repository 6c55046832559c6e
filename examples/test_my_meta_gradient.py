"""A user's property test of their own meta-gradient against l2l-verify's certified truth.

Copy into your project's tests (with l2l-verify installed, the pytest plugin is active) and
run ``pytest``; the session ends with an accuracy summary. ``my_meta_gradient`` stands for
your optimizer's hypergradient: here, forward-mode differentiation through t GD steps.

The judge is strict: a NaN, an infinity, a wrong sign or a silent zero fails the test
wherever it happens. A plain float32 unroll fails where f(w_t) leaves the float range
(Corollary 1 of the paper: f(w_t) ~ rho^(2t)), so this implementation rescales (w_k, dw_k)
by a power of two every step -- exact, and harmless because (1/t) log f(w_t) and its
derivative do not change when both are scaled together. It is not expected to fail
anywhere, so the marker switches the known-failure regions of plain backprop off.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from verify import strategies as vs


def my_meta_gradient(H, w0, eta, t, dtype):
    """d/deta of (1/t) log f(w_t), f(w) = w^T H w / 2, forward mode, every operation in dtype."""
    H, w = H.astype(dtype), w0.astype(dtype)
    eta, dw = np.asarray(eta, dtype=dtype), np.zeros_like(w)
    for _ in range(t):
        Hw = H @ w
        w, dw = w - eta * Hw, dw - Hw - eta * (H @ dw)
        _, e = np.frexp(np.max(np.abs(w)))  # rescale by 2^-e: exact, keeps w_k near 1
        w, dw = np.ldexp(w, -e), np.ldexp(dw, -e)
    return (H @ w) @ dw / (w @ H @ w / 2) / t


@pytest.mark.meta_gradient(objective="log", dtypes=["float32", "float64"], known_failures=False)
@given(q=vs.quadratics(max_dim=6, max_condition=100.0), t=vs.horizons(max_t=100), data=st.data())
def test_my_meta_gradient(q, t, data, l2l_dtype, l2l_check):
    eta = data.draw(vs.step_sizes(q, regime="vanishing"))
    # near rho(eta) = max|1 - eta lambda| = 0 (GD converging in one step) 1 - eta lambda
    # cancels in any float format and f(w_t) can come out exactly 0: not this test's subject
    assume(np.max(np.abs(1 - eta * np.linalg.eigvalsh(q.H))) >= 0.5)
    l2l_check(q, eta, t, my_meta_gradient(q.H, q.w0, eta, t, l2l_dtype), dtype=l2l_dtype)
