"""The report's meta-learning-library section: the flush-to-zero close-up and the NaN-masking
audit (shown at the end of section 2)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ... import truth
from ...floats import json_float, json_ready
from ...problems import Quadratic
from ..settings import Progress

__all__ = ["clients_section"]


def clients_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """What the meta-learning libraries' failures look like up close (issue: clients).

    * **Flush-to-zero**: the adjoint magnitude max_j |bar w_k[j]| per step k of one reverse
      pass at :func:`verify.audits.flush.ftz_point` (cond-100 problem, eta = float32(1/L),
      t = 5000, naive objective, float32), for NumPy (IEEE gradual underflow), JAX (XLA's CPU
      runtime flushes subnormals to zero), PyTorch, and PyTorch with
      ``torch.set_flush_denormal(True)``; each engine's meta-gradient beside the certified
      one, judged by :func:`verify.judge.check_meta_gradient`.
    * **NaN masking**: meta-gradient descent on eta fed float32 backprop meta-gradients whose
      NaNs are replaced by 0 / ``nan_to_num`` / clipped (:func:`verify.audits.masking.audit`),
      against the certified eta*(t) and a certified-gradient reference run.

    ``problem`` is not used: both experiments have their own problems (named in the data).

    Guarantee
    ---------
    The reference meta-gradient and eta* are certified enclosures; the traces and masked
    runs are measurements of the systems under test.
    """
    from ...audits.flush import ENGINES, adjoint_trace, ftz_point
    from ...audits.masking import audit, default_cases, summary
    from ...backprop.registry import installed
    from ...judge import check_meta_gradient

    del problem
    q, eta, t = ftz_point()
    stride = int(params["stride"])
    mq, all_cases = default_cases()
    cases = [dataclasses.replace(all_cases[i], steps=params["steps"]) for i in params["cases"]]
    total = len(ENGINES) + len(cases) * 3 * len(params["schedules"])
    done = 0
    exact = truth.meta_gradient(q, eta, t, objective="naive")
    traces: dict[str, Any] = {}
    for engine in ENGINES:
        backend = "torch" if engine.startswith("torch") else engine  # the engine's framework
        if not installed(backend):
            traces[engine] = {"status": "unavailable", "reason": f"{backend} is not installed"}
        else:
            tr = adjoint_trace(q, eta, t, dtype="float32", objective="naive", engine=engine)
            verdict = check_meta_gradient(
                q, eta, t, tr.grad, dtype="float32", objective="naive", known_failures=False
            )
            mags = tr.adjoint_max[::-1]  # step k = t (start of the reverse pass) first
            traces[engine] = {
                "status": "ok",
                "grad": tr.grad.hex(),
                "outcome": verdict.outcome.value,
                "floor": json_float(tr.floor),
                "magnitude": [json_float(float(m)) for m in mags[::stride]],
            }
        done += 1
        progress(done, total)

    def tick(_: Any) -> None:
        nonlocal done
        done += 1
        progress(done, total)

    runs = audit(mq, cases, schedules=tuple(params["schedules"]), progress=tick)
    keep = max(1, params["steps"] // 200)
    masking = []
    for r in runs:
        rec = r.as_dict()
        rec["etas"] = list(r.etas[::keep])
        masking.append(json_ready(rec))
    return {
        "ftz": {
            "problem": "Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)",
            "eta": eta.hex(),
            "t": t,
            "objective": "naive",
            "dtype": "float32",
            "truth": exact.to_float("float32").hex(),
            "stride": stride,
            "traces": traces,
        },
        "masking": {
            "problem": "Quadratic.random(20, seed=1)",
            "steps": params["steps"],
            "stored_every": keep,
            "runs": masking,
            "summary": summary(runs),
        },
    }
