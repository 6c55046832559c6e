"""Sweep grids: a TOML file -> canonical, hashable case specs.

A grid names problems and the values of (eta, t, objective, backend, dtype); its expansion is
the Cartesian product, one :data:`CaseSpec` per point. A case spec is plain JSON data (so it
travels to Dask workers and into result files unchanged), holds every input exactly (eta as a
hex float), and is identified by :func:`case_id`, a SHA-256 of its canonical JSON form: the
same case gets the same id in every run, which is what resuming relies on.

Grid file (see ``examples/grid.toml``)::

    [sweep]
    name = "example"
    precision_bits = 80          # certified truth: relative radius <= 2^-precision_bits

    [[problem]]
    kind = "wishart2"            # "wishart" | "wishart2" (Quadratic.random) | "spectrum"
    d = 6
    seed = 0

    [[problem]]
    kind = "spectrum"            # Quadratic.from_spectrum
    eigenvalues = [1.0, 10.0, 100.0]   # or: d = 5, condition = 100.0 (log-spaced in [1, kappa])
    seed = 1

    [grid]
    eta = ["0x1p-6", "1/128", 0.01]    # absolute: hex float, fraction or decimal
    eta_rel = [0.25, 0.5, 0.99, 1.01]  # multiples of 2/L (L certified, per problem)
    t = [10, 100, 1000]
    objective = ["log", "naive"]
    backend = ["numpy", "stable"]
    dtype = ["float32", "float64"]

Every input a backend sees is exactly representable in every dtype of the grid (STYLE habit
6): H, w0 and each eta are rounded once through those formats (narrowest first) and the
result is checked to be exact in all of them; the certified truth refers to the same values.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..backprop.registry import BACKENDS, backend_info, installed
from ..errors import (
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    ShapeMismatchError,
    UnknownOptionError,
)
from ..floats import FORMATS, exact_in_all, get_format, round_fraction, round_through
from ..problems import Quadratic
from ..validation import OBJECTIVES

__all__ = [
    "OBJECTIVES",
    "PROBLEM_KINDS",
    "SWEEP_FORMAT_VERSION",
    "CaseSpec",
    "Grid",
    "build_problem",
    "case_id",
    "expand",
    "load_grid",
    "parse_grid",
    "parse_problem",
]

#: Version of the case-spec layout; part of every case id.
SWEEP_FORMAT_VERSION = 1
PROBLEM_KINDS: tuple[str, ...] = ("wishart", "wishart2", "spectrum")
#: Certified truth precision when the grid does not name one (relative radius 2^-80).
DEFAULT_PRECISION_BITS = 80

#: One case: JSON data with keys v, problem, eta (hex), t, objective, backend, dtype,
#: exact_in (list of formats), precision_bits.
CaseSpec = dict[str, Any]


@dataclass(frozen=True)
class Grid:
    """A parsed, validated sweep grid (see the module docstring for the file format)."""

    name: str
    problems: tuple[dict[str, Any], ...]
    etas: tuple[Fraction, ...]
    eta_rel: tuple[Fraction, ...]
    horizons: tuple[int, ...]
    objectives: tuple[str, ...]
    backends: tuple[str, ...]
    dtypes: tuple[str, ...]
    precision_bits: int

    @property
    def exact_in(self) -> tuple[str, ...]:
        """The formats every input is exact in: the grid's dtypes, narrowest first."""
        return tuple(sorted(self.dtypes, key=lambda n: (get_format(n).precision, n)))


# --------------------------------------------------------------------------- parsing
def load_grid(path: str | Path) -> Grid:
    """Read and validate a grid TOML file.

    Raises
    ------
    ArgumentError
        (a typed subclass) naming the offending key, e.g. ``grid.t[2]`` or ``problem[0].d``.
    FileNotFoundError
        When the file does not exist.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 needs the tomli backport
        import tomli as tomllib
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UnknownOptionError("grid_file", str(p), f"is not valid TOML ({exc})") from exc
    return parse_grid(data, default_name=p.stem)


def parse_grid(data: Mapping[str, Any], *, default_name: str = "sweep") -> Grid:
    """Validate a grid given as the parsed TOML mapping (see :func:`load_grid`)."""
    for key in data:
        if key not in ("sweep", "problem", "grid"):
            raise UnknownOptionError(
                key, data[key], "unknown table: use [sweep], [[problem]], [grid]"
            )
    meta = _table(data, "sweep", required=False)
    for key in meta:
        if key not in ("name", "precision_bits"):
            raise UnknownOptionError(f"sweep.{key}", meta[key], "unknown key")
    name = meta.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise UnknownOptionError("sweep.name", name, "must be a non-empty string")
    bits = meta.get("precision_bits", DEFAULT_PRECISION_BITS)
    if isinstance(bits, bool) or not isinstance(bits, int) or not 24 <= bits <= 4096:
        raise InvalidPrecisionError(
            "sweep.precision_bits", bits, "must be an integer in [24, 4096]"
        )

    grid = _table(data, "grid", required=True)
    allowed = ("eta", "eta_rel", "t", "objective", "backend", "dtype")
    for key in grid:
        if key not in allowed:
            raise UnknownOptionError(f"grid.{key}", grid[key], f"unknown key: use {allowed}")
    dtypes = _choices(grid, "dtype", tuple(FORMATS), default=("float32", "float64"))
    backends = _choices(grid, "backend", BACKENDS, default=("numpy",))
    objectives = _choices(grid, "objective", OBJECTIVES, default=("log",))
    horizons = tuple(
        _horizon(v, f"grid.t[{i}]") for i, v in enumerate(_list(grid, "t", required=True))
    )
    etas = tuple(_eta(v, f"grid.eta[{i}]") for i, v in enumerate(_list(grid, "eta")))
    rel = tuple(_eta(v, f"grid.eta_rel[{i}]") for i, v in enumerate(_list(grid, "eta_rel")))
    if not etas and not rel:
        raise InvalidStepSizeError("grid.eta", [], "give grid.eta and/or grid.eta_rel")
    raw_problems = data.get("problem")
    if not isinstance(raw_problems, list) or not raw_problems:
        raise ShapeMismatchError("problem", raw_problems, "give at least one [[problem]] table")
    problems = tuple(parse_problem(p, f"problem[{i}]") for i, p in enumerate(raw_problems))
    return Grid(name, problems, etas, rel, horizons, objectives, backends, dtypes, bits)


def _table(data: Mapping[str, Any], key: str, *, required: bool) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise UnknownOptionError(key, value, f"[{key}] must be a table")
    return value


def _list(table: Mapping[str, Any], key: str, *, required: bool = False) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list) or (required and not value):
        raise ShapeMismatchError(f"grid.{key}", value, "must be a non-empty list")
    return value


def _choices(
    table: Mapping[str, Any], key: str, allowed: Sequence[str], *, default: tuple[str, ...]
) -> tuple[str, ...]:
    values = table.get(key, list(default))
    if not isinstance(values, list) or not values:
        raise ShapeMismatchError(f"grid.{key}", values, "must be a non-empty list")
    out: list[str] = []
    for i, v in enumerate(values):
        if v not in allowed:
            raise UnknownOptionError(f"grid.{key}[{i}]", v, f"must be one of {tuple(allowed)}")
        if v not in out:
            out.append(v)
    return tuple(out)


def _horizon(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidHorizonError(name, value, "must be an integer >= 1")
    return value


def _eta(value: Any, name: str) -> Fraction:
    """An exact nonnegative rational from a TOML number, hex float, fraction or decimal string."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise ValueError
            q = Fraction(value)
        elif isinstance(value, str) and value.strip().lower().lstrip("+").startswith("0x"):
            q = Fraction(float.fromhex(value))
        elif isinstance(value, str):
            q = Fraction(value.strip())
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise InvalidStepSizeError(
            name, value, "must be a finite number, a hex float ('0x1p-6'), or a fraction ('1/64')"
        ) from exc
    if q < 0:
        raise InvalidStepSizeError(name, value, "must be >= 0")
    return q


def parse_problem(raw: Any, name: str) -> dict[str, Any]:
    """Canonical problem spec: kind, seed and either d or the eigenvalues (hex floats).

    Raises
    ------
    UnknownOptionError, ShapeMismatchError, InvalidPrecisionError
        Naming ``name`` (or ``name.<key>``) when the table is not a valid problem.
    """
    if not isinstance(raw, Mapping):
        raise UnknownOptionError(name, raw, "must be a table")
    kind = raw.get("kind", "wishart2")
    if kind not in PROBLEM_KINDS:
        raise UnknownOptionError(f"{name}.kind", kind, f"must be one of {PROBLEM_KINDS}")
    allowed = {"kind", "seed", "d"} | (
        {"eigenvalues", "condition"} if kind == "spectrum" else set()
    )
    for key in raw:
        if key not in allowed:
            raise UnknownOptionError(f"{name}.{key}", raw[key], f"unknown key for kind={kind!r}")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ShapeMismatchError(f"{name}.seed", seed, "must be an integer >= 0")
    spec: dict[str, Any] = {"kind": kind, "seed": seed}
    if kind != "spectrum" or "eigenvalues" not in raw:
        d = raw.get("d")
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ShapeMismatchError(f"{name}.d", d, "must be an integer >= 1")
        spec["d"] = d
    if kind == "spectrum":
        if "eigenvalues" in raw:
            lam = raw["eigenvalues"]
            if "condition" in raw or "d" in raw:
                raise ShapeMismatchError(
                    f"{name}.eigenvalues", lam, "give eigenvalues, or d and condition, not both"
                )
            ok = (
                isinstance(lam, list)
                and lam
                and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < math.inf
                    for x in lam
                )
            )
            if not ok:
                raise ShapeMismatchError(
                    f"{name}.eigenvalues", lam, "must be a non-empty list of finite numbers > 0"
                )
            spec["eigenvalues"] = [float(x).hex() for x in lam]
        else:
            kappa = raw.get("condition")
            if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not kappa >= 1:
                raise InvalidPrecisionError(
                    f"{name}.condition", kappa, "must be a number >= 1 (or give eigenvalues)"
                )
            lam_arr = np.logspace(0.0, math.log10(kappa), spec["d"])
            spec["eigenvalues"] = [float(x).hex() for x in lam_arr]
            del spec["d"]
    return spec


# --------------------------------------------------------------------------- problems, ids
def _round_exact(values: np.ndarray, exact_in: Sequence[str], name: str) -> np.ndarray:
    """Round float64 values through ``exact_in`` (narrowest first) until exact in all of them."""
    out = round_through(values, exact_in)
    if exact_in_all(out, exact_in) and np.all(np.isfinite(out)):
        return out
    raise InvalidPrecisionError(
        name, f"<values of {name}>", f"cannot be made exactly representable in all of {exact_in}"
    )


@lru_cache(maxsize=64)
def _build_problem_cached(problem_json: str, exact_in: tuple[str, ...]) -> Quadratic:
    spec = json.loads(problem_json)
    if spec["kind"] == "spectrum":
        lam = [float.fromhex(x) for x in spec["eigenvalues"]]
        base = Quadratic.from_spectrum(lam, seed=spec["seed"])
    else:
        base = Quadratic.random(spec["d"], seed=spec["seed"], kind=spec["kind"])
    H = _round_exact(base.H, exact_in, "H")
    w0 = _round_exact(base.w0, exact_in, "w0")
    return Quadratic(H, w0)


def build_problem(problem: Mapping[str, Any], exact_in: Sequence[str]) -> Quadratic:
    """The quadratic of a canonical problem spec, with H and w0 exact in every ``exact_in`` format.

    Deterministic in the spec (memoized per process; :class:`Quadratic` is immutable).

    Raises
    ------
    NotPositiveDefiniteError
        When rounding H to the narrowest format makes it indefinite (condition too large
        for that format).
    """
    return _build_problem_cached(_canonical(dict(problem)), tuple(exact_in))


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def case_id(spec: Mapping[str, Any]) -> str:
    """Stable id of a case: the first 20 hex digits of SHA-256 of its canonical JSON.

    >>> case_id({"v": 1, "eta": "0x1.0000000000000p-6", "t": 10}) == case_id(
    ...     {"t": 10, "eta": "0x1.0000000000000p-6", "v": 1})
    True
    """
    return hashlib.sha256(_canonical(dict(spec)).encode()).hexdigest()[:20]


def _resolve_eta(q: Fraction, exact_in: Sequence[str], name: str) -> float:
    """``q`` rounded correctly, directly, to the narrowest format (then checked in the others)."""
    x = q
    for _ in range(4):
        for dt in exact_in:
            r = round_fraction(x, dt)
            if not math.isfinite(r):
                raise InvalidStepSizeError(name, float(q), f"overflows {dt}")
            x = Fraction(r)
        if all(Fraction(round_fraction(x, dt)) == x for dt in exact_in):
            return float(x)
    raise InvalidStepSizeError(name, float(q), f"cannot be made exact in all of {exact_in}")


def expand(grid: Grid) -> list[CaseSpec]:
    """Every case of the grid, in a deterministic order, without duplicates.

    Relative step sizes m * 2/L use each problem's certified L (rounded to float64), then are
    rounded once through the grid's formats, like the absolute ones.

    Raises
    ------
    BackendUnavailableError
        When a grid backend (torch, jax) cannot be imported here.
    """
    _check_backends(grid.backends)
    exact_in = list(grid.exact_in)
    seen: set[str] = set()
    cases: list[CaseSpec] = []
    for pi, prob in enumerate(grid.problems):
        q = build_problem(prob, exact_in)
        L = Fraction(q.L)
        etas = [_resolve_eta(e, exact_in, f"grid.eta[{i}]") for i, e in enumerate(grid.etas)]
        etas += [
            _resolve_eta(m * 2 / L, exact_in, f"grid.eta_rel[{i}] (problem[{pi}])")
            for i, m in enumerate(grid.eta_rel)
        ]
        for eta in etas:
            for t in grid.horizons:
                for objective in grid.objectives:
                    for backend in grid.backends:
                        for dtype in grid.dtypes:
                            spec: CaseSpec = {
                                "v": SWEEP_FORMAT_VERSION,
                                "problem": prob,
                                "eta": eta.hex(),
                                "t": t,
                                "objective": objective,
                                "backend": backend,
                                "dtype": dtype,
                                "exact_in": exact_in,
                                "precision_bits": grid.precision_bits,
                            }
                            cid = case_id(spec)
                            if cid not in seen:
                                seen.add(cid)
                                cases.append(spec)
    return cases


def _check_backends(backends: Sequence[str]) -> None:
    """Refuse a grid whose backends' modules are not installed (the registry's ``requires``),
    naming the extra that installs them."""
    from ..backprop import BackendUnavailableError

    for be in backends:
        if not installed(be):
            raise BackendUnavailableError(be, f"pip install 'l2l-verify[{backend_info(be).extra}]'")
