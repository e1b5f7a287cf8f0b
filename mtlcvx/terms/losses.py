"""Data-fit terms ``L(W) = sum_t L_t(w_t; D_t)``.

Each loss gives its value in numpy (:meth:`value`), its gradient
(:meth:`grad`), a Lipschitz constant of that gradient (:meth:`lipschitz`),
and its CVXPY expression (:meth:`expr`).  ``W`` has shape ``(d, T)``,
column ``t`` is task ``t``.

Two scalings are offered, so that a user can check a solver written in
either convention:

* ``scaling="sum"``: ``L_t = 1/2 ||y_t - X_t w_t||^2`` (MALSAR and the
  papers);
* ``scaling="mean"``: ``L_t = 1/(2 n_t) ||y_t - X_t w_t||^2`` (scikit-learn,
  skglm).
"""

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = ["SquaredLoss", "LogisticLoss", "make_loss"]

_SCALINGS = ("sum", "mean")


class _Loss:
    name = "loss"

    def __init__(self, scaling="sum"):
        if scaling not in _SCALINGS:
            raise ValueError(f"scaling must be one of {_SCALINGS}, got {scaling!r}")
        self.scaling = scaling

    def task_weights(self, data):
        """The per-task factor ``s_t``: 1 (``"sum"``) or ``1/n_t`` (``"mean"``)."""
        if self.scaling == "sum":
            return np.ones(data.n_tasks)
        return 1.0 / np.asarray(data.n_samples, dtype=float)

    def __repr__(self):
        return f"{type(self).__name__}(scaling={self.scaling!r})"

    def _stacked_design(self, data, row_weights):
        """Block-diagonal ``diag(X_1, ..., X_T)`` acting on ``vec(W)``
        (column-major), rows scaled by ``row_weights``.

        One sparse product compiles much faster in CVXPY than ``T``
        separate slices of ``W``.
        """
        blocks = [sp.csr_matrix(X) for X in data.Xs]
        A = sp.block_diag(blocks, format="csr")
        return sp.diags(row_weights) @ A


class SquaredLoss(_Loss):
    r"""Squared loss ``sum_t s_t/2 ||y_t - X_t w_t||_2^2``.

    ``s_t = 1`` for ``scaling="sum"`` (default, as MALSAR and the papers)
    and ``s_t = 1/n_t`` for ``scaling="mean"`` (as scikit-learn).
    """

    name = "squared"

    def residuals(self, W, data):
        return [y - X @ W[:, t] for t, (X, y) in enumerate(data)]

    def value(self, W, data):
        s = self.task_weights(data)
        return float(sum(0.5 * s_t * r @ r for s_t, r in zip(s, self.residuals(W, data))))

    def grad(self, W, data):
        s = self.task_weights(data)
        G = np.empty_like(W, dtype=float)
        for t, ((X, y), s_t) in enumerate(zip(data, s)):
            G[:, t] = s_t * (X.T @ (X @ W[:, t] - y))
        return G

    def lipschitz(self, data):
        """``max_t s_t ||X_t||_2^2``, the Lipschitz constant of :meth:`grad`."""
        s = self.task_weights(data)
        return float(max(s_t * np.linalg.norm(X, 2) ** 2 for s_t, X in zip(s, data.Xs)))

    def expr(self, W, data):
        s = self.task_weights(data)
        root = np.concatenate([np.full(n, np.sqrt(s_t)) for s_t, n in zip(s, data.n_samples)])
        A = self._stacked_design(data, root)
        b = root * np.concatenate(data.ys)
        return 0.5 * cp.sum_squares(A @ cp.vec(W, order="F") - b)


class LogisticLoss(_Loss):
    r"""Logistic loss ``sum_t s_t sum_i log(1 + exp(-y_ti x_ti^T w_t))``.

    Labels must be in ``{-1, +1}``; labels in ``{0, 1}`` are accepted and
    read as ``0 -> -1``.  ``s_t`` as in :class:`SquaredLoss`.
    """

    name = "logistic"

    @staticmethod
    def signed_labels(y, task=None):
        values = np.unique(y)
        if np.all(np.isin(values, (-1.0, 1.0))):
            return np.asarray(y, dtype=float)
        if np.all(np.isin(values, (0.0, 1.0))):
            return 2.0 * np.asarray(y, dtype=float) - 1.0
        where = f"ys[{task}]" if task is not None else "y"
        raise ValueError(
            f"{where} must hold labels in {{-1, +1}} or {{0, 1}} for the logistic loss, "
            f"got values {values[:5].tolist()}"
        )

    def _margins(self, W, data):
        return [
            self.signed_labels(y, t) * (X @ W[:, t]) for t, (X, y) in enumerate(data)
        ]

    def value(self, W, data):
        s = self.task_weights(data)
        return float(sum(s_t * np.logaddexp(0.0, -z).sum() for s_t, z in zip(s, self._margins(W, data))))

    def grad(self, W, data):
        s = self.task_weights(data)
        G = np.empty_like(W, dtype=float)
        for t, ((X, y), s_t) in enumerate(zip(data, s)):
            yy = self.signed_labels(y, t)
            z = yy * (X @ W[:, t])
            # d/dz log(1+e^{-z}) = -sigmoid(-z), written stably with expit
            G[:, t] = -s_t * (X.T @ (yy * expit(-z)))
        return G

    def lipschitz(self, data):
        """``max_t s_t ||X_t||_2^2 / 4``."""
        s = self.task_weights(data)
        return float(max(s_t * np.linalg.norm(X, 2) ** 2 / 4 for s_t, X in zip(s, data.Xs)))

    def expr(self, W, data):
        s = self.task_weights(data)
        signs = np.concatenate([self.signed_labels(y, t) for t, y in enumerate(data.ys)])
        weights = np.concatenate([np.full(n, s_t) for s_t, n in zip(s, data.n_samples)])
        A = self._stacked_design(data, signs)
        return cp.sum(cp.multiply(weights, cp.logistic(-(A @ cp.vec(W, order="F")))))


_LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss}


def make_loss(loss, scaling="sum"):
    """A loss term from a name (``"squared"``, ``"logistic"``) or an instance."""
    if isinstance(loss, _Loss):
        return loss
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)}, got {loss!r}")
    return _LOSSES[loss](scaling=scaling)
