"""One sweep case: a pure function from a case spec to a result record.

:func:`run_case` builds the problem from its spec, runs the backend, computes the certified
meta-gradient and judges the result (:func:`verify.judge.judge_result`, the suite's one
judge, the same as :func:`verify.check_meta_gradient`). Every field of the
record except :data:`NONDETERMINISTIC_FIELDS` (wall time, worker) is a function of the spec
alone: the same spec gives the same record on any worker, in any run. Across machines this
holds as long as numpy builds the same problem from its seed (its random generator is
portable; the float64 products and QR factorization that form H come from BLAS/LAPACK): the
problem's fingerprint is part of the record, so a difference would show. Floats that are
results are stored as exact hex strings.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import L2LError
from .grid import build_problem, case_id

if TYPE_CHECKING:
    from ..certified.enclosure import Enclosure
    from ..problems import Quadratic

__all__ = [
    "FIELDS",
    "NONDETERMINISTIC_FIELDS",
    "STATUSES",
    "deterministic",
    "run_case",
    "timeout_record",
]

#: Record fields and their types (``str``, ``int``, ``float``); every field may be None
#: except ``id`` and ``status``.
FIELDS: dict[str, type] = {
    "id": str,
    "problem": str,  # canonical JSON of the problem spec
    "d": int,
    "fingerprint": str,  # SHA-256 of the problem's exact data (first 16 hex digits)
    "eta": str,  # hex float, exactly the step size used
    "t": int,
    "objective": str,
    "backend": str,
    "dtype": str,
    "exact_in": str,  # comma-separated formats every input is exact in
    "precision_bits": int,
    "L": str,  # certified L rounded to float64 (hex)
    "alpha": str,
    "eta_over_2_L": float,  # eta / (2/L), for plotting regime maps
    "status": str,
    "error": str,
    "grad": str,  # the backend's meta-gradient (hex, exact)
    "value": str,  # the backend's meta-objective (hex, exact)
    "truth": str,  # certified F'(eta) rounded once to dtype (hex)
    "truth_rel_radius": float,
    "outcome": str,
    "ulps": float,
    "bits": float,
    "rel_u": float,
    "tolerance": float,  # absolute error bound (inf beyond float64; None: the model gives none)
    "known_failure": str,
    "predicted": str,  # Corollary 1 for plain backprop of the log objective: safe/fails/boundary
    "verdict": str,  # the judge's status: passed, failed, not_judged, expected_failure, xpass
    "reason": str,  # the judge's one-line reason
    "elapsed_s": float,
    "worker": str,
}
#: Fields that depend on when and where the case ran, not on the spec.
NONDETERMINISTIC_FIELDS: tuple[str, ...] = ("elapsed_s", "worker")
#: ``ok``: classified; ``unsupported``: the backend does not support this combination
#: (e.g. ``stable`` at float16); ``error``: the truth could not be certified or the input is
#: outside the objective's domain (the message is in ``error``); ``timeout``: the case ran
#: longer than the sweep's per-case limit and was stopped (the limit is in ``error``; unlike
#: the others this status depends on the machine, see :func:`timeout_record`).
STATUSES: tuple[str, ...] = ("ok", "unsupported", "error", "timeout")


def deterministic(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a record that is a function of its case spec alone."""
    return {k: v for k, v in record.items() if k not in NONDETERMINISTIC_FIELDS}


def _spec_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A record with the fields that come from the spec alone filled in (the rest None)."""
    rec: dict[str, Any] = dict.fromkeys(FIELDS)
    rec.update(
        id=case_id(spec),
        problem=json.dumps(spec["problem"], sort_keys=True, separators=(",", ":")),
        eta=float.fromhex(spec["eta"]).hex(),
        t=int(spec["t"]),
        objective=str(spec["objective"]),
        backend=str(spec["backend"]),
        dtype=str(spec["dtype"]),
        exact_in=",".join(tuple(spec["exact_in"])),
        precision_bits=int(spec["precision_bits"]),
    )
    return rec


def timeout_record(
    spec: Mapping[str, Any], limit_s: float, elapsed_s: float, note: str = ""
) -> dict[str, Any]:
    """The record of a case stopped at its time limit: ``status="timeout"``.

    Only the spec's own fields are filled in (no problem is built: that may be what hung);
    ``error`` names the limit, ``elapsed_s`` is how long it ran. Whether a case times out
    depends on the machine and its load, so a timeout record is the one record that is not a
    function of the spec; resuming does not retry it (delete its line to retry).
    """
    rec = _spec_fields(spec)
    msg = f"stopped after {elapsed_s:.1f} s: the per-case time limit is {limit_s:g} s"
    rec.update(
        status="timeout",
        error=f"{msg}; {note}" if note else msg,
        elapsed_s=elapsed_s,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    return rec


def _truth(q: Quadratic, eta_hex: str, t: int, objective: str, bits: int) -> Enclosure:
    """The certified F'(eta) of a case, computed once per (eta, t, objective, precision) and
    kept on the problem (key ``sweep.case:truth``, see :mod:`verify.problems`): every backend
    and dtype of a point shares it, and :func:`verify.sweep.grid.build_problem` returns the
    same problem for the same spec."""
    from .. import truth

    store: dict[tuple[str, int, str, int], Enclosure] = q.cached("sweep.case:truth", dict)
    key = (eta_hex, t, objective, bits)
    if key not in store:
        eta = Fraction(float.fromhex(eta_hex))
        rel_tol = Fraction(1, 2**bits)
        store[key] = truth.meta_gradient(q, eta, t, objective=objective, rel_tol=rel_tol)
    return store[key]


def run_case(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate one case and return its record (see :data:`FIELDS`).

    Parameters
    ----------
    spec : dict
        A case spec from :func:`verify.sweep.grid.expand`.

    Returns
    -------
    dict
        ``status="ok"`` with the outcome class and error metrics; ``"unsupported"`` or
        ``"error"`` with the message when the backend or the certified truth refuses the case
        (a typed :class:`~verify.errors.L2LError`). Any other exception propagates: it is a
        bug, and the sweep reports it without writing a record (a rerun retries the case).

    Guarantee
    ---------
    ``truth`` is the certified enclosure of F'(eta) (relative radius <= 2^-precision_bits),
    correctly rounded once to ``dtype``; ``ulps`` and ``bits`` are exact distances in
    ``dtype`` (:func:`verify.compare.accuracy`).
    """
    from ..backprop import UnsupportedOptionError, meta_gradient, predict_failure
    from ..backprop.registry import backend_info
    from ..judge import judge_result

    started = time.perf_counter()
    rec = _spec_fields(spec)
    eta = float.fromhex(spec["eta"])
    t, objective = int(spec["t"]), str(spec["objective"])
    backend, dtype = str(spec["backend"]), str(spec["dtype"])
    q = build_problem(spec["problem"], tuple(spec["exact_in"]))
    rec.update(
        d=q.d,
        fingerprint=q.fingerprint[:16],
        L=q.L.hex(),
        alpha=q.alpha.hex(),
        eta_over_2_L=eta * q.L / 2,
    )
    try:
        res = meta_gradient(q, eta, t, objective=objective, dtype=dtype, backend=backend)
        enc = _truth(q, rec["eta"], t, objective, rec["precision_bits"])
    except UnsupportedOptionError as exc:
        rec.update(status="unsupported", error=str(exc))
    except L2LError as exc:
        rec.update(status="error", error=f"{type(exc).__name__}: {exc}")
    else:
        v = judge_result(res, [enc])[0]
        predicted = None
        if backend_info(backend).kind == "stepwise" and objective == "log":
            predicted = predict_failure(q, eta, t, dtype=dtype)[0].verdict
        rec.update(
            status="ok",
            grad=float(res.grad).hex(),
            value=float(res.value).hex(),
            truth=v.truth_rounded.hex(),
            truth_rel_radius=enc.rel_radius(),
            outcome=v.outcome.value,
            ulps=v.ulps,
            bits=v.bits,
            rel_u=v.rel_u,
            tolerance=v.tolerance,
            known_failure=v.known_failure,
            predicted=predicted,
            verdict=v.status,
            reason=v.reason,
        )
    rec["elapsed_s"] = time.perf_counter() - started
    rec["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return rec
