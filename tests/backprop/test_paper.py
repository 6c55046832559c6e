"""The authors' rescaled closed form as a baseline system under test (paper notes §4.6)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backprop._backprop_inputs import eta_grid, exact_problem
from verify import LeastSquares, truth
from verify.backprop import UnsupportedOptionError, meta_gradient
from verify.compare import Outcome, assert_meta_gradient_accurate, classify_all


@pytest.mark.parametrize("variant", ["published", "sorted"])
def test_paper_accurate_at_moderate_horizons(variant: str) -> None:
    q = exact_problem(20, seed=4)
    etas = eta_grid(q, [0.0, 0.3, 1.0, 1.9, 2.0, 2.5, 10.0])
    for t in (1, 10, 100, 1000):
        res = meta_gradient(q, etas, t, dtype="float64", backend="paper", variant=variant)
        assert res.variant == variant and res.mode == "closed_form"
        assert_meta_gradient_accurate(res, [truth.meta_gradient(q, e, t) for e in etas])


def test_published_unsorted_eig_fails_where_sorted_does_not() -> None:
    q = exact_problem(20, seed=4)
    lam = np.real(np.linalg.eig(q.H)[0])
    assert lam[0] != lam.max() or lam[-1] != lam.min()  # the precondition of the caveat
    etas = eta_grid(q, [0.3, 1.0])
    t = 100_000
    truths = [truth.meta_gradient(q, e, t) for e in etas]
    pub = classify_all(meta_gradient(q, etas, t, dtype="float64", backend="paper"), truths)
    fixed = meta_gradient(q, etas, t, dtype="float64", backend="paper", variant="sorted")
    assert all(o.is_failure for o in pub), pub
    assert all(o is Outcome.ACCURATE for o in classify_all(fixed, truths))


def test_paper_refuses_what_it_does_not_implement() -> None:
    q = exact_problem(3, seed=0)
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(q, 0.1, 5, backend="paper", objective="naive")
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(q, 0.1, 5, backend="paper", dtype="float16")
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(q, 0.1, 5, backend="paper", variant="fixed")
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(q, 0.1, 5, backend="paper", eval_problem=exact_problem(3, seed=1))
    ls = LeastSquares(np.eye(3), np.ones(3))
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(ls, 0.1, 5, backend="paper")
