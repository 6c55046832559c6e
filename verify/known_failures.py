"""Known float failures as data: regions where a backend is expected to fail, with the reason.

Each :class:`KnownFailure` names the backends, dtypes and objectives it covers and a predicate
over (problem, eta, t) that decides membership. Tests mark points inside a region as strict
xfail (STYLE habit 9), so a region that starts passing -- a fixed bug, or a prediction that
was too pessimistic -- is noticed.

Only regions whose failure is *predicted* (not merely observed) are registered, and each
predicate claims membership only away from its boundary: :func:`verify.backprop.predict_failure`
returns ``"fails"`` only beyond a safety margin.

Examples
--------
>>> from verify import Quadratic
>>> q = Quadratic.random(10, seed=4, kind="wishart2")
>>> kf = lookup("numpy", "float32", "log", q, 2 / (q.L + q.alpha), 1000)
>>> kf.name
'backprop-exponent-range'
>>> lookup("stable", "float32", "log", q, 2 / (q.L + q.alpha), 1000) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .backprop import predict_failure, sensitivity
from .backprop._common import as_quadratic
from .backprop.registry import STEPWISE_BACKENDS, backend_info, select
from .floats import FORMATS, get_format
from .problems import Problem

__all__ = ["FLUSH_MARGIN", "REGISTRY", "ROUNDING_FLOOR_FACTOR", "KnownFailure", "lookup"]

Predicate = Callable[[Problem, float, int, str], bool]

#: The paper backend's default variant (the one a point without a variant runs).
_PAPER = backend_info("paper")


@dataclass(frozen=True)
class KnownFailure:
    """A region (backends x dtypes x objectives x predicate) where failure is expected.

    Attributes
    ----------
    name : str
        Short identifier.
    backends, dtypes, objectives : tuple of str
        Where the region applies.
    predicate : callable
        ``predicate(problem, eta, t, dtype) -> bool``: membership of one point.
    reason : str
        Why the backend fails there (cited in the xfail marker).
    variants : tuple of str or None
        For ``backend="paper"``: the variants covered (``None``: any).
    """

    name: str
    backends: tuple[str, ...]
    dtypes: tuple[str, ...]
    objectives: tuple[str, ...]
    predicate: Predicate
    reason: str
    variants: tuple[str, ...] | None = None

    def covers(
        self,
        backend: str,
        dtype: str,
        objective: str,
        problem: Problem,
        eta: float,
        t: int,
        *,
        variant: str | None = None,
    ) -> bool:
        """Whether the point (backend, dtype, objective, problem, eta, t) is in the region."""
        if self.variants is not None and (variant or _PAPER.variants[0]) not in self.variants:
            return False
        return (
            backend in self.backends
            and get_format(dtype).name in self.dtypes
            and objective in self.objectives
            and self.predicate(problem, eta, t, dtype)
        )


def _backprop_out_of_range(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    return predict_failure(problem, eta, t, dtype=dtype)[0].verdict == "fails"


def _published_scale_mismatch(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    """The authors' s (from unsorted eig) differs from rho so that A^(2t) leaves the range."""
    q = as_quadratic(problem)
    if q.b is not None:
        return False
    lam_c = np.linalg.eig(q.H)[0]
    lam = np.real(lam_c)
    L, alpha = lam[0], lam[-1]
    s = 1 - eta * alpha if eta <= 2 / (alpha + L) else eta * L - 1
    rho = float(np.max(np.abs(1 - eta * np.linalg.eigvalsh(q.H))))
    if s <= 0:
        return True  # log of a non-positive scale / division by zero: NaN
    fmt = get_format(dtype)
    # A = (I - eta H)/s has spectral radius rho/s; its 2t-th power leaves the range when
    # 2t |ln(rho/s)| exceeds the exponent range, with a margin of 10 nats for the O(1)
    # prefactors (w0^T ... H^2 w0 and the d-term sums)
    growth = 2 * t * abs(math.log(rho / s))
    return bool((growth > fmt.ln_max + 10 and rho / s > 1) or growth > -fmt.ln_min_subnormal + 10)


# The loss gradient at w_t is this many times below the rounding level of computing it
# (kappa_grad u > ROUNDING_FLOOR_FACTOR): every bit of grad g(w_t) -- and of the adjoint seeded
# by it -- is rounding noise. Factor 8 keeps the region away from its boundary.
ROUNDING_FLOOR_FACTOR = 8.0


def _below_rounding_floor(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    """grad g(w_t) = H (w_t - w*) is below the rounding noise of H w_t - b (needs b != 0)."""
    if as_quadratic(problem).b is None:
        return False
    # kappa_grad does not depend on the objective; the naive one is defined at every t >= 0
    sens = sensitivity(problem, eta, t, objective="naive")[0]
    return sens.kappa_grad * get_format(dtype).unit_roundoff > ROUNDING_FLOOR_FACTOR


# The exact |F'| lies this factor inside the dtype's subnormal range at both ends (below the
# smallest normal, above the smallest subnormal), and the terms of F' cancel by at most this
# factor: see _flushed_subnormal_truth. Model errors are many orders of magnitude smaller.
FLUSH_MARGIN = 8.0


def _flushed_subnormal_truth(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    """The exact naive meta-gradient is a subnormal of the dtype, away from both ends of the
    subnormal range: a backend that flushes subnormals to zero cannot return it.

    Mechanism (XLA's CPU runtime). XLA's CPU client executes every computation -- jitted or
    not, ``lax.scan`` or op-by-op, ``jax.disable_jit()`` included -- inside
    ``tsl::port::ScopedFlushDenormal`` (xla/pjrt/cpu: "to match the default TF ThreadPool
    behavior"), i.e. with the x86 MXCSR flags FTZ and DAZ set: every subnormal result is
    written as 0 and every subnormal input read as 0, in float32 and float64 alike (bfloat16
    is computed in float32, so it flushes too; float16 is computed in float32 where its
    subnormals are normal numbers, so it does not). Measured with jax/jaxlib 0.10.2 on
    x86-64: 1e-30 * 1e-10 gives 0.0 in float32 eagerly and under ``jax.jit``; 1e-310 * 2
    gives 0.0 in float64. Nothing tried turns it off: ``XLA_FLAGS=--xla_cpu_ftz=false``,
    ``--xla_cpu_enable_fast_math=false`` (the default), ``--xla_cpu_use_thunk_runtime=false``,
    ``--xla_cpu_strict_dot_conv_math=true``, ``--xla_cpu_multi_thread_eigen=false``,
    ``jax.jit(..., compiler_options={"xla_cpu_ftz": False})``,
    ``jax_cpu_enable_async_dispatch=False``: all still flush (``xla_cpu_ftz`` is accepted but
    the runtime's scoped MXCSR setting wins). ``jax.config`` has no denormal option. NumPy in
    the same process is unaffected (the flags are set on XLA's execution threads only).

    Consequence for reverse mode (b = 0, naive objective g(w_t)): the adjoint
    bar w_k = (I - eta H) bar w_{k+1} decays towards the exact ~ rho^(2t-k); once
    eta (H bar w)_j falls below the smallest normal it is flushed, bar w - 0 = bar w, and
    the adjoint stops decaying (about 1.2e-36 in float32 on the cond-100 problem, where
    eta alpha = 0.01); every earlier step then adds <bar w_{k+1}, -g_k> with g_k ~ 1, and
    the sum comes out normal-size. Forward mode (``jax.jacfwd``) has tangent and iterate
    decaying together and returns -0.0 instead.

    Numbers (``python -m verify.audits.flush`` prints them): q =
    Quadratic.from_spectrum(geomspace(1, 100, 10), seed=0), eta = float32(1/L), t = 5000,
    naive objective, float32; exact F' = -4.2964e-42 (a float32 subnormal). jax.grad, jitted
    or eager scan: -9.297e-35; under ``jax.disable_jit()``: -9.251e-35; optax, jit and
    eager: -9.372e-35 -- silently wrong by seven decades (the largest adjoint entry is
    1.97e-23 at step t and stays at 1.16e-36 from step 1988 down to step 1, where NumPy's
    decays to 9.4e-44: ``verify.audits.flush.adjoint_trace``);
    ``jax.jacfwd``: -0.0 (underflow). Without flushing: numpy reverse -3.29e-42, torch
    -5.62e-42, torchopt and higher -6.82e-42 (gradual-underflow leftovers, judged
    ``underflow``), numpy forward -4.2964e-42 (accurate). PyTorch does the same once told
    to flush: under ``torch.set_flush_denormal(True)`` torch gives -7.92e-35, torchopt and
    higher -9.21e-35 (PyTorch's default does not flush, so the torch backends are not in
    this region). float64, same problem, eta = 1/L: jax -1.54e-304 at t = 35500 (exact
    -1.70e-307), at t = 36500 (exact -3.26e-316) and at t = 37500 (exact rounds to -0.0).
    The GPU paths could not be checked here (no GPU): XLA:GPU flushes by a compile option
    (``--xla_gpu_ftz``), not by the runtime's MXCSR, and PyTorch CUDA kernels have their
    own settings.

    Where it is registered. Only the band where *every* output a flushing backend can
    produce is provably a failure (below): on the problem above float32 t = 4707..5298 and
    float64 t = 35710..37290 at eta = 1/L. The same mechanism also fails outside it --
    float32 t = 4000 (exact -1.844e-33, jax -1.86e-33: inaccurate), t = 4400 and 4600
    (exact -6.5e-37, -1.2e-38 normal; jax -9.3e-35: silently wrong), t >= 5400 (exact
    rounds to -0 or the smallest subnormal; jax -9.3e-35) -- but there a flushing backend
    *could* be right (its artifact is not bounded below by anything provable), so those
    points are not claimed.

    Why membership is provable. Under FTZ/DAZ every result of an arithmetic operation,
    the returned F' included, is 0 or at least the smallest normal in magnitude. Here the
    exact F' = -t sum_i lambda_i^2 c_i^2 r_i^(2t-1) (c = U^T w0, r_i = 1 - eta lambda_i),
    evaluated in log space from the float64 eigendecomposition, lies between
    FLUSH_MARGIN x smallest subnormal and smallest normal / FLUSH_MARGIN, and its terms
    cancel by at most the factor (M + 1)/(M - 1) with M = FLUSH_MARGIN. So 0 is at least 8
    ulps from the correctly rounded truth and a normal-size value is off by a factor of at
    least 8; and the error bound, rel <= MODEL_LIMIT = 0.5 times the no-cancellation scale
    <= 9/7 |F'|, admits neither (|error| >= |F'| for 0, >= 7 |F'| for a normal value). Every
    output such a backend can produce is therefore a failure (underflow or silently wrong).
    The float64 model errs in ln |F'| by about 2 t u (1 + eta L)/rho, negligible against
    ln 8 at any horizon a test can run. Also not covered: b != 0, and the log objective
    (its adjoint is seeded by 1/f and does not reach the subnormal range before f itself
    underflows, region ``backprop-exponent-range``).
    """
    q = as_quadratic(problem)
    if q.b is not None or t < 1:
        return False
    lam, U = np.linalg.eigh(q.H)
    c = U.T @ q.w0
    r = 1.0 - eta * lam
    keep = (lam > 0) & (c != 0) & (r != 0)
    if not keep.any():
        return False
    lam, c, r = lam[keep], c[keep], r[keep]
    ln_terms = (
        math.log(t) + 2 * np.log(lam) + 2 * np.log(np.abs(c)) + (2 * t - 1) * np.log(np.abs(r))
    )
    # F' = -sum(...): terms with r > 0 are negative, with r < 0 positive (odd power)
    parts = [float(np.logaddexp.reduce(ln_terms[m])) for m in (r > 0, r < 0) if m.any()]
    major = max(parts)
    minor = min(parts) if len(parts) == 2 else -math.inf
    margin = math.log(FLUSH_MARGIN)
    if minor > major - margin:
        return False  # the terms cancel: |F'| is not known well enough from the model
    ln_abs = major + math.log1p(-math.exp(minor - major))
    fmt = get_format(dtype)
    ln_min_normal = fmt.emin * math.log(2.0)
    return fmt.ln_min_subnormal + margin <= ln_abs <= ln_min_normal - margin


REGISTRY: tuple[KnownFailure, ...] = (
    KnownFailure(
        name="backprop-exponent-range",
        backends=STEPWISE_BACKENDS,
        dtypes=tuple(FORMATS),
        objectives=("log",),
        predicate=_backprop_out_of_range,
        reason=(
            "plain backprop forms f(w_t) ~ rho^(2t) and adjoints ~ rho^(-t): once 2t|ln rho(eta)| "
            "leaves the dtype's exponent range, f(w_t) is inf or 0 and the meta-gradient is "
            "NaN, inf or a silent 0 (paper notes §4.5, §6 claim 10; Corollary 1)"
        ),
    ),
    KnownFailure(
        name="backprop-affine-rounding-floor",
        backends=STEPWISE_BACKENDS,
        dtypes=tuple(FORMATS),
        objectives=("log", "naive"),
        predicate=_below_rounding_floor,
        reason=(
            "with b != 0 the iterate converges to w* != 0: once ||H (w_t - w*)|| ~ rho^t falls "
            "below the rounding noise u (||H|| ||w_t|| + ||b||) of computing H w_t - b, the "
            "seed of the adjoint pass is noise and the exponentially small meta-gradient comes "
            "back finite and wrong (no NaN, no inf)"
        ),
    ),
    KnownFailure(
        name="xla-cpu-flush-to-zero",
        backends=select(framework="jax"),  # every backend XLA runs
        dtypes=("bfloat16", "float32", "float64"),  # float16 is computed in float32: normal
        objectives=("naive",),
        predicate=_flushed_subnormal_truth,
        reason=(
            "XLA's CPU runtime runs every computation with denormals flushed to zero (FTZ/DAZ, "
            "jit or not; no XLA or JAX flag turns it off): the exact meta-gradient is a "
            "subnormal of the dtype, which a flushing backend cannot return -- its reverse "
            "pass stops the adjoint's decay at the smallest normal and returns a spurious "
            "normal-size value (jax.grad -9.3e-35 where the truth is -4.3e-42), or 0"
        ),
    ),
    KnownFailure(
        name="paper-unsorted-eig",
        backends=(_PAPER.name,),
        dtypes=_PAPER.dtypes,
        objectives=("log",),
        predicate=_published_scale_mismatch,
        reason=(
            "the published code reads L = lam[0], alpha = lam[-1] from unsorted np.linalg.eig "
            "output, so the normalization s differs from rho(eta) and (I - eta H)^(2t)/s^(2t) "
            "over/underflows at large t (paper notes §4.6, code caveat)"
        ),
        variants=("published",),
    ),
)


def lookup(
    backend: str,
    dtype: str,
    objective: str,
    problem: Problem,
    eta: float,
    t: int,
    *,
    variant: str | None = None,
) -> KnownFailure | None:
    """The first registered region containing the point, or ``None``.

    ``variant`` applies to ``backend="paper"`` (default ``"published"``).
    """
    for kf in REGISTRY:
        if kf.covers(backend, dtype, objective, problem, eta, t, variant=variant):
            return kf
    return None
