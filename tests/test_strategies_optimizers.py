"""verify.strategies for the optimizers' settings (issue 19, item 5): momenta() and
adam_settings() validate eagerly, draw values exact in every dtype under test, shrink toward
plain GD, reach the values near 1 that training uses, and feed every backend bit-identical
settings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from verify import Quadratic
from verify import strategies as vs
from verify.backprop import meta_gradient
from verify.errors import ArgumentError, UnknownOptionError
from verify.floats import exact_in_all, get_format

PAIRS = [("float16", "bfloat16"), ("bfloat16",), ("float32",), ("float64",)]
Q = Quadratic([[2.0, 0.5], [0.5, 1.0]], w0=[0.625, 0.75])


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: vs.momenta(min_beta=-0.5), "min_beta"),
        (lambda: vs.momenta(max_beta=1.0), "max_beta"),
        (lambda: vs.momenta(min_beta=0.5, max_beta=0.25), "max_beta"),
        (lambda: vs.momenta(max_beta="0.9"), "max_beta"),
        (lambda: vs.momenta(exact_in="float8"), "exact_in"),
        (lambda: vs.adam_settings(min_eps=0.0), "min_eps"),
        (lambda: vs.adam_settings(max_eps=-1.0), "max_eps"),
        (lambda: vs.adam_settings(min_eps=0.5, max_eps=0.25), "max_eps"),
        (lambda: vs.adam_settings(rmsprop="yes"), "rmsprop"),
        (lambda: vs.adam_settings(exact_in=("float32", "float9")), "exact_in"),
    ],
)
def test_eager_validation(call: Any, argument: str) -> None:
    with pytest.raises(ArgumentError) as exc:
        call()
    assert exc.value.argument == argument
    if argument == "exact_in":
        assert isinstance(exc.value, UnknownOptionError)


@pytest.mark.parametrize("dts", PAIRS)
@settings(max_examples=30, database=None)
@given(data=st.data())
def test_momenta_exact_in_every_dtype(dts: tuple[str, ...], data: st.DataObject) -> None:
    beta = data.draw(vs.momenta(exact_in=dts))
    assert 0.0 <= beta <= 0.99 and exact_in_all(np.array(beta), dts)


@pytest.mark.parametrize("dts", PAIRS)
@settings(max_examples=30, database=None)
@given(data=st.data())
def test_adam_settings_exact_and_valid(dts: tuple[str, ...], data: st.DataObject) -> None:
    s = data.draw(vs.adam_settings(exact_in=dts))
    assert set(s) == {"beta1", "beta2", "eps"}
    assert 0.0 <= s["beta1"] < 1.0 and 0.5 <= s["beta2"] < 1.0 and s["eps"] > 0
    assert exact_in_all(np.array(list(s.values())), dts)
    # eps is a normal number of every format (torch's 1e-8 would be 0 in float16)
    assert all(s["eps"] >= 2.0 ** get_format(n).emin for n in dts)


FIND = settings(database=None, derandomize=True, max_examples=200)


def test_shrinking_and_reach() -> None:
    assert find(vs.momenta(), lambda b: True, settings=FIND) == 0.0  # shrinks to plain GD
    assert find(vs.momenta(min_beta=0.25), lambda b: True, settings=FIND) == 0.25
    # values near 1 (training's 0.9-0.99) are reachable in the narrowest format
    assert find(vs.momenta(exact_in="bfloat16"), lambda b: b >= 0.98, settings=FIND) < 1.0
    assert find(vs.adam_settings(rmsprop=True), lambda s: True, settings=FIND)["beta1"] == 0.0
    assert find(vs.adam_settings(rmsprop=False), lambda s: True, settings=FIND)["beta1"] > 0.0


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@settings(max_examples=10, database=None)
@given(data=st.data())
def test_drawn_settings_run_every_dtype_unrounded(dtype: str, data: st.DataObject) -> None:
    dts = ("float16", "bfloat16")
    beta = data.draw(vs.momenta(exact_in=dts))
    s = data.draw(vs.adam_settings(exact_in=dts))
    hb = meta_gradient(Q, 0.125, 5, dtype=dtype, optimizer="heavy_ball", beta=beta)
    ad = meta_gradient(Q, 0.125, 5, dtype=dtype, optimizer="adam", **s)
    # rounding once to the dtype leaves the drawn settings unchanged: every backend and the
    # oracle see the same beta, beta1, beta2, eps
    dt = get_format(dtype).numpy_dtype()
    for x in (beta, *s.values()):
        assert float(np.asarray(x).astype(dt)) == x
    assert hb.grad.dtype == dt and ad.grad.dtype == dt
