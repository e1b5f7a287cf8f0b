"""Data-fit terms ``L(W) = sum_t L_t(w_t; D_t)``.

A loss gives its CVXPY expression (:meth:`Loss.expr`) and, bound to the
data (:meth:`Loss.bind`), a **datafit**: the numpy object the fast solvers
and the numpy objective use, with ``value(W)``, ``grad(W)`` and
``lipschitz()``; the least-squares datafit adds the residual statistics of
the duality gap (``stats``), working-set restriction (``restrict``) and the
zero-padded task stack the ADMM systems factor (``padded``).
``loss.value(W, data)`` is ``loss.bind(data).value(W)``: one numpy
implementation.  ``W`` has shape ``(d, T)``, column ``t`` is task ``t``.

Two scalings are offered, so that a user can check a solver written in
either convention:

* ``scaling="sum"``: ``L_t = 1/2 ||y_t - X_t w_t||^2`` (MALSAR and the
  papers);
* ``scaling="mean"``: ``L_t = 1/(2 n_t) ||y_t - X_t w_t||^2`` (scikit-learn,
  skglm).
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ..data import same_design
from .base import _cvxpy

__all__ = ["Loss", "SquaredLoss", "LogisticLoss", "LeastSquares", "LogisticDatafit", "make_loss", "SCALINGS",
           "pad_tasks"]

SCALINGS = ("sum", "mean")


def pad_tasks(Xs, ys):
    """Tasks stacked into zero-padded arrays ``X (T, n_max, d)`` and ``Y
    (T, n_max)``: zero rows add nothing to a loss, its gradient or a Gram
    matrix, so batched products replace a loop over tasks."""
    T, d = len(Xs), Xs[0].shape[1]
    n_max = max(X.shape[0] for X in Xs)
    X_pad, Y_pad = np.zeros((T, n_max, d)), np.zeros((T, n_max))
    for t, (X, y) in enumerate(zip(Xs, ys)):
        X_pad[t, : X.shape[0]] = X
        Y_pad[t, : y.shape[0]] = y
    return X_pad, Y_pad


class Loss:
    """Base of the losses; ``scaling`` in :data:`SCALINGS`."""

    name = "loss"

    def __init__(self, scaling="sum"):
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
        self.scaling = scaling

    def task_weights(self, data):
        """The per-task factor ``s_t``: 1 (``"sum"``) or ``1/n_t`` (``"mean"``)."""
        if self.scaling == "sum":
            return np.ones(data.n_tasks)
        return 1.0 / np.asarray(data.n_samples, dtype=float)

    def bind(self, data):
        raise NotImplementedError

    def value(self, W, data):
        return self.bind(data).value(W)

    def grad(self, W, data):
        return self.bind(data).grad(W)

    def lipschitz(self, data):
        """A Lipschitz constant of :meth:`grad`."""
        return self.bind(data).lipschitz()

    def __repr__(self):
        return f"{type(self).__name__}(scaling={self.scaling!r})"

    def _stacked_design(self, data, row_weights):
        """Block-diagonal ``diag(X_1, ..., X_T)`` acting on ``vec(W)``
        (column-major), rows scaled by ``row_weights``.

        One sparse product compiles much faster in CVXPY than ``T``
        separate slices of ``W``.
        """
        A = sp.block_diag([sp.csr_matrix(X) for X in data.Xs], format="csr")
        return sp.diags(row_weights) @ A


class SquaredLoss(Loss):
    r"""Squared loss ``sum_t s_t/2 ||y_t - X_t w_t||_2^2``.

    ``s_t = 1`` for ``scaling="sum"`` (default, as MALSAR and the papers)
    and ``s_t = 1/n_t`` for ``scaling="mean"`` (as scikit-learn).
    """

    name = "squared"

    def bind(self, data):
        return LeastSquares(data.Xs, data.ys, self.task_weights(data))

    def expr(self, W, data):
        cp = _cvxpy()
        s = self.task_weights(data)
        root = np.concatenate([np.full(n, np.sqrt(s_t)) for s_t, n in zip(s, data.n_samples)])
        A = self._stacked_design(data, root)
        b = root * np.concatenate(data.ys)
        return 0.5 * cp.sum_squares(A @ cp.vec(W, order="F") - b)


class LogisticLoss(Loss):
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

    def bind(self, data):
        labels = [self.signed_labels(y, t) for t, y in enumerate(data.ys)]
        return LogisticDatafit(data.Xs, labels, self.task_weights(data))

    def expr(self, W, data):
        cp = _cvxpy()
        s = self.task_weights(data)
        signs = np.concatenate([self.signed_labels(y, t) for t, y in enumerate(data.ys)])
        weights = np.concatenate([np.full(n, s_t) for s_t, n in zip(s, data.n_samples)])
        A = self._stacked_design(data, signs)
        return cp.sum(cp.multiply(weights, cp.logistic(-(A @ cp.vec(W, order="F")))))


_LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss}


def make_loss(loss, scaling="sum"):
    """A loss term from a name (``"squared"``, ``"logistic"``) or an instance."""
    if isinstance(loss, Loss):
        return loss
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)}, got {loss!r}")
    return _LOSSES[loss](scaling=scaling)


#: Fewest rows of ``W`` for which the residuals look for its support first:
#: below, the search costs more than it can save (a small problem's
#: iterations are dominated by the calls, and an STL grid makes 10^5 of them)
_SPARSE_ROWS = 128


class LeastSquares:
    """The squared loss bound to data: ``f(W) = sum_t s_t/2 ||y_t - X_t w_t||^2``.

    The data are stored once in whichever layout makes the products cheapest:

    * one design matrix shared by every task ("shared X"): ``X W`` is a
      single matrix product, and with ``n >= d`` the Gram matrix ``X^T X``
      replaces ``X``;
    * otherwise the tasks zero-padded into ``(T, n_max, d)``
      (:func:`pad_tasks`), or per-task Gram matrices ``(T, d, d)`` when
      ``n_max >= d``.

    Parameters
    ----------
    Xs : list of ndarray (n_t, d)
    ys : list of ndarray (n_t,)
    weights : ndarray (T,)
        ``s_t`` (1 for the "sum" scaling, ``1/n_t`` for "mean").
    """

    kind = "squared"

    def __init__(self, Xs, ys, weights):
        self.Xs, self.ys = list(Xs), list(ys)
        self.s = np.asarray(weights, dtype=float)
        T, d = len(Xs), Xs[0].shape[1]
        self.shape = (d, T)
        X0 = Xs[0]
        self.shared = same_design(Xs)
        self._L = None
        self._padded = None
        if self.shared:
            self.gram = X0.shape[0] >= d
            Y = np.column_stack(ys)
            self.yy = np.einsum("nt,nt->t", Y, Y)
            if self.gram:
                self.H, self.C = X0.T @ X0, X0.T @ Y
            else:
                self.X, self.Y = X0, Y
        else:
            self.yy = np.array([y @ y for y in ys])
            # per-task layouts are built on first use: a solver that reads the tasks in place (block
            # coordinate descent) never pays their memory (padding: up to 2.4x the data)
            self.gram = max(X.shape[0] for X in Xs) >= d

    def __getattr__(self, name):
        # only reached when the attribute is missing: the per-task layouts, built once
        if name in ("H", "C") and not self.__dict__.get("shared", True) and self.__dict__.get("gram"):
            self.H = np.stack([X.T @ X for X in self.Xs])
            self.C = np.column_stack([X.T @ y for X, y in zip(self.Xs, self.ys)])
            return self.__dict__[name]
        if name in ("X", "Y") and not self.__dict__.get("shared", True) and not self.__dict__.get("gram", True):
            self.X, self.Y = self.padded()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def padded(self):
        """``(X, Y)`` zero-padded per task (:func:`pad_tasks`), built once."""
        if self._padded is None:
            self._padded = pad_tasks(self.Xs, self.ys)
        return self._padded

    def restrict(self, rows):
        """The same least squares on the features ``rows`` only (a working
        set): ``f(W_rows)`` with the other rows of ``W`` held at zero."""
        # the layout first (built on first use), so that the restriction shares its pieces
        self.H if self.gram else self.X  # noqa: B018
        sub = object.__new__(LeastSquares)
        sub.__dict__.update(self.__dict__)
        sub._L = None
        sub.shape = (len(rows), self.shape[1])
        if self.gram:
            sub.C = self.C[rows]
            sub.H = self.H[np.ix_(rows, rows)] if self.shared else self.H[:, rows][:, :, rows]
        else:
            sub.X = self.X[:, rows] if self.shared else self.X[:, :, rows]
        return sub

    def lipschitz(self):
        """``max_t s_t ||X_t||_2^2`` (computed on first use, from the smaller
        of the two Gram matrices)."""
        if self._L is None:
            if self.gram:
                top = np.linalg.eigvalsh(self.H)[..., -1]
            else:
                # ||X||_2^2 is the top eigenvalue of X^T X and of X X^T:
                # take the smaller of the two
                Xt = np.swapaxes(self.X, -1, -2)
                small = Xt @ self.X if self.X.shape[-1] < self.X.shape[-2] else self.X @ Xt
                top = np.linalg.eigvalsh(small)[..., -1]
            self._L = float(np.max(self.s * top))
        return self._L

    def _residuals(self, W):
        X = self.X
        if W.shape[0] >= _SPARSE_ROWS:
            rows = np.flatnonzero(np.any(W != 0, axis=1))
            if 4 * len(rows) < W.shape[0]:
                # a working-set solver's global check sees a sparse W:
                # products with the support's columns only (a quarter of the
                # work or less; at d = 5000 with 250 non-zero rows, 20 times less)
                X, W = X[..., rows], W[rows]
        if self.shared:
            return self.Y - X @ W
        return self.Y - (X @ W.T[:, :, None])[..., 0]

    def _gram_times(self, W):
        if self.shared:
            return self.H @ W
        return (self.H @ W.T[:, :, None])[..., 0].T

    def _gradient_from_residuals(self, R):
        if self.shared:
            return -(self.X.T @ (R * self.s))
        return -(self.X.transpose(0, 2, 1) @ (R * self.s[:, None])[:, :, None])[..., 0].T

    def grad(self, W):
        """``grad f(W)``, column t equal to ``s_t X_t^T (X_t w_t - y_t)``."""
        if self.gram:
            return (self._gram_times(W) - self.C) * self.s
        return self._gradient_from_residuals(self._residuals(W))

    def stats(self, W):
        """``(grad, rr, ry)``: the gradient, and per task ``||r_t||^2`` and
        ``<r_t, y_t>`` with ``r_t = y_t - X_t w_t`` (what the duality gap
        needs)."""
        if self.gram:
            HW = self._gram_times(W)
            cw = np.einsum("dt,dt->t", self.C, W)
            rr = np.einsum("dt,dt->t", HW, W) - 2.0 * cw + self.yy
            return (HW - self.C) * self.s, np.maximum(rr, 0.0), self.yy - cw
        R = self._residuals(W)
        axes = "nt,nt->t" if self.shared else "tn,tn->t"
        return self._gradient_from_residuals(R), np.einsum(axes, R, R), np.einsum(axes, R, self.Y)

    def value(self, W):
        _, rr, _ = self.stats(W)
        return float(0.5 * self.s @ rr)


class LogisticDatafit:
    """The logistic loss bound to data (labels already in ``{-1, +1}``).

    The tasks are stacked zero-padded (:func:`pad_tasks`), the labels
    padded with 0: a padded row has margin 0 whatever ``W``, so it adds 0 to
    the gradient (its label multiplies it) and ``log 2`` to the value,
    which is subtracted."""

    kind = "logistic"

    def __init__(self, Xs, labels, weights):
        self.Xs, self.labels = list(Xs), list(labels)
        self.s = np.asarray(weights, dtype=float)
        self.shape = (Xs[0].shape[1], len(Xs))
        self._X, self._Y = pad_tasks(self.Xs, self.labels)
        self._padding = np.log(2.0) * float(self.s @ (self._X.shape[1] - np.array([len(y) for y in self.labels])))
        self._L = None

    def _margins(self, W):
        return self._Y * np.einsum("tnd,dt->tn", self._X, W)

    def value(self, W):
        return float(self.s @ np.logaddexp(0.0, -self._margins(W)).sum(axis=1) - self._padding)

    def grad(self, W):
        # d/dz log(1+e^{-z}) = -sigmoid(-z), written stably with expit
        weights = -self.s[:, None] * self._Y * expit(-self._margins(W))
        return np.einsum("tnd,tn->dt", self._X, weights)

    def lipschitz(self):
        """``max_t s_t ||X_t||_2^2 / 4`` (computed once)."""
        if self._L is None:
            self._L = float(max(s_t * np.linalg.norm(X, 2) ** 2 / 4 for s_t, X in zip(self.s, self.Xs)))
        return self._L
