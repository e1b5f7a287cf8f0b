"""Synthetic multi-task regression data with a known ``W``."""

import numpy as np
from sklearn.utils import check_random_state

from ..data import MultiTaskData

__all__ = ["make_sparse_low_rank"]


def make_sparse_low_rank(
    n_tasks=10,
    n_features=50,
    n_samples=40,
    n_relevant=10,
    rank=3,
    noise=1.0,
    shared_X=False,
    random_state=None,
):
    """Tasks whose true ``W`` is row-sparse and low-rank.

    ``W = S (A B)``: ``n_relevant`` random rows (features) are non-zero, and
    on them ``W`` is the product of Gaussian ``A`` (``n_relevant x rank``) and
    ``B`` (``rank x n_tasks``), so every structure the baselines assume
    (shared support: L21; low rank: trace norm; tasks in a few directions:
    clustered MTL) is present.  ``X_t`` has i.i.d. standard normal entries
    (one ``X`` for every task with ``shared_X=True``) and ``y_t = X_t w_t +
    noise * eps``.

    Parameters
    ----------
    n_tasks, n_features, n_samples : int
        ``T``, ``d`` and ``n_t`` (the same for every task).
    n_relevant : int
        Number of non-zero rows of ``W``.
    rank : int
        Rank of ``W``.
    noise : float
        Standard deviation of the Gaussian noise.
    shared_X : bool
    random_state : int, RandomState or None

    Returns
    -------
    data : MultiTaskData
    W : ndarray of shape (n_features, n_tasks)
        The true weights.
    """
    for name, value in (("n_tasks", n_tasks), ("n_features", n_features), ("n_samples", n_samples),
                        ("rank", rank)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 1 <= n_relevant <= n_features:
        raise ValueError(f"n_relevant must be in [1, n_features={n_features}], got {n_relevant}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = check_random_state(random_state)
    W = np.zeros((n_features, n_tasks))
    rows = np.sort(rng.choice(n_features, n_relevant, replace=False))
    W[rows] = rng.standard_normal((n_relevant, rank)) @ rng.standard_normal((rank, n_tasks)) / np.sqrt(rank)
    X_shared = rng.standard_normal((n_samples, n_features)) if shared_X else None
    Xs, ys = [], []
    for t in range(n_tasks):
        X = X_shared if shared_X else rng.standard_normal((n_samples, n_features))
        Xs.append(X)
        ys.append(X @ W[:, t] + noise * rng.standard_normal(n_samples))
    return MultiTaskData(Xs, ys), W
