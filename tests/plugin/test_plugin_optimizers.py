"""The plugin with inner optimizers other than GD (issue 19, item 5): the marker accepts
``optimizer=`` and its settings (validated), ``l2l_backend`` runs only the backends that
unroll it and passes the settings through, and a point without certified truth for its
optimizer is counted "not judged" and skipped -- never passed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import Quadratic, pytest_plugin
from verify import strategies as vs
from verify.backprop import Optimizer, meta_gradient
from verify.backprop.registry import select
from verify.errors import ArgumentError, UnknownOptionError
from verify.pytest_plugin import (
    Backend,
    CertifiedTruth,
    Ledger,
    MarkerArgs,
    MetaGradientCheck,
    unjudgeable,
)

Q = Quadratic([[2.0, 0.5], [0.5, 1.0]], w0=[0.625, 0.75])


@pytest.mark.meta_gradient(optimizer="adam", beta1=0.5, dtypes=["float64"])
def test_backend_runs_the_markers_optimizer(
    request: pytest.FixtureRequest, l2l_backend: Backend, l2l_optimizer: Optimizer
) -> None:
    assert str(l2l_backend) in select(optimizer="adam")
    assert l2l_optimizer == l2l_backend.optimizer
    assert l2l_optimizer.name == "adam" and l2l_optimizer.beta1 == 0.5
    res = l2l_backend(Q, 0.125, 4, dtype="float64")
    assert res.optimizer == l2l_optimizer
    want = meta_gradient(Q, 0.125, 4, dtype="float64", backend=str(l2l_backend), **_kw(res))
    assert np.array_equal(res.grad, want.grad, equal_nan=True)


def _kw(res: object) -> dict[str, object]:
    o = res.optimizer  # type: ignore[attr-defined]
    return {"optimizer": o.name, "beta1": o.beta1, "beta2": o.beta2, "eps": o.eps}


def test_marker_backends_exclude_those_without_the_optimizer(pytestconfig: pytest.Config) -> None:
    # pytest_generate_tests on a stand-in for a test marked optimizer="heavy_ball"
    mark = pytest.mark.meta_gradient(optimizer="heavy_ball", beta=0.5).mark
    got: dict[str, list[object]] = {}
    meta = SimpleNamespace(
        fixturenames=["l2l_backend"],
        config=pytestconfig,
        definition=SimpleNamespace(
            get_closest_marker=lambda name: mark if name == "meta_gradient" else None,
            iter_markers=lambda name: iter(()),
        ),
        parametrize=lambda name, params: got.setdefault(name, params),
    )
    # called through the module: a hook imported into a test module would run twice
    pytest_plugin.pytest_generate_tests(meta)  # type: ignore[arg-type]
    backends = [p.values[0] for p in got["l2l_backend"]]  # type: ignore[attr-defined]
    names = {str(b) for b in backends}
    assert names and names <= set(select(optimizer="heavy_ball"))
    assert not names & {"jax", "stable", "paper"}
    assert all(b.optimizer == Optimizer("heavy_ball", beta=0.5) for b in backends)


@pytest.mark.parametrize(
    ("kwargs", "argument", "error"),
    [
        ({"optimizer": "sgd"}, "optimizer", UnknownOptionError),
        ({"optimizer": "heavy_ball"}, "beta", ArgumentError),
        ({"optimizer": "heavy_ball", "beta": 1.0}, "beta", ArgumentError),
        ({"optimizer": "adam", "eps": 0.0}, "eps", ArgumentError),
        ({"beta": 0.5}, "beta", ArgumentError),
    ],
)
def test_marker_validation(kwargs: dict[str, object], argument: str, error: type) -> None:
    mark = pytest.mark.meta_gradient(**kwargs).mark
    with pytest.raises(error) as exc:
        MarkerArgs.from_marker(mark)
    assert exc.value.argument == argument


def test_adam_is_not_judged_and_skipped_never_passed() -> None:
    check = MetaGradientCheck(CertifiedTruth(), Ledger())
    res = meta_gradient(Q, [0.125, 0.25], 4, dtype="float32", optimizer="adam")
    assert unjudgeable(res.optimizer) is not None
    with pytest.raises(pytest.skip.Exception, match="not judged"):
        check.result(res)
    with pytest.raises(pytest.skip.Exception, match="not judged"):
        check(Q, 0.125, 4, res.grad[0], dtype="float32", optimizer="adam")
    counts = check.ledger.counts
    assert sum(c["not_judged"] for c in counts.values()) == 3
    assert all(set(c) == {"not_judged"} for c in counts.values())


def test_heavy_ball_is_not_judged_until_the_judge_has_its_error_model() -> None:
    check = MetaGradientCheck(CertifiedTruth(), Ledger())
    assert unjudgeable(Optimizer("heavy_ball", beta=0.5)) is not None
    res = meta_gradient(Q, 0.125, 6, dtype="float64", optimizer="heavy_ball", beta=0.5)
    with pytest.raises(pytest.skip.Exception, match="not judged"):
        check.result(res)
    with pytest.raises(ArgumentError):
        check.truth.meta_gradient(Q, 0.125, 6, optimizer=res.optimizer)


def test_gd_checks_unchanged_by_the_optimizer_argument() -> None:
    check = MetaGradientCheck(CertifiedTruth(), Ledger())
    res = meta_gradient(Q, 0.125, 6, dtype="float64")
    a = check.result(res)
    b = check(Q, 0.125, 6, res.grad, dtype="float64", optimizer="gd", source="numpy")
    assert a[0].status == b.status == "passed" and a[0].outcome == b.outcome


@settings(max_examples=3, database=None)
@given(beta=vs.momenta(), data=st.data())
def test_skip_inside_hypothesis_skips_the_test(beta: float, data: st.DataObject) -> None:
    # pytest's Skipped goes through Hypothesis (it re-raises skip exceptions): the whole test
    # is reported skipped, not passed
    check = MetaGradientCheck(CertifiedTruth(), Ledger())
    res = meta_gradient(Q, 0.125, 3, dtype="float32", optimizer="adam", beta1=beta)
    with pytest.raises(pytest.skip.Exception):
        check.result(res)
