"""verify.strategies: eager validation, exact representability, regimes, shrinking."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from verify import Quadratic
from verify import strategies as vs
from verify.errors import ArgumentError, InvalidPrecisionError, UnknownOptionError
from verify.floats import round_fraction


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: vs.quadratics(exact_in="float8"), "exact_in"),
        (lambda: vs.quadratics(min_dim=0), "min_dim"),
        (lambda: vs.quadratics(min_dim=4, max_dim=2), "max_dim"),
        (lambda: vs.quadratics(max_condition=0.5), "max_condition"),
        (lambda: vs.quadratics(max_condition=1e4, max_dim=8, exact_in="float16"), "max_condition"),
        (lambda: vs.quadratics(spectrum="flat"), "spectrum"),
        (lambda: vs.horizons(min_t=-1), "min_t"),
        (lambda: vs.horizons(min_t=5, max_t=2), "max_t"),
        (lambda: vs.least_squares_tasks(d=0, n_train=3), "d"),
        (lambda: vs.least_squares_tasks(d=3, n_train=3, sigma=-1.0), "sigma"),
    ],
)
def test_eager_validation(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ArgumentError) as exc:
        call()
    assert exc.value.argument == argument


def test_step_sizes_validation() -> None:
    q = Quadratic([[2.0, 0.0], [0.0, 1.0]], [0.6, 0.8])
    with pytest.raises(UnknownOptionError):
        vs.step_sizes(q, regime="fast")  # type: ignore[arg-type]
    with pytest.raises(UnknownOptionError):
        vs.step_sizes(q, exact_in="int8")


@pytest.mark.parametrize(
    ("dtype", "kappa"), [("float16", 20.0), ("bfloat16", 10.0), ("float32", 1e3)]
)
@given(data=st.data())
def test_values_exact_in_dtype(dtype: str, kappa: float, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=4, max_condition=kappa, exact_in=dtype))
    for x in np.concatenate([q.H.ravel(), q.w0]):
        assert round_fraction(Fraction(float(x)), dtype) == x
    eta = data.draw(vs.step_sizes(q, exact_in=dtype))
    assert round_fraction(Fraction(eta), dtype) == eta


@pytest.mark.parametrize("regime", ["vanishing", "explosion", "near_optimal", "any"])
@given(data=st.data())
def test_regimes(regime: str, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=4, max_condition=100.0))
    eta = data.draw(vs.step_sizes(q, regime=regime))  # type: ignore[arg-type]
    L = q.spectral_enclosures()["L"]
    if regime == "vanishing":
        assert 0 < Fraction(eta) * L.upper < 2
    elif regime == "explosion":
        assert Fraction(eta) * L.lower > 2
    elif regime == "near_optimal":
        # from the enclosures, not q.L / q.alpha: an eigenvalue that is exactly a float64
        # rounding tie (H = [[1, -x], [-x, 1]] with x a float32: alpha = 1 - x needs 54 bits)
        # cannot be rounded with a certificate, and q.alpha rightly raises NotCertifiedError
        spec = q.spectral_enclosures()
        star = 2 / float(spec["L"].mid + spec["alpha"].mid)
        assert abs(eta - star) <= 0.051 * star  # 5% window plus float32 rounding of eta


def test_shrinks_to_small_well_conditioned() -> None:
    q = find(vs.quadratics(min_dim=2, max_dim=8), lambda q: True, settings=settings(database=None))
    assert q.d == 2
    lam = np.linalg.eigvalsh(q.H)
    assert lam[-1] / lam[0] < 1.01  # shrinks to log10(kappa) = 0
    assert (
        find(vs.horizons(min_t=3, max_t=1000), lambda t: True, settings=settings(database=None))
        == 3
    )


@given(vs.least_squares_tasks(d=5, n_train=3, n_valid=4, sigma=2.0))
def test_least_squares_tasks(task) -> None:  # type: ignore[no-untyped-def]
    train, valid = task
    assert train.X.shape == (3, 5) and valid is not None and valid.X.shape == (4, 5)
    assert not np.any(train.w0)


def test_condition_error_names_the_fix() -> None:
    with pytest.raises(InvalidPrecisionError, match="max_condition \\* max_dim \\* u < 1/4"):
        vs.quadratics(max_condition=1e3, max_dim=8, exact_in="bfloat16")


@given(data=st.data())
def test_exact_in_several_formats(data: st.DataObject) -> None:
    # float16 and bfloat16 do not contain each other: values must be exact in both
    both = ("float16", "bfloat16")
    q = data.draw(vs.quadratics(max_dim=3, max_condition=10.0, exact_in=both))
    eta = data.draw(vs.step_sizes(q, exact_in=list(both)))
    for x in [*q.H.ravel(), *q.w0, eta]:
        for dtype in both:
            assert round_fraction(Fraction(float(x)), dtype) == x


def test_exact_in_and_problem_validation() -> None:
    q = Quadratic([[2.0, 0.0], [0.0, 1.0]], [0.6, 0.8])
    for bad in ([], ["float32", "int8"], 32):
        with pytest.raises(UnknownOptionError) as exc:
            vs.quadratics(exact_in=bad)  # type: ignore[arg-type]
        assert exc.value.argument == "exact_in"
    with pytest.raises(UnknownOptionError) as exc:
        vs.step_sizes(q.H)  # type: ignore[arg-type]
    assert exc.value.argument == "problem"
