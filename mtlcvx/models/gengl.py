"""SSMTL (Fei, Sun, Kudo, Kimura, ECAI 2023): multi-task learning with the
generalized group lasso, eq. (10):

    min_{W_1..W_h}  sum_t s_t/2 ||y_t - X_t sum_l w_{l,t}||^2 + sum_l sum_k gamma_lk ||D_lk vec(W_l)||_ggl

The shallow model SSMTL_m (``preset="ssmtl_m"``) puts four operations on
each component ``l = 1..h`` (Table 1, Figure 1a), with ``gamma_l = gamma /
phi^l`` as in the paper:

* task-level vector-wise clustering ``gamma1 / phi^l  sum_{j<k} ||w_:j - w_:k||_2``,
* feature-level vector-wise selection ``gamma2 / phi^-l ||W_l||_{2,1}``,
* task-level element-wise clustering ``gamma1 / phi^-l sum_i sum_{j<k} |w_ij - w_ik|``,
* feature-level element-wise selection ``gamma2 / phi^l ||W_l||_1``.

(Table 1 prints the third with a square, ``|w_ij - w_ik|^2``; the GenGL
form it instantiates, ``||pi_1^T W pi_2||_2`` with ``pi_1 in P_F``, ``pi_2
in P_F2``, is the absolute value, which is what we implement.)

Solvers: ``"fast"`` (default): the ADMM of
:func:`mtlcvx.solvers.gengl_admm.admm_gengl_squared`, exact, when every
operator is a selection or a pairwise task fusion (all presets; its linear
system is then solved in closed form), else the primal-dual splitting of
:func:`mtlcvx.solvers.primal_dual_group_norms`, exact for any ``D`` but
much slower (10^4 iterations and more at the paper's scenario sizes);
``"spg"``, the paper's smoothing proximal gradient, which solves a smoothed
problem (``smoothing`` = its ``mu``) and leaves a gap of at most ``mu`` times
half the number of groups (Nesterov's bound); ``"reference"``, CVXPY.
"""

import numpy as np

from .. import reference
from ..solvers import BlockLeastSquares, accelerated_proximal_gradient
from ..solvers.gengl_admm import admm_gengl_squared
from ..solvers.primal_dual import operator_norm_squared, primal_dual_group_norms
from ..terms import GENGL_PRESETS, GenGL, gengl_operator, gengl_preset, make_loss
from .base import MultiTaskEstimator, check_scalar_param

__all__ = ["SSMTL"]

#: ``D^T D`` of each (features, tasks) partition pair the ADMM handles:
#: ``I`` (selections) or ``L_T kron I`` (pairwise task fusion).
_STRUCTURE = {
    ("F", "C"): "identity", ("C", "F"): "identity", ("F", "F"): "identity", ("C", "C"): "identity",
    ("C", "F2"): "task_fusion", ("F", "F2"): "task_fusion",
}


class SSMTL(MultiTaskEstimator):
    """Structured sparse MTL with GenGL (SSMTL_m and the other linear
    presets of Table 1, or operators of your own).

    Parameters
    ----------
    h : int, default=2
        Number of components (ignored by the fixed-size presets ``"lasso"``,
        ``"gl"`` (1) and ``"rmtfl"`` (2)).
    gamma1, gamma2 : float, default=1.0
        ``gamma`` of the task-level (1) and feature-level (2) operations.
    phi : float, default=2.0
        Component factor: ``gamma_l = gamma / phi^l``.
    preset : str or list
        ``"ssmtl_m"``, ``"metag"``, ``"rmtfl"``, ``"gl"``, ``"lasso"``, or one
        list per component of ``(features, tasks)`` partition pairs
        (``"C"``, ``"F"``, ``"F2"``), each optionally with a third entry: its
        weight (default ``gamma1``).  This is how a new structured penalty is
        declared.
    solver : {"fast", "spg", "reference"}
    smoothing : float, default=1e-3
        ``mu`` of the smoothing proximal gradient (``solver="spg"``).
    tol, max_iter : stopping of the iterative solvers.
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=False
    random_state : unused (the problem is convex); kept for the estimator API.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
        ``sum_l W_l``.
    components_ : ndarray (h, n_features, n_tasks)
    gamma_ : ndarray
        The weight of every operator (components in order), as passed to
        the reference model.
    """

    solvers = ("fast", "spg", "reference")

    def __init__(self, h=2, gamma1=1.0, gamma2=1.0, phi=2.0, preset="ssmtl_m", solver="fast", smoothing=1e-3,
                 tol=1e-8, max_iter=50_000, scaling="sum", fit_intercept=False, random_state=None):
        self.h = h
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.phi = phi
        self.preset = preset
        self.solver = solver
        self.smoothing = smoothing
        self.tol = tol
        self.max_iter = max_iter
        self.scaling = scaling
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def _validate_params(self, data):
        check_scalar_param(self.h, "h", low=1, integer=True)
        check_scalar_param(self.gamma1, "gamma1", low=0)
        check_scalar_param(self.gamma2, "gamma2", low=0)
        check_scalar_param(self.phi, "phi", low=0, low_inclusive=False)
        check_scalar_param(self.smoothing, "smoothing", low=0, low_inclusive=False)
        check_scalar_param(self.tol, "tol", low=0, low_inclusive=False)
        check_scalar_param(self.max_iter, "max_iter", low=1, integer=True)
        if self.scaling not in ("sum", "mean"):
            raise ValueError(f"scaling must be 'sum' or 'mean', got {self.scaling!r}")
        if isinstance(self.preset, str) and self.preset not in GENGL_PRESETS:
            raise ValueError(f"preset must be one of {sorted(GENGL_PRESETS)} or a list of operator pairs, "
                             f"got {self.preset!r}")
        self._penalty(data)

    def _penalty(self, data):
        """``(GenGL, gamma vector)`` for the data's shape."""
        d, T = data.n_features, data.n_tasks
        if isinstance(self.preset, str):
            penalty, weights = gengl_preset(self.preset, d, T, h=self.h)
            return penalty, weights(self.gamma1, self.gamma2, self.phi)
        if not isinstance(self.preset, (list, tuple)) or not self.preset:
            raise ValueError("preset must be a preset name or a non-empty list (one per component) "
                             "of lists of (features, tasks[, weight]) partition pairs")
        operators, gammas = [], []
        for l, component in enumerate(self.preset):
            ops = []
            for entry in component:
                if len(entry) not in (2, 3):
                    raise ValueError(f"preset[{l}]: each operator is (features, tasks) or "
                                     f"(features, tasks, weight), got {entry!r}")
                ops.append(gengl_operator(d, T, entry[0], entry[1]))
                gammas.append(float(entry[2]) if len(entry) == 3 else float(self.gamma1))
            operators.append(ops)
        return GenGL(operators), np.array(gammas)

    def _reference_model(self, data):
        return reference.gengl(data, self._penalty(data)[0], scaling=self.scaling)

    def _reference_params(self):
        return {"gamma": self.gamma_}

    def _fit_weights(self, data):
        penalty, gamma = self._penalty(data)
        self.gamma_ = gamma
        h, d, T = penalty.n_components, data.n_features, data.n_tasks
        if self.solver == "reference":
            result = self._reference_model(data).solve(gamma=gamma)
            self.reference_result_ = result
            self.components_ = result.components
            self.n_iter_ = None
            return result.W
        ls = BlockLeastSquares(data.Xs, data.ys, make_loss("squared", self.scaling).task_weights(data))
        blocks = []
        i = 0
        for l, ops in enumerate(penalty.operators):
            for op in ops:
                blocks.append((l, op.D, op.group_size, float(gamma[i])))
                i += 1

        def grad(X):
            # rows of X are vec(W_l) (column-major); every component sees the
            # gradient of the loss at their sum
            G = ls.grad(X.sum(axis=0).reshape(T, d).T)
            return np.tile(G.T.ravel(), (h, 1))

        kinds = [_STRUCTURE.get(op.partitions) for ops in penalty.operators for op in ops]
        if self.solver == "fast" and all(kinds):
            components, info = admm_gengl_squared(
                data.Xs, data.ys, ls.s, [b + (k,) for b, k in zip(blocks, kinds)], h, tol=self.tol,
                max_iter=self.max_iter,
            )
            self.solver_info_ = info
            self.n_iter_ = info.n_iter
            self.components_ = components
            return components.sum(axis=0)
        if self.solver == "fast":
            X, info = primal_dual_group_norms(grad, h * ls.lipschitz, blocks, h, d * T, tol=self.tol,
                                              max_iter=self.max_iter)
        else:
            X, info = _smoothing_proximal_gradient(grad, h * ls.lipschitz, blocks, h, d * T, self.smoothing,
                                                   self.tol, self.max_iter)
        self.solver_info_ = info
        self.n_iter_ = info.n_iter
        self.components_ = np.array([x.reshape(T, d).T for x in X])
        return self.components_.sum(axis=0)

    def objective(self, Xs, ys=None):
        """Objective (10) at ``components_``."""
        data, _, _ = self._prepare(Xs, ys)
        return self._reference_model(data).objective_at(self.components_, gamma=self.gamma_)


def _smoothing_proximal_gradient(grad, lipschitz, blocks, n_components, size, mu, tol, max_iter):
    """The paper's SPG (eqs. 12-15): ``gamma ||D x||_ggl`` is replaced by its
    Nesterov smoothing ``max_{||beta_g|| <= 1} gamma beta^T D x - mu/2
    ||beta||^2``, whose gradient is ``gamma D^T beta*`` with ``beta*`` the
    group-wise projection of ``gamma D x / mu``; accelerated gradient with
    restart on the smoothed problem (Lipschitz ``L + max gamma^2 ||K||^2 /
    mu``), stopped on its gradient norm."""
    K2 = operator_norm_squared(blocks, n_components, size)
    gmax = max((gamma for *_, gamma in blocks), default=0.0)

    def smooth_grad(x_flat):
        X = x_flat.reshape(n_components, size)
        G = grad(X)
        for l, D, g, gamma in blocks:
            Z = (gamma * (D @ X[l]) / mu).reshape(-1, g)
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            beta = Z / np.maximum(norms, 1.0)
            G[l] += gamma * (D.T @ beta.ravel())
        return G.ravel()

    x, info = accelerated_proximal_gradient(
        smooth_grad, lambda v, step: v, np.zeros(n_components * size), lipschitz + gmax**2 * K2 / mu,
        tol=tol, max_iter=max_iter,
    )
    return x.reshape(n_components, size), info
