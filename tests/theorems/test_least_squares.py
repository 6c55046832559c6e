"""The vectorized least-squares task family (verify.paper.trainval) against independent
references.

* a plain step-by-step GD loop with the truncation rule (the obvious implementation), on
  small instances covering monotone, oscillating and diverging step sizes and both
  factorization routes (Gram eigendecomposition and SVD fallback);
* the certified meta-objective :func:`verify.truth.meta_objective` (TbT training loss and TbV
  validation loss) on tiny instances;
* the certified minimizer :func:`verify.paper.trainval.certified_step_size` against the
  float golden-section refinement;
* determinism, the closed-form expectations of the task distribution, and bad input.

Tolerances
----------
Every float64 comparison uses :func:`iterate_tolerance` / :func:`loss_tolerance`: first-order
forward-error bounds of both computations (standard gamma_k = k u / (1 - k u) matrix-vector
bounds, Higham ch. 3, with u = 2^-53), the closed form's measured backward error of its
eigenpairs propagated through the GD polynomial, times ``FIRST_ORDER_SAFETY`` for the dropped
second-order terms. Each test also checks the tolerance is not vacuous (far below the
compared values).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from verify import LeastSquares, truth
from verify.errors import (
    ArgumentError,
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    NonFiniteError,
    ShapeMismatchError,
    UnknownOptionError,
)
from verify.paper.trainval import (
    DEFAULT_GRID,
    LeastSquaresConfig,
    TaskBatch,
    certified_step_size,
    draw_tasks,
    evaluate_step_sizes,
    grid_search,
    interpolant_expected_error,
    mean_ci,
    paired_difference,
    refine_step_size,
    run_experiment,
    sample_task_pair,
    sample_tasks,
)

U64 = 2.0**-53
# First-order bounds drop O(u^2) terms and use ||.||_2 <= ||.||_F; a factor 4 covers the
# second-order remainder for every instance here (all tolerances are <= 1e-9 relative, so
# the remainder is < 1e-9 of the first-order term).
FIRST_ORDER_SAFETY = 4.0
# A tolerance must be this far below the compared magnitude to mean anything: 2^-20 leaves
# 33 of float64's 53 bits to the comparison.
NON_VACUOUS = 2.0**-20
# Near interpolation the training loss is ~1e-10 of the terms it is computed from, and the
# first-order bound (t^2 eta^2 ||E|| ||b||, no credit for contraction) exceeds the actual
# error there; 2^-16 still checks 16 bits of a certified loss at every step size.
LOSS_NON_VACUOUS = 2.0**-16
# A float64 minimizer is only resolved to about sqrt(u) relative (the objective is flat to
# second order); requiring 2^-10 relative still checks eta to three digits, ~500 times finer
# than the authors' grid spacing (factor 10^(1/4)).
MINIMIZER_RESOLUTION = 2.0**-10
CONFIDENCE = 0.99


def gamma(k: int) -> float:
    return k * U64 / (1 - k * U64)


# ---------------------------------------------------------------------- references
def plain_gd(
    X: np.ndarray, y: np.ndarray, eta: float, t: int, radius: float | None
) -> tuple[np.ndarray, list[float], int | None]:
    """The obvious loop: w <- w - eta X^T (X w - y) / n, frozen at radius * e_1 once
    ||w_tau|| >= radius. Returns (w_t, untruncated norms ||w_0..w_t||, crossing step)."""
    n, d = X.shape
    w = np.zeros(d)
    norms = [0.0]
    crossing = None
    for tau in range(1, t + 1):
        w = w - eta * (X.T @ (X @ w - y)) / n
        norms.append(float(np.linalg.norm(w)))
        if radius is not None and crossing is None and norms[-1] >= radius:
            crossing = tau
    if crossing is not None and radius is not None:
        w = np.zeros(d)
        w[0] = radius
    return w, norms, crossing


def _amplification(X: np.ndarray, eta: float, t: int) -> tuple[float, float]:
    """(M, ||b||-free factor): M = max(1, ||I - eta X^T X / n||_2)^t."""
    n = X.shape[0]
    s = np.linalg.eigvalsh(X.T @ X / n)
    rho = max(abs(1 - eta * s[0]), abs(1 - eta * s[-1]))
    return max(1.0, rho) ** t, float(s[-1])


def factorization_defects(X: np.ndarray, V: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """(E, o): measured backward error E = ||X^T X / n - V diag(s) V^T||_F (plus gamma_{n+r}
    of forming it in float64) and orthogonality defect o = ||V^T V - I||_F of the closed
    form's eigenpairs (a posteriori, first order)."""
    n = X.shape[0]
    r = V.shape[1]
    fro = float(np.linalg.norm(X))
    E = float(np.linalg.norm(X.T @ X / n - (V * s) @ V.T)) + gamma(n + r) * (
        fro**2 / n + r * float(s.max())
    )
    o = float(np.linalg.norm(V.T @ V - np.eye(r))) + gamma(n)
    return E, o


def iterate_tolerance(
    X: np.ndarray,
    y: np.ndarray,
    eta: float,
    t: int,
    norms: list[float],
    V: np.ndarray,
    s: np.ndarray,
    loop: bool = True,
) -> float:
    """Normwise bound on ||w_t(closed form) - w_t(reference)|| (first order in u).

    Loop (when ``loop``): each step's computed gradient has error <= gamma_{n+d+4}
    (||X||_F^2 ||w|| + ||X||_F ||y||) / n, plus the update's rounding u ||w||; errors
    propagate through A = I - eta X^T X / n, so the total is <= t M max_tau eps_tau with
    M = max(1, ||A||_2)^t.

    Closed form: its output is V diag(p(s)) V^T b with p(x) = eta phi_t(eta x). With the
    backward error E and orthogonality defect o of :func:`factorization_defects`, the exact
    GD iterate of a matrix within E differs by <= eta^2 t^2 M E ||b|| / 2 (Lipschitz
    constant of A -> sum_k (I - eta A)^k eta b); replacing V by its orthonormal polar factor
    costs <= 2 o eta t M ||b||; computing b, phi and V c costs <= gamma_{n + r + 10} eta t M
    (||b|| + ||X||_F ||y|| / n). A certified reference adds nothing (``loop=False``).
    """
    n, d = X.shape
    M, _ = _amplification(X, eta, t)
    fro = float(np.linalg.norm(X))
    ynorm = float(np.linalg.norm(y))
    bnorm = float(np.linalg.norm(X.T @ y / n))
    total = 0.0
    if loop:
        W = max(norms[: t + 1])
        eps = gamma(n + d + 4) * (W + eta * (fro**2 * W + fro * ynorm) / n)
        total += t * M * eps
    r = V.shape[1]
    E, o = factorization_defects(X, V, s)
    total += eta**2 * t**2 * M * E * bnorm / 2 + 2 * o * eta * t * M * bnorm
    total += gamma(n + r + 10) * eta * t * M * (bnorm + fro * ynorm / n)
    return FIRST_ORDER_SAFETY * total


def residual_error(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, M: float, o: float, loop: bool = True
) -> float:
    """Bound on the error of the residual r = X w - y each implementation forms at a given w.

    Reference loop: X w - y in float64, <= gamma_{n+d+2} S with S = ||X||_F ||w|| + ||y||.
    Closed form: the training residual is -(1 - eta s)^t z in the U basis (z = U^T y to
    gamma_n S, amplified by at most M) and the held-out one R c - g (QR of X_h V, backward
    stable: gamma_k S); both are residuals of the factorized data X V V^T, which differs
    from X by o ||X||_F. In all <= gamma_{2(n+d)+10} M S + o ||X||_F ||w||.
    """
    n, d = X.shape
    S = float(np.linalg.norm(X)) * float(np.linalg.norm(w)) + float(np.linalg.norm(y))
    fro_w = float(np.linalg.norm(X)) * float(np.linalg.norm(w))
    err = gamma(2 * (n + d) + 10) * M * S + o * fro_w
    if loop:
        err += gamma(n + d + 2) * S
    return err


def loss_tolerance(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, delta_w: float, e_r: float
) -> float:
    """Bound on |loss_closed_form - loss_reference| at iterates within delta_w of each other.

    ||X^T (X w - y)|| / n delta_w + ||X||_2^2 delta_w^2 / (2n) is the exact second-order
    Taylor bound of the quadratic ||X w - y||^2 / (2n); a residual computed to e_r changes
    ||r||^2 / (2n) by <= (2 ||r|| e_r + e_r^2) / (2n), plus gamma_n relative for the sum.
    Relative to the residual, so it stays meaningful as the loss goes to zero.
    """
    n = X.shape[0]
    res = X @ w - y
    rnorm = float(np.linalg.norm(res))
    grad = float(np.linalg.norm(X.T @ res)) / n
    x2 = float(np.linalg.norm(X, 2)) ** 2
    ev = (2 * rnorm * e_r + e_r**2) / (2 * n) + gamma(n + 2) * rnorm**2 / (2 * n)
    return FIRST_ORDER_SAFETY * (grad * delta_w + x2 * delta_w**2 / (2 * n) + ev)


def loss(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    r = X @ w - y
    return float(r @ r / (2 * X.shape[0]))


# ---------------------------------------------------------------------- instances
def _instance(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, Xh, yh) for one task; ``collinear`` forces the SVD fallback (kappa^2 > 1e4)."""
    rng = np.random.default_rng(seed)
    shapes = {"wide": (6, 12, 5), "tall": (15, 6, 7), "collinear": (9, 7, 4)}
    n, d, nh = shapes[kind]
    X = rng.standard_normal((n, d))
    if kind == "collinear":
        X[:, 1] = X[:, 0] + 1e-4 * rng.standard_normal(n)
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    y = X @ w + 0.5 * rng.standard_normal(n)
    Xh = rng.standard_normal((nh, d))
    yh = Xh @ w + 0.5 * rng.standard_normal(nh)
    return X, y, Xh, yh


def _batch(
    X: np.ndarray,
    y: np.ndarray,
    Xh: np.ndarray,
    yh: np.ndarray,
    sigma: float,
    truncation_factor: float | None = 40.0,
) -> TaskBatch:
    w = np.zeros(X.shape[1])
    w[-1] = 1.0
    return TaskBatch.from_arrays(
        X[None],
        y[None],
        w[None],
        sigma=sigma,
        X_heldout=Xh[None],
        y_heldout=yh[None],
        truncation_factor=truncation_factor,
        keep_vectors=True,
    )


# eta * s_max: 0 (no move), small, monotone (< 1), boundary (= 1 for the largest mode),
# oscillating (1, 2), just stable, diverging (> 2)
ETA_FRACTIONS = (0.0, 0.01, 0.5, 1.0, 1.5, 1.99, 2.5)
HORIZONS = (0, 1, 5, 40)


@pytest.mark.parametrize("kind", ["wide", "tall", "collinear"])
@pytest.mark.parametrize("t", HORIZONS)
@pytest.mark.parametrize("sigma", [0.05, 10.0])
def test_vectorized_matches_plain_gd_loop(kind: str, t: int, sigma: float) -> None:
    X, y, Xh, yh = _instance(kind, seed=7)
    batch = _batch(X, y, Xh, yh, sigma)
    assert batch.V is not None
    smax = float(np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])
    etas = [f / smax for f in ETA_FRACTIONS]
    metrics = batch.evaluate(etas, t)
    iterates = batch.final_iterates(etas, t)
    radius = 40.0 * sigma
    w_star = np.zeros(X.shape[1])
    w_star[-1] = 1.0
    checked = 0
    for j, eta in enumerate(etas):
        w_loop, norms, crossing = plain_gd(X, y, eta, t, radius)
        last = t if crossing is None else crossing
        # the truncation decision is only comparable away from the radius
        tol_at = [
            iterate_tolerance(X, y, eta, tau, norms, batch.V[0], batch.eigenvalues[0])
            for tau in range(last + 1)
        ]
        if any(abs(norms[tau] - radius) <= tol_at[tau] for tau in range(last + 1)):
            continue
        checked += 1
        assert bool(metrics.truncated[0, j]) == (crossing is not None), (eta, crossing)
        w_fast = iterates[0, j]
        if crossing is not None:
            assert np.array_equal(w_fast, w_loop)
            assert metrics.train_loss[0, j] == pytest.approx(
                loss(X, y, w_loop), rel=gamma(X.shape[0] + 4)
            )
            continue
        tol = tol_at[t]
        assert tol <= NON_VACUOUS * max(1.0, float(np.linalg.norm(w_loop))), tol
        diff = float(np.linalg.norm(w_fast - w_loop))
        assert diff <= tol, f"eta={eta.hex()} t={t}: ||dw||={diff:.3g} > tol={tol:.3g}"
        M, _ = _amplification(X, eta, t)
        _, o = factorization_defects(X, batch.V[0], batch.eigenvalues[0])
        ltol = loss_tolerance(X, y, w_loop, tol, residual_error(X, y, w_loop, M, o))
        assert abs(metrics.train_loss[0, j] - loss(X, y, w_loop)) <= ltol
        assert metrics.heldout_loss is not None
        htol = loss_tolerance(Xh, yh, w_loop, tol, residual_error(Xh, yh, w_loop, M, o))
        assert abs(metrics.heldout_loss[0, j] - loss(Xh, yh, w_loop)) <= htol
        # ||w - w*||^2 moves by <= 2 (||w - w*|| + tol) tol; splitting w* over span(V) and its
        # complement and summing costs <= 3 gamma_{2d + 4} (||w|| + ||w*||)^2
        size = float(np.linalg.norm(w_loop)) + 1.0
        etol = 2 * (size + tol) * tol + 3 * gamma(2 * X.shape[1] + 4) * size**2
        assert abs(metrics.error[0, j] - float(np.sum((w_loop - w_star) ** 2))) <= etol
    assert checked >= len(etas) - 1  # at most one step size sits on the radius


def test_truncation_before_the_last_step_is_detected() -> None:
    """An oscillating trajectory that exceeds the radius mid-way but ends inside it."""
    X, y, Xh, yh = _instance("tall", seed=5)
    smax = float(np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])
    eta, t = 1.9 / smax, 6
    _, norms, _ = plain_gd(X, y, eta, t, None)
    peak = max(norms)
    assert peak > norms[t] * 1.25, "instance must overshoot"
    radius = (peak + norms[t]) / 2
    batch = _batch(X, y, Xh, yh, sigma=1.0, truncation_factor=radius)
    truncated = batch.evaluate([eta], t).truncated[0, 0]
    assert truncated
    w = batch.final_iterates([eta], t)[0, 0]
    assert w[0] == radius and not np.any(w[1:])
    untruncated = _batch(X, y, Xh, yh, sigma=1.0, truncation_factor=None)
    assert not untruncated.evaluate([eta], t).truncated[0, 0]


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 12),
    d=st.integers(2, 12),
    frac=st.floats(0.0, 2.2),
    t=st.integers(0, 60),
)
def test_vectorized_matches_loop_property(seed: int, n: int, d: int, frac: float, t: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    Xh = rng.standard_normal((3, d))
    yh = rng.standard_normal(3)
    batch = _batch(X, y, Xh, yh, sigma=0.1)
    assert batch.V is not None
    smax = float(np.linalg.eigvalsh(X.T @ X / n)[-1])
    eta = frac / smax
    w_loop, norms, crossing = plain_gd(X, y, eta, t, 4.0)
    last = t if crossing is None else crossing
    tols = [
        iterate_tolerance(X, y, eta, tau, norms, batch.V[0], batch.eigenvalues[0])
        for tau in range(last + 1)
    ]
    assume(all(abs(norms[tau] - 4.0) > tols[tau] for tau in range(last + 1)))
    w_fast = batch.final_iterates([eta], t)[0, 0]
    assert bool(batch.evaluate([eta], t).truncated[0, 0]) == (crossing is not None)
    assert float(np.linalg.norm(w_fast - w_loop)) <= tols[last] if crossing is None else True
    if crossing is not None:
        assert np.array_equal(w_fast, w_loop)


# ---------------------------------------------------------------------- certified truth
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("frac", [0.02, 0.3, 0.9])
@pytest.mark.parametrize("t", [1, 40])
def test_against_certified_meta_objective(seed: int, frac: float, t: int) -> None:
    """TbT training loss and TbV validation loss within the float64 bound of the truth."""
    data = draw_tasks(8, 8, sigma=1.0, num_tasks=1, seed=seed)
    X, y = data.X[0, :4], data.y[0, :4]
    Xh, yh = data.X[0, 4:], data.y[0, 4:]
    batch = TaskBatch.from_arrays(
        X[None],
        y[None],
        data.w_star,
        sigma=1.0,
        X_heldout=Xh[None],
        y_heldout=yh[None],
        keep_vectors=True,
    )
    assert batch.V is not None
    smax = float(np.linalg.eigvalsh(X.T @ X / 4)[-1])
    eta = frac / smax
    metrics = batch.evaluate([eta], t)
    assert not metrics.truncated[0, 0]
    w = batch.final_iterates([eta], t)[0, 0]
    norms = [float(np.linalg.norm(w))] * (t + 1)  # unused by the closed-form-only bound
    dw = iterate_tolerance(X, y, eta, t, norms, batch.V[0], batch.eigenvalues[0], loop=False)
    M, _ = _amplification(X, eta, t)
    _, o = factorization_defects(X, batch.V[0], batch.eigenvalues[0])
    train, valid = LeastSquares(X, y), LeastSquares(Xh, yh)
    certified_tbt = truth.meta_objective(train, eta, t, objective="naive")
    certified_tbv = truth.meta_objective(train, eta, t, objective="naive", eval_problem=valid)
    for ours, cert, (Xe, ye) in (
        (metrics.train_loss[0, 0], certified_tbt, (X, y)),
        (
            metrics.heldout_loss[0, 0] if metrics.heldout_loss is not None else math.nan,
            certified_tbv,
            (Xh, yh),
        ),
    ):
        tol = loss_tolerance(Xe, ye, w, dw, residual_error(Xe, ye, w, M, o, loop=False))
        assert tol <= LOSS_NON_VACUOUS * float(cert.mid)
        gap = abs(Fraction(float(ours)) - cert.mid) + cert.rad
        assert gap <= Fraction(tol), f"|{ours!r} - {float(cert.mid)!r}| > {tol:.3g}"


# Requested widths of the two minimizer searches, not acceptance tolerances: both far below
# the float resolution sqrt(8 eps_F / F'') that the comparison below allows for.
GOLDEN_SECTION_REL_WIDTH = 1e-9
CERTIFIED_REL_WIDTH = 1e-10


def test_certified_minimizer_contains_refined_minimizer() -> None:
    """TbV on 6 small tasks: golden-section eta is inside the certified enclosure, widened by
    the float resolution of a minimizer, sqrt(8 eps_F / F'') (F within eps_F of the truth
    near a quadratic minimum of curvature F'' moves the argmin by at most that)."""
    d, n1, n2, m, t, sigma = 10, 5, 5, 6, 40, 2.0
    data = draw_tasks(d, n1 + n2, sigma=sigma, num_tasks=m, seed=11)
    batch = TaskBatch.from_arrays(
        data.X[:, :n1],
        data.y[:, :n1],
        data.w_star,
        sigma=sigma,
        X_heldout=data.X[:, n1:],
        y_heldout=data.y[:, n1:],
        keep_vectors=True,
    )
    coarse = grid_search(batch, "tbv", t, bootstrap_resamples=10)
    refined = refine_step_size(batch, "tbv", t, coarse.bracket, rel_tol=GOLDEN_SECTION_REL_WIDTH)
    train = data.problems(slice(0, n1))
    valid = data.problems(slice(n1, None))
    enc = certified_step_size(
        train, t, coarse.bracket, sigma=sigma, validation=valid, rel_tol=CERTIFIED_REL_WIDTH
    )
    curvature = (
        sum(
            truth.meta_hessian(p, enc.mid, t, objective="naive", eval_problem=v).mid
            for p, v in zip(train, valid, strict=True)
        )
        / m
    )
    assert curvature > 0
    eps_f = 0.0
    assert batch.V is not None
    for k in range(m):
        X, y = data.X[k, :n1], data.y[k, :n1]
        w = batch.final_iterates([refined.eta], t)[k, 0]
        dw = iterate_tolerance(
            X, y, refined.eta, t, [0.0], batch.V[k], batch.eigenvalues[k], loop=False
        )
        M, _ = _amplification(X, refined.eta, t)
        _, o = factorization_defects(X, batch.V[k], batch.eigenvalues[k])
        Xh, yh = data.X[k, n1:], data.y[k, n1:]
        e_r = residual_error(Xh, yh, w, M, o, loop=False)
        eps_f = max(eps_f, loss_tolerance(Xh, yh, w, dw, e_r))
    resolution = math.sqrt(8 * eps_f / float(curvature)) + (refined.upper - refined.lower)
    assert resolution <= MINIMIZER_RESOLUTION * refined.eta
    assert float(enc.lower) - resolution <= refined.eta <= float(enc.upper) + resolution


# ---------------------------------------------------------------------- distribution checks
def test_tbt_converges_to_the_min_norm_interpolant_error() -> None:
    """E ||X^+ y - w*||^2 = (1 - n/d) + sigma^2 n / (d - n - 1) (exact for the family):
    GD at the fastest step for t = 2000 steps has converged (contraction (0.95)^2000 ~ 1e-45)
    and the 99% interval over 200 tasks must contain the exact expectation."""
    d, n, sigma = 60, 30, 1.0
    batch = sample_tasks(d, n, sigma=sigma, num_tasks=200, seed=5)
    s = batch.eigenvalues
    eta = float(2 / (s.max() + s.min()))
    err = batch.evaluate([eta], 2000).error[:, 0]
    est = mean_ci(err, CONFIDENCE)
    exact = interpolant_expected_error(d, n, sigma)
    assert est.low <= exact <= est.high, (est, exact)


def test_determinism_and_task_independence() -> None:
    a = sample_tasks(20, 10, sigma=1.0, num_tasks=5, n_heldout=4, seed=3)
    b = sample_tasks(20, 10, sigma=1.0, num_tasks=8, n_heldout=4, seed=3)
    for name in ("sv", "z", "w_proj", "trunc_train"):
        assert np.array_equal(getattr(a, name), getattr(b, name)[:5]), name
    data = draw_tasks(20, 14, sigma=1.0, num_tasks=5, seed=3)
    c = TaskBatch.from_arrays(
        data.X[:, :10],
        data.y[:, :10],
        data.w_star,
        sigma=1.0,
        X_heldout=data.X[:, 10:],
        y_heldout=data.y[:, 10:],
    )
    assert np.array_equal(a.R, c.R) and np.array_equal(a.z, c.z)
    tbt, tbv = sample_task_pair(20, 14, 10, 4, sigma=1.0, num_tasks=5, seed=3)
    assert np.array_equal(tbv.R, a.R)
    # ||w*||^2 = ||V^T w*||^2 + ||(I - V V^T) w*||^2 = 1 up to a few roundings per entry
    norm2 = tbt.w_perp2 + np.sum(tbt.w_proj**2, axis=1)
    assert np.all(np.abs(norm2 - 1) <= gamma(4 * 20))
    cfg = LeastSquaresConfig(d=20, n=10, n1=5, n2=5, num_tasks=6, num_test_tasks=4)
    r1, r2 = run_experiment(cfg), run_experiment(cfg)
    assert r1.tbt.eta == r2.tbt.eta and r1.tbv.eta == r2.tbv.eta
    assert np.array_equal(r1.tbv_test.errors, r2.tbv_test.errors)


def test_sigma_shares_random_numbers() -> None:
    """The same seed gives the same (w*, X, xi) at every sigma (common random numbers)."""
    a = draw_tasks(5, 4, sigma=1.0, num_tasks=2, seed=9)
    b = draw_tasks(5, 4, sigma=3.0, num_tasks=2, seed=9)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.w_star, b.w_star)
    xi_a = a.y - np.einsum("knd,kd->kn", a.X, a.w_star)
    xi_b = b.y - np.einsum("knd,kd->kn", b.X, b.w_star)
    np.testing.assert_allclose(3 * xi_a, xi_b, rtol=8 * U64, atol=8 * U64 * float(abs(b.y).max()))


def test_default_grid_is_the_authors() -> None:
    assert DEFAULT_GRID == tuple(float(v) for v in np.logspace(-6, 0, 25))


def test_mean_ci_normal_quantile() -> None:
    est = mean_ci([0.0, 2.0], confidence=CONFIDENCE)
    z = 2.5758293035489004  # Phi^-1(0.995)
    assert est.mean == 1.0
    assert est.high - est.mean == pytest.approx(z * math.sqrt(2.0) / math.sqrt(2.0), rel=4 * U64)
    assert paired_difference([3.0, 4.0, 5.0], [1.0, 2.0, 3.0]).mean == 2.0


# ---------------------------------------------------------------------- bad input
def _tiny_batch() -> TaskBatch:
    return sample_tasks(4, 3, sigma=1.0, num_tasks=3, n_heldout=2, seed=0)


BAD_CALLS = [
    (lambda: sample_tasks(0, 3, sigma=1.0, num_tasks=2), ShapeMismatchError, "d"),
    (lambda: sample_tasks(4, 3, sigma=0.0, num_tasks=2), ArgumentError, "sigma"),
    (lambda: sample_tasks(4, 3, sigma=math.inf, num_tasks=2), NonFiniteError, "sigma"),
    (lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=0), ShapeMismatchError, "num_tasks"),
    (lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=2, seed=-1), ArgumentError, "seed"),
    (
        lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=2, stream="x"),  # type: ignore[arg-type]
        UnknownOptionError,
        "stream",
    ),
    (
        lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=2, truncation_factor=-1.0),
        ArgumentError,
        "truncation_factor",
    ),
    (
        lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=2, keep_vectors=1),  # type: ignore[arg-type]
        ArgumentError,
        "keep_vectors",
    ),
    (lambda: _tiny_batch().evaluate([-0.1], 3), InvalidStepSizeError, "etas"),
    (lambda: _tiny_batch().evaluate([math.nan], 3), InvalidStepSizeError, "etas"),
    (lambda: _tiny_batch().evaluate([], 3), ShapeMismatchError, "etas"),
    (lambda: _tiny_batch().evaluate([0.1], -1), InvalidHorizonError, "t"),
    (lambda: _tiny_batch().evaluate([0.1], 2.5), InvalidHorizonError, "t"),
    (lambda: _tiny_batch().final_iterates([0.1], 2), UnknownOptionError, "keep_vectors"),
    (lambda: _tiny_batch().meta_losses("tbx", [0.1], 2), UnknownOptionError, "kind"),  # type: ignore[arg-type]
    (
        lambda: sample_tasks(4, 3, sigma=1.0, num_tasks=2).meta_losses("tbv", [0.1], 2),
        UnknownOptionError,
        "kind",
    ),
    (lambda: grid_search(_tiny_batch(), "tbt", 3, [0.1, -1.0]), InvalidStepSizeError, "grid"),
    (
        lambda: grid_search(_tiny_batch(), "tbt", 3, confidence=1.0),
        InvalidPrecisionError,
        "confidence",
    ),
    (
        lambda: grid_search(_tiny_batch(), "tbt", 3, bootstrap_resamples=0),
        ShapeMismatchError,
        "bootstrap_resamples",
    ),
    (lambda: grid_search("batch", "tbt", 3), ShapeMismatchError, "batch"),  # type: ignore[arg-type]
    (lambda: refine_step_size(_tiny_batch(), "tbt", 3, (0.2, 0.1)), ShapeMismatchError, "bracket"),
    (lambda: refine_step_size(_tiny_batch(), "tbt", 3, (0.1,)), ShapeMismatchError, "bracket"),  # type: ignore[arg-type]
    (
        lambda: refine_step_size(_tiny_batch(), "tbt", 3, (0.1, 0.2), rel_tol=0.0),
        InvalidPrecisionError,
        "rel_tol",
    ),
    (
        lambda: evaluate_step_sizes(sample_tasks(4, 3, sigma=1.0, num_tasks=3), [0.1], 3),
        ShapeMismatchError,
        "batch",
    ),
    (lambda: LeastSquaresConfig(d=0), ShapeMismatchError, "d"),
    (lambda: LeastSquaresConfig(t=-3), InvalidHorizonError, "t"),
    (lambda: LeastSquaresConfig(sigma=-1.0), ArgumentError, "sigma"),
    (lambda: LeastSquaresConfig(num_test_tasks=1), ShapeMismatchError, "num_test_tasks"),
    (lambda: LeastSquaresConfig(grid=(0.1, math.inf)), InvalidStepSizeError, "grid"),
    (lambda: LeastSquaresConfig(confidence=0.0), InvalidPrecisionError, "confidence"),
    (
        lambda: TaskBatch.from_arrays(
            np.zeros((2, 3, 4)), np.zeros((2, 2)), np.zeros((2, 4)), sigma=1.0
        ),
        ShapeMismatchError,
        "y",
    ),
    (
        lambda: TaskBatch.from_arrays(
            np.zeros((2, 3, 4)), np.zeros((2, 3)), np.zeros((2, 5)), sigma=1.0
        ),
        ShapeMismatchError,
        "w_star",
    ),
    (
        lambda: TaskBatch.from_arrays(
            np.full((1, 3, 4), np.nan), np.zeros((1, 3)), np.zeros((1, 4)), sigma=1.0
        ),
        NonFiniteError,
        "X",
    ),
    (
        lambda: TaskBatch.from_arrays(
            np.ones((1, 3, 4)),
            np.zeros((1, 3)),
            np.zeros((1, 4)),
            sigma=1.0,
            X_heldout=np.ones((1, 2, 4)),
        ),
        ShapeMismatchError,
        "y_heldout",
    ),
    (lambda: mean_ci([1.0]), ShapeMismatchError, "samples"),
    (lambda: paired_difference([1.0, 2.0], [1.0]), ShapeMismatchError, "b"),
    (lambda: interpolant_expected_error(10, 9, 1.0), ShapeMismatchError, "n"),
]


@pytest.mark.parametrize(("call", "error", "argument"), BAD_CALLS)
def test_bad_input_raises_typed_error_naming_the_argument(
    call: object, error: type[ArgumentError], argument: str
) -> None:
    with pytest.raises(error) as info:
        call()  # type: ignore[operator]
    assert info.value.argument == argument
    assert argument in str(info.value)
    assert isinstance(info.value, ValueError)


def test_certified_minimizer_refuses_a_bracket_that_may_truncate() -> None:
    data = draw_tasks(6, 6, sigma=0.01, num_tasks=2, seed=1)
    from verify.errors import NotCertifiedError

    with pytest.raises(NotCertifiedError, match="truncation"):
        certified_step_size(data.problems(slice(0, 3)), 40, (0.1, 1.0), sigma=0.01)
