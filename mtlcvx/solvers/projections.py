"""Euclidean projections used by the non-convex outer loops."""

import numpy as np

__all__ = ["project_columns_to_simplex"]


def project_columns_to_simplex(V):
    """Project each column of ``V`` onto the probability simplex
    ``{u >= 0, sum(u) = 1}`` (sort-based, O(N log N) per column; Chen and
    Ye 2011, cited by the SG-MTL paper)."""
    V = np.asarray(V, dtype=float)
    N = V.shape[0]
    sorted_desc = -np.sort(-V, axis=0)
    cumulative = np.cumsum(sorted_desc, axis=0) - 1.0
    k = np.arange(1, N + 1)[:, None]
    condition = sorted_desc - cumulative / k > 0
    rho = N - 1 - np.argmax(condition[::-1], axis=0)
    tau = cumulative[rho, np.arange(V.shape[1])] / (rho + 1)
    return np.maximum(V - tau, 0.0)
