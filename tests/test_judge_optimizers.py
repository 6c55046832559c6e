"""The judge refuses results of other inner optimizers than plain GD.

Its certified truth and first-order error model are plain GD's; a heavy-ball or Adam result
judged with them would be compared against the wrong number. Until the judge takes
``optimizer=``, such a result raises a typed error naming ``result`` (the plugin then counts
the point as not judged, never passed: tests/plugin/test_plugin_optimizers.py).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from verify import Quadratic, truth
from verify.backprop import meta_gradient
from verify.compare import assert_meta_gradient_accurate, classify, classify_all
from verify.errors import ArgumentError
from verify.judge import judge_result

Q = Quadratic.from_spectrum([1.0, 4.0], seed=0)
ETA, T = 0.125, 20


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "heavy_ball", "beta": 0.5},
        {"optimizer": "heavy_ball", "beta": 0.0},
        {"optimizer": "adam"},
    ],
)
def test_non_gd_results_are_refused(settings: dict[str, object]) -> None:
    res = meta_gradient(Q, ETA, T, objective="log", dtype="float64", **settings)  # type: ignore[arg-type]
    gd_truth = truth.meta_gradient(Q, Fraction(ETA), T, objective="log")
    for judge in (
        lambda: judge_result(res, [gd_truth]),
        lambda: classify(res, gd_truth),
        lambda: classify_all(res, [gd_truth]),
        lambda: assert_meta_gradient_accurate(res, [gd_truth]),
    ):
        with pytest.raises(ArgumentError) as info:
            judge()
        assert info.value.argument == "result"
        assert "optimizer" in str(info.value)


def test_gd_results_are_still_judged() -> None:
    res = meta_gradient(Q, ETA, T, objective="log", dtype="float64")
    gd_truth = truth.meta_gradient(Q, Fraction(ETA), T, objective="log")
    (v,) = judge_result(res, [gd_truth])
    assert v.status == "passed", v
