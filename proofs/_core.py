"""Result records, symbolic helpers, an exact-rational evaluator and the shared input grid.

This module defines no ``derive``/``claim``/``check`` triple, so proof discovery skips it.

Two kinds of evidence are produced, and every :class:`ProofStep` says which one it is:

``symbolic``
    SymPy reduces ``lhs - rhs`` to exactly ``0`` (or decides a sign from the symbols'
    assumptions).  This is a proof, modulo SymPy's correctness.
``exact Rational evaluation``
    The expressions are compiled by :func:`compile_exact` into Python code over
    :class:`fractions.Fraction` and compared *exactly* (no rounding anywhere) on the dense
    deterministic grid of :func:`spectral_points` / :func:`mode_points`.  This is evidence,
    not a proof, and the record says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import sympy as sp

from proofs import _symbols as S

__all__ = [
    "METHOD_EXACT",
    "METHOD_LEMMA",
    "METHOD_SYMBOLIC",
    "T_GRID",
    "Env",
    "ExactFunction",
    "Instance",
    "ProofResult",
    "ProofStep",
    "Undefined",
    "canonical_signs",
    "compile_exact",
    "grid_relation_step",
    "instances",
    "is_symbolically_zero",
    "make_result",
    "mode_points",
    "spectral_env",
    "spectral_points",
    "split_sum",
    "symbolic_identity_step",
    "symbolic_step",
    "top_mode_points",
]

METHOD_SYMBOLIC = "symbolic (SymPy)"
METHOD_EXACT = "exact Rational evaluation on a dense grid"
METHOD_LEMMA = "standard lemma (stated, not re-derived)"

#: Environment for :func:`compile_exact`: symbols/IndexedBases mapped to exact values.
Env = Mapping[object, object]
#: A compiled expression: exact value at an environment.
ExactFunction = Callable[[Env], Fraction]
Relation = Literal["==", "<=", ">=", "<", ">"]

#: Unroll lengths used by every exact grid (small enough for exact powers, odd and even).
T_GRID: tuple[int, ...] = (1, 2, 3, 5, 8, 13)


@dataclass(frozen=True)
class ProofStep:
    """One checked step of a derivation.

    Attributes
    ----------
    name : str
        What the step establishes.
    method : str
        How it was checked (one of the ``METHOD_*`` constants).
    passed : bool
        Whether the check succeeded.
    detail : str
        Counts, counterexamples or the residual expression.
    """

    name: str
    method: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class ProofResult:
    """Outcome of one derivation module's ``check()``.

    Attributes
    ----------
    name : str
        Module name, e.g. ``"naive_meta_gradient"``.
    title : str
        One-line description of the claim.
    claim_latex : tuple of str
        The claimed statements in LaTeX, rendered from ``claim()``.
    assumptions : tuple of str
        The assumptions under which the claim is made.
    method : str
        The distinct methods used by the steps, joined by ``" + "``.
    passed : bool
        True iff every step passed.
    details : str
        One line per step: status, name, method and detail.
    steps : tuple of ProofStep
        The individual steps.
    """

    name: str
    title: str
    claim_latex: tuple[str, ...]
    assumptions: tuple[str, ...]
    method: str
    passed: bool
    details: str
    steps: tuple[ProofStep, ...] = field(default=())


class Undefined(ArithmeticError):
    """The expression is undefined at this point (division by zero, fractional power)."""


# --------------------------------------------------------------------------------------------
# symbolic helpers


def canonical_signs(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``(-u)**e`` with integer-valued symbolic ``e`` as ``(-1)**e * u**e``.

    SymPy does not identify ``(eta*lam - 1)**(2*t - 1)`` with ``-(1 - eta*lam)**(2*t - 1)`` by
    itself; with the exponent known to be an integer the rewrite is exact, and ``(-1)**(2*t-1)``
    then evaluates to ``-1``.

    Parameters
    ----------
    expr : sympy.Expr
        Any expression.

    Returns
    -------
    sympy.Expr
        An equal expression with canonical signs of power bases.

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> canonical_signs((x - 1) ** (2 * S.t - 1) + (1 - x) ** (2 * S.t - 1))
    0
    """

    def is_signed_power(p: sp.Basic) -> bool:
        return bool(
            p.is_Pow
            and p.exp.is_integer
            and not p.exp.is_Number
            and p.base.could_extract_minus_sign()
        )

    def flip(p: sp.Pow) -> sp.Expr:
        return (-1) ** p.exp * (-p.base) ** p.exp

    return expr.replace(is_signed_power, flip)


def _drop_zero_sums(expr: sp.Expr) -> sp.Expr:
    return expr.replace(
        lambda s: isinstance(s, sp.Sum) and s.function == 0, lambda s: sp.S.Zero
    )


def is_symbolically_zero(expr: sp.Expr, *, rounds: int = 3) -> bool:
    """Decide whether SymPy can reduce ``expr`` to exactly zero.

    Alternates :func:`sympy.simplify` with :func:`canonical_signs`; ``False`` means "not proven",
    not "nonzero".

    Parameters
    ----------
    expr : sympy.Expr
        Expression to reduce.
    rounds : int, optional
        Number of simplify/canonicalize rounds.

    Returns
    -------
    bool
        True if the expression was reduced to ``0``.

    Examples
    --------
    >>> is_symbolically_zero(sp.diff(S.z ** (2 * S.t), S.z) - 2 * S.t * S.z ** (2 * S.t - 1))
    True
    """
    e = _drop_zero_sums(canonical_signs(sp.sympify(expr)))
    for _ in range(rounds):
        if e == 0:
            return True
        e = _drop_zero_sums(canonical_signs(sp.simplify(e)))
    return bool(e == 0)


def split_sum(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Split ``prefactor * Sum(summand, (i, 0, d - 1))`` into a generic scalar mode.

    The indexed mode ``i`` is replaced by the scalar symbols of :mod:`proofs._symbols`
    (``lam[i] -> lambda``, ``c[i] -> c``, ``1 - eta*lam[i] -> z``), so SymPy's assumption system
    can reason about one generic summand.

    Parameters
    ----------
    expr : sympy.Expr
        A product of an ``i``-free prefactor and exactly one ``Sum``.

    Returns
    -------
    (prefactor, summand) : tuple of sympy.Expr

    Examples
    --------
    >>> split_sum(-S.t * S.mode_sum(S.c[S.i] ** 2 * S.z_i ** 3))
    (-t, c**2*z**3)
    """
    (the_sum,) = expr.atoms(sp.Sum)
    prefactor = sp.simplify(expr / the_sum)
    if prefactor.has(sp.Sum):
        raise ValueError("expression is not prefactor * Sum")
    summand = the_sum.function.subs(S.eta, (1 - S.z) / S.lam[S.i])
    summand = summand.subs({S.lam[S.i]: S.lam_i, S.c[S.i]: S.c_i})
    return prefactor, sp.simplify(summand)


def symbolic_identity_step(name: str, lhs: sp.Expr, rhs: sp.Expr) -> ProofStep:
    """Check ``lhs == rhs`` symbolically.

    Parameters
    ----------
    name : str
        Step description.
    lhs, rhs : sympy.Expr
        The two sides.

    Returns
    -------
    ProofStep
        Passed iff :func:`is_symbolically_zero` reduces ``lhs - rhs`` to zero.
    """
    ok = is_symbolically_zero(lhs - rhs)
    detail = "lhs - rhs simplifies to 0" if ok else "lhs - rhs did not simplify to 0"
    return ProofStep(name, METHOD_SYMBOLIC, ok, detail)


def symbolic_step(name: str, verdict: bool | None, detail: str = "") -> ProofStep:
    """Record a symbolic decision (e.g. ``expr.is_nonnegative``); ``None`` counts as failure.

    Parameters
    ----------
    name : str
        Step description.
    verdict : bool or None
        SymPy's three-valued answer.
    detail : str, optional
        What was asked.

    Returns
    -------
    ProofStep
        Passed iff ``verdict is True``.
    """
    return ProofStep(name, METHOD_SYMBOLIC, verdict is True, f"{detail} -> {verdict}")


# --------------------------------------------------------------------------------------------
# exact evaluation


def _const(value: Fraction) -> ExactFunction:
    return lambda env: value


def _pow(base: Fraction, expo: Fraction) -> Fraction:
    if expo.denominator != 1:
        raise Undefined("fractional exponent")
    n = int(expo)
    if base == 0 and n < 0:
        raise Undefined("0 to a negative power")
    return base**n


_RELATIONS: dict[type, Callable[[Fraction, Fraction], bool]] = {
    sp.LessThan: lambda a, b: a <= b,
    sp.StrictLessThan: lambda a, b: a < b,
    sp.GreaterThan: lambda a, b: a >= b,
    sp.StrictGreaterThan: lambda a, b: a > b,
    sp.Equality: lambda a, b: a == b,
}


def compile_exact(expr: sp.Basic) -> ExactFunction:
    """Compile a SymPy expression into an exact evaluator over :class:`fractions.Fraction`.

    Supported nodes: numbers (rationals only), symbols, ``Indexed`` (0-based lists in the
    environment), ``Add``, ``Mul``, ``Pow`` with integer-valued exponents, ``Abs``, ``Max``,
    ``Min``, ``sign``, ``Sum`` (bounds evaluated, inclusive), ``Piecewise`` and relationals.
    Anything else
    (``log``, floats, radicals) raises :class:`NotImplementedError`, so an evaluation is always
    exact.

    Parameters
    ----------
    expr : sympy.Basic
        Expression to compile.

    Returns
    -------
    callable
        ``f(env) -> Fraction``; raises :class:`Undefined` where the expression is undefined.

    Examples
    --------
    >>> f = compile_exact(S.mode_sum(S.c[S.i] ** 2 * S.z_i ** (2 * S.t)))
    >>> f({S.c: [Fraction(3, 5), Fraction(4, 5)], S.lam: [Fraction(2), Fraction(1)],
    ...    S.d: 2, S.eta: Fraction(1, 4), S.t: 1})
    Fraction(9, 20)
    """
    if isinstance(expr, sp.Rational):
        return _const(Fraction(int(expr.p), int(expr.q)))
    if expr is sp.true:
        return lambda env: Fraction(1)
    if expr is sp.false:
        return lambda env: Fraction(0)
    if isinstance(expr, (sp.Symbol, sp.IndexedBase)):
        key = expr

        def lookup(env: Env) -> Fraction:
            value = env[key]
            assert isinstance(value, (int, Fraction))
            return Fraction(value)

        return lookup
    if isinstance(expr, sp.Indexed):
        base = expr.base
        index = compile_exact(expr.indices[0])

        def indexed(env: Env) -> Fraction:
            seq = env[base]
            assert isinstance(seq, Sequence)
            return Fraction(seq[int(index(env))])

        return indexed
    if isinstance(expr, sp.Add):
        terms = [compile_exact(a) for a in expr.args]
        return lambda env: sum((f(env) for f in terms), Fraction(0))
    if isinstance(expr, sp.Mul):
        factors = [compile_exact(a) for a in expr.args]

        def product(env: Env) -> Fraction:
            out = Fraction(1)
            for f in factors:
                out *= f(env)
            return out

        return product
    if isinstance(expr, sp.Pow):
        fb, fe = compile_exact(expr.base), compile_exact(expr.exp)
        return lambda env: _pow(fb(env), fe(env))
    if isinstance(expr, sp.Abs):
        fa = compile_exact(expr.args[0])
        return lambda env: abs(fa(env))
    if isinstance(expr, sp.sign):
        fs = compile_exact(expr.args[0])
        return lambda env: Fraction((fs(env) > 0) - (fs(env) < 0))
    if isinstance(expr, (sp.Max, sp.Min)):
        parts = [compile_exact(a) for a in expr.args]
        pick = max if isinstance(expr, sp.Max) else min
        return lambda env: pick(f(env) for f in parts)
    if isinstance(expr, sp.Sum):
        body = compile_exact(expr.function)
        var, lo, hi = expr.limits[0]
        flo, fhi = compile_exact(lo), compile_exact(hi)
        if len(expr.limits) != 1:
            raise NotImplementedError("only single sums are supported")

        def summation(env: Env) -> Fraction:
            inner = dict(env)
            total = Fraction(0)
            for j in range(int(flo(env)), int(fhi(env)) + 1):
                inner[var] = Fraction(j)
                total += body(inner)
            return total

        return summation
    if isinstance(expr, sp.Piecewise):
        pieces = [(compile_exact(e), compile_exact(cnd)) for e, cnd in expr.args]

        def piecewise(env: Env) -> Fraction:
            for fe_, fc in pieces:
                if fc(env):
                    return fe_(env)
            raise Undefined("no Piecewise branch applies")

        return piecewise
    if type(expr) in _RELATIONS:
        rel = _RELATIONS[type(expr)]
        fl, fr = compile_exact(expr.lhs), compile_exact(expr.rhs)
        return lambda env: Fraction(int(rel(fl(env), fr(env))))
    if isinstance(expr, sp.And):
        conds = [compile_exact(a) for a in expr.args]
        return lambda env: Fraction(int(all(f(env) for f in conds)))
    raise NotImplementedError(f"exact evaluation of {type(expr).__name__} is not supported")


# --------------------------------------------------------------------------------------------
# the grid


@dataclass(frozen=True)
class Instance:
    """An exact quadratic instance in its eigenbasis.

    Attributes
    ----------
    eigs : tuple of Fraction
        Eigenvalues, sorted in decreasing order, all positive, ``eigs[0] > eigs[-1]``.
    cs : tuple of Fraction
        Eigen-coordinates of ``w_0``, with ``sum(c**2) == 1`` exactly and
        ``c_min = min(|c[0]|, |c[-1]|) > 0``.
    """

    eigs: tuple[Fraction, ...]
    cs: tuple[Fraction, ...]

    def __post_init__(self) -> None:
        if list(self.eigs) != sorted(self.eigs, reverse=True) or self.eigs[-1] <= 0:
            raise ValueError("eigenvalues must be positive and sorted decreasingly")
        if not self.eigs[0] > self.eigs[-1]:
            raise ValueError("need L > alpha")
        if sum(x * x for x in self.cs) != 1 or len(self.cs) != len(self.eigs):
            raise ValueError("need sum(c**2) == 1 and one coordinate per eigenvalue")
        if self.cs[0] == 0 or self.cs[-1] == 0:
            raise ValueError("need c_min > 0")

    def etas(self) -> tuple[Fraction, ...]:
        """Step sizes: a uniform grid on ``[0, 3/L]``, the special points and a few large ones."""
        big, small = self.eigs[0], self.eigs[-1]
        pts = {Fraction(j, 8) / big for j in range(25)}
        pts |= {1 / e for e in self.eigs}
        pts |= {2 / big, 2 / (big + small), 2 / big + 1 / (64 * big), 2 / big - 1 / (64 * big)}
        pts |= {4 / big, 6 / big, 1 / (2 * small), 3 / (2 * small)}
        return tuple(sorted(pts))


def _q(*xs: int | str) -> tuple[Fraction, ...]:
    return tuple(Fraction(x) for x in xs)


def instances() -> tuple[Instance, ...]:
    """The deterministic exact instances shared by all grid checks.

    Returns
    -------
    tuple of Instance
        Dimensions 2 to 4, condition numbers from 4 to 6200, repeated eigenvalues, signs of
        ``c`` mixed, small and large ``c_1``.
    """
    return (
        Instance(_q(2, "1/2"), _q("3/5", "4/5")),
        Instance(_q(4, 1), _q("12/13", "-5/13")),
        Instance(_q(4, 1), _q("5/13", "12/13")),
        Instance(_q(5, 2, 1), _q("1/3", "2/3", "2/3")),
        Instance(_q(10, 3, "1/10"), _q("1/3", "-2/3", "2/3")),
        Instance(_q(62, 7, "1/100"), _q("2/7", "3/7", "-6/7")),
        Instance(_q(3, 3, 1), _q("-2/3", "2/3", "1/3")),
        Instance(_q(8, 4, 2, 1), _q("1/2", "-1/2", "1/2", "1/2")),
    )


def spectral_env(inst: Instance, eta: Fraction, t: int) -> dict[object, object]:
    """Bind every spectral symbol of :mod:`proofs._symbols` for one grid point.

    Parameters
    ----------
    inst : Instance
        The instance.
    eta : Fraction
        Step size.
    t : int
        Unroll length.

    Returns
    -------
    dict
        Environment for :func:`compile_exact`.
    """
    return {
        S.lam: list(inst.eigs),
        S.c: list(inst.cs),
        S.w0: list(inst.cs),
        # a fixed mixed-sign linear term and constant for the affine (least-squares) case
        S.b: [Fraction((-1) ** j * (j + 1), 3) for j in range(len(inst.eigs))],
        S.const: Fraction(1, 7),
        S.d: len(inst.eigs),
        S.eta: eta,
        S.t: t,
        S.L: inst.eigs[0],
        S.alpha: inst.eigs[-1],
        S.c_1: inst.cs[0],
        S.c_d: inst.cs[-1],
        S.c_min: min(abs(inst.cs[0]), abs(inst.cs[-1])),
    }


def spectral_points(
    where: Callable[[Instance, Fraction], bool] | None = None,
    ts: Iterable[int] = T_GRID,
) -> list[dict[object, object]]:
    """All grid points ``(instance, eta, t)`` satisfying ``where(instance, eta)``.

    Parameters
    ----------
    where : callable, optional
        Domain restriction (e.g. ``eta > 2/L``); default: every point.
    ts : iterable of int, optional
        Unroll lengths.

    Returns
    -------
    list of dict
        Environments for :func:`compile_exact`.
    """
    ts = tuple(ts)
    return [
        spectral_env(inst, eta, t)
        for inst in instances()
        for eta in inst.etas()
        if where is None or where(inst, eta)
        for t in ts
    ]


def top_mode_points(
    where: Callable[[Instance, Fraction], bool] | None = None,
    ts: Iterable[int] = T_GRID,
) -> list[dict[object, object]]:
    """Grid points with ``w_0 = u_1``: every instance's spectrum, ``c = (1, 0, ..., 0)``.

    Outside :class:`Instance`'s assumptions (``c_min = 0`` here), for the bounds that need no
    ``c_min``: the limit case where they are attained (tightness checks).

    Parameters
    ----------
    where : callable, optional
        Domain restriction on ``(instance, eta)``; default: every point.
    ts : iterable of int, optional
        Unroll lengths.

    Returns
    -------
    list of dict
        Environments for :func:`compile_exact`.

    Examples
    --------
    >>> env = top_mode_points()[0]
    >>> env[S.c], env[S.c_min]
    ([Fraction(1, 1), Fraction(0, 1)], Fraction(0, 1))
    """
    out = []
    for env in spectral_points(where, ts):
        cs = [Fraction(1)] + [Fraction(0)] * (int(env[S.d]) - 1)  # type: ignore[call-overload]
        out.append({**env, S.c: cs, S.w0: cs, S.c_1: cs[0], S.c_d: cs[-1], S.c_min: Fraction(0)})
    return out


def mode_points() -> list[dict[object, object]]:
    """Grid for one generic eigen-coordinate: ``lambda, w_0, b, c, eta, t`` and ``k``.

    Returns
    -------
    list of dict
        Environments for :func:`compile_exact`.
    """
    lams = _q("1/100", "1/2", 1, 3, 62)
    vals = _q(0, 1, "-3/7")
    etas = _q(0, "1/64", "1/5", "1/2", 1, 2, 3)
    pts: list[dict[object, object]] = []
    for lam_, w0_, b_, eta_, t_ in itertools.product(lams, vals, vals, etas, T_GRID):
        pts.append(
            {
                S.lam_i: lam_,
                S.w0_i: w0_,
                S.b_i: b_,
                S.c_i: w0_,
                S.eta: eta_,
                S.t: t_,
                S.k: t_,
                S.z: 1 - eta_ * lam_,
            }
        )
    return pts


def _fmt_point(env: Mapping[object, object]) -> str:
    keys = (S.lam, S.c, S.lam_i, S.w0_i, S.b_i, S.eta, S.t)
    parts = []
    for key in keys:
        if key in env:
            val = env[key]
            shown = [str(v) for v in val] if isinstance(val, list) else str(val)
            parts.append(f"{key}={shown}")
    return "{" + ", ".join(parts) + "}"


_OPS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "==": lambda a, b: a == b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def grid_relation_step(
    name: str,
    lhs: sp.Expr,
    relation: Relation,
    rhs: sp.Expr,
    points: Sequence[Mapping[object, object]],
    *,
    forall_index: bool = False,
    min_points: int = 20,
) -> ProofStep:
    """Check ``lhs <relation> rhs`` exactly at every grid point.

    Parameters
    ----------
    name : str
        Step description.
    lhs, rhs : sympy.Expr
        The two sides.
    relation : {"==", "<=", ">=", "<", ">"}
        The relation to check.
    points : sequence of dict
        Environments (see :func:`spectral_points`).
    forall_index : bool, optional
        If True the sides contain the free mode index ``i`` and the relation is checked for
        every ``i`` in ``range(d)``.
    min_points : int, optional
        Fewer defined points than this fails the step (guards against empty domains).

    Returns
    -------
    ProofStep
        Passed iff the relation holds at every point where both sides are defined.
    """
    fl, fr = compile_exact(lhs), compile_exact(rhs)
    op = _OPS[relation]
    checked = undefined = 0
    failures: list[str] = []
    for env in points:
        envs: list[Mapping[object, object]] = [env]
        if forall_index:
            envs = [{**env, S.i: Fraction(j)} for j in range(int(env[S.d]))]  # type: ignore[call-overload]
        for e in envs:
            try:
                a, b = fl(e), fr(e)
            except (Undefined, ZeroDivisionError):
                undefined += 1
                continue
            checked += 1
            if not op(a, b):
                failures.append(f"{_fmt_point(e)}: lhs={a}, rhs={b}")
    ok = not failures and checked >= min_points
    detail = f"{checked} exact points, {len(failures)} failures, {undefined} undefined skipped"
    if failures:
        detail += "; first: " + " | ".join(f[:300] for f in failures[:2])
    return ProofStep(name, METHOD_EXACT, ok, detail)


# --------------------------------------------------------------------------------------------
# results


def make_result(
    module_name: str,
    title: str,
    statements: Mapping[str, str],
    claimed: Mapping[str, sp.Expr],
    assumptions: Sequence[str],
    steps: Sequence[ProofStep],
) -> ProofResult:
    """Assemble a :class:`ProofResult` from the steps of a ``check()``.

    Parameters
    ----------
    module_name : str
        ``__name__`` of the derivation module.
    title : str
        One-line description.
    statements : mapping of str to str
        For each claim key, the LaTeX left-hand side including the relation, e.g.
        ``r"\\hat F'(\\eta) ="``.
    claimed : mapping of str to sympy.Expr
        The module's ``claim()``; rendered with :func:`sympy.latex`.
    assumptions : sequence of str
        The stated assumptions.
    steps : sequence of ProofStep
        The checked steps.

    Returns
    -------
    ProofResult
        The record.
    """
    latex = tuple(f"{statements[key]} {sp.latex(expr)}" for key, expr in claimed.items())
    methods = list(dict.fromkeys(s.method for s in steps))
    details = "\n".join(
        f"[{'ok' if s.passed else 'FAIL'}] {s.name} ({s.method}): {s.detail}" for s in steps
    )
    return ProofResult(
        name=module_name.rsplit(".", 1)[-1],
        title=title,
        claim_latex=latex,
        assumptions=tuple(assumptions),
        method=" + ".join(methods),
        passed=bool(steps) and all(s.passed for s in steps),
        details=details,
        steps=tuple(steps),
    )
