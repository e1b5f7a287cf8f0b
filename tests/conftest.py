import numpy as np
import pytest

import mtlcvx as mc


def make_data(d=12, T=4, n=15, seed=0, shared=False, ragged=False, sparse_rows=None, noise=0.3):
    """A random regression instance; ``ragged`` gives tasks different n_t."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, T))
    if sparse_rows is not None:
        W[sparse_rows:] = 0.0
    X0 = rng.normal(size=(n, d))
    Xs, ys = [], []
    for t in range(T):
        n_t = n + (t if ragged else 0)
        X = X0 if shared else rng.normal(size=(n_t, d))
        Xs.append(X)
        ys.append(X @ W[:, t] + noise * rng.normal(size=X.shape[0]))
    return mc.MultiTaskData(Xs, ys)


def fd_gradient(f, W, h=1e-6):
    """Central finite differences of a scalar function of an array."""
    G = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        G[idx] = (f(W + E) - f(W - E)) / (2 * h)
    return G


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


@pytest.fixture
def small_data():
    return make_data()
