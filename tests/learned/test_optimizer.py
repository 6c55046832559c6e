"""The MLP optimizer's features and update against an independent numpy implementation."""

from __future__ import annotations

import numpy as np
import pytest

from verify.errors import ShapeMismatchError
from verify.learned import optimizer as opt
from verify.learned.inner import MLPLayout, init_params

torch = pytest.importorskip("torch")

#: float64 agreement between the torch and numpy implementations: both evaluate the same
#: O(100)-term expressions in a different order; 64 * 31 * u64 bounds the reassociation error
#: of the first layer's inner products relative to the outputs' scale.
AGREE = 64 * 31 * 2.0**-53


def _numpy_step(theta, w, g, m, v, step, segments, step_scale=opt.STEP_SCALE):
    betas = np.array(opt.BETAS)[:, None]
    m = betas * m + (1 - betas) * g
    v = betas * v + (1 - betas) * g * g
    rs = 1 / np.sqrt(v + opt.EPS_V)
    cols = [g[None], m * rs, w[None], m, v, rs]
    x = np.concatenate(cols, axis=0)
    for s in np.unique(segments):
        sel = segments == s
        x[:, sel] /= np.sqrt(opt.EPS_NORM + np.mean(x[:, sel] ** 2, axis=1, keepdims=True))
    t = np.tanh((step + 1) / np.array(opt.TIME_SCALES, dtype=float) - 1)
    feats = np.concatenate([x.T, np.tile(t, (w.size, 1))], axis=1)
    assert feats.shape == (w.size, 31)
    k = 31 * 32
    w1, b1 = theta[:k].reshape(31, 32), theta[k : k + 32]
    w2, b2 = theta[k + 32 : k + 96].reshape(32, 2), theta[k + 96 :]
    out = np.maximum(feats @ w1 + b1, 0) @ w2 + b2
    return w - out[:, 0] * np.exp(0.001 * out[:, 1]) * step_scale, m, v


def test_sizes() -> None:
    assert opt.N_FEATURES == 31 and opt.N_THETA == 1090


def test_step_matches_numpy_over_several_steps() -> None:
    rng = np.random.default_rng(3)
    layout = MLPLayout(5, hidden=(4, 3), n_out=2)
    segs = layout.segments()
    theta = opt.init_theta(rng)
    w = init_params(layout, rng)
    m = np.zeros((5, w.size))
    v = np.zeros((5, w.size))
    tw = torch.tensor(w)
    state = opt.init_state(w.size, torch.float64)
    seg_t = torch.as_tensor(segs)
    seg_mean = opt.segment_matrix(segs, torch.float64)
    for step in range(4):
        g = rng.standard_normal(w.size)
        w, m, v = _numpy_step(theta, w, g, m, v, step, segs)
        tw, state = opt.opt_step(torch.tensor(theta), tw, torch.tensor(g), state, seg_t, seg_mean)
        scale = np.abs(w).max()
        assert np.abs(tw.numpy() - w).max() <= AGREE * scale * 100
    assert state.step == 4
    np.testing.assert_allclose(state.m.numpy(), m, rtol=AGREE, atol=0)


def test_init_theta_and_shape_errors() -> None:
    theta = opt.init_theta(np.random.default_rng(0))
    k = 31 * 32
    assert np.all(theta[k : k + 32] == np.float32(0.1))
    assert np.all(theta[-2:] == np.float32(0.1))
    with pytest.raises(ShapeMismatchError):
        opt.opt_step(
            torch.zeros(3),
            torch.zeros(4),
            torch.zeros(4),
            opt.init_state(4, torch.float64),
            torch.zeros(4, dtype=torch.int64),
            opt.segment_matrix(np.zeros(4, dtype=int), torch.float64),
        )
    with pytest.raises(ShapeMismatchError):
        opt.features(
            torch.zeros(4),
            torch.zeros(3),
            opt.init_state(4, torch.float64),
            torch.zeros(4, dtype=torch.int64),
            opt.segment_matrix(np.zeros(4, dtype=int), torch.float64),
        )
