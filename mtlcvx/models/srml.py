"""SRML and SSML: sign-regularised multi-task learning (Bai, Torres, Wang,
Zhao, Abad, Vaca, "Sign-Regularized Multi-Task Learning", SDM 2023).

Not MALSAR's "SRMTL" (sparse structure-regularised MTL, a graph penalty
``||W R||_F^2``): SRML penalises *sign disagreements* between paired
tasks.  Problem (3.2), with the slacks eliminated (eq. 5.6)::

    min_W  sum_t L_t(w_t) + lam sum_t Omega(w_t) + c sum_{(t,t') in pairs} sum_j relu(-W_jt W_jt')

``Omega`` is ``||w||_2^2`` (eq. 4.4, not halved) or ``||w||_1`` (section
5.1); ``L_t`` the squared loss ``1/2 ||y_t - X_t w_t||^2`` (``scaling="sum"``)
or the logistic loss.  SSML replaces the penalty by the hard constraint
``W_jt W_jt' >= 0``.  The problem is not convex; the ADMM of (4.4)
(:func:`mtlcvx.solvers.srml.srml_admm`) finds a stationary point, from the
independent fit (the ``c = 0`` solution) unless told otherwise.
"""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import reference
from .._validation import Integer, Options, Real, check_finite_graph
from ..reference.srml import SRML_PENALTIES
from ..solvers import dispatch
from ..solvers.srml import sign_ustep, srml_admm, task_colouring
from ..terms import L1, Objective, SquaredFrobenius, make_loss
from ..terms.srml import SignConsistent, SignDisagreement, task_pairs
from .base import LinearMultiTaskModel

__all__ = ["SRML", "SSML", "srml_objective"]

#: ``rho = RHO_MARGIN * 2 H`` when ``rho="auto"``: Theorem 5.2 asks ``rho > 2H``.
RHO_MARGIN = 1.1


def srml_objective(data, lam, c, pairs, penalty="l2", loss="squared", scaling="sum", strict=False):
    """Eq. (4.3) at ``W = U`` (SRML), or SSML's objective with its
    constraint, as a numpy :class:`mtlcvx.terms.Objective` built from the
    same terms as the ADMM's subproblems (variable ``W``)."""
    datafit = make_loss(loss, scaling).bind(data)
    omega = SquaredFrobenius() if penalty == "l2" else L1()
    penalties = [(omega.bind(lam), "W")]
    constraints = []
    if strict:
        constraints.append((SignConsistent(pairs), "W"))
    else:
        penalties.append((SignDisagreement(pairs).bind(c), "W"))
    return Objective(datafit, {"W": (data.n_features, data.n_tasks)}, ("W",), penalties, constraints)


class _SignRegularized(LinearMultiTaskModel):
    """What SRML and SSML share: the ADMM around the declared w-step."""

    _strict = False

    _hyperparameters = {
        "lam": Real(low=0),
        "penalty": Options(*SRML_PENALTIES),
        "loss": Options("squared", "logistic"),
        "max_iter": Integer(low=1),
        "tol": Real(low=0, low_inclusive=False),
        "wstep_tol": Real(low=0, low_inclusive=False),
        "init": Options("independent", "random"),
    }

    def __init__(self, lam=1.0, rho="auto", pairs="chain", penalty="l2", loss="squared", max_iter=5000, tol=1e-6,
                 wstep_tol=1e-10, init="independent", fit_intercept=True, scaling="sum", solver="fast",
                 random_state=None):
        # SSML's signature; SRML adds c
        self.lam = lam
        self.rho = rho
        self.pairs = pairs
        self.penalty = penalty
        self.loss = loss
        self.max_iter = max_iter
        self.tol = tol
        self.wstep_tol = wstep_tol
        self.init = init
        self.fit_intercept = fit_intercept
        self.scaling = scaling
        self.solver = solver
        self.random_state = random_state

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if not (isinstance(self.rho, str) and self.rho == "auto"):
            Real(low=0, low_inclusive=False).check("rho", self.rho, self, data)
        task_pairs(check_finite_graph(self.pairs, "pairs"), data.n_tasks)

    @property
    def _c(self):
        return 0.0 if self._strict else float(self.c)

    def _reference_model(self, data):
        return reference.srml_wstep(data, self.penalty, self.loss, self.scaling)

    def _reference_params(self):
        return {"lam": float(self.lam)}

    def _fitted_reference_params(self):
        return {"u": self.admm_state_["u"], "y": self.admm_state_["y_w_step"], "rho": self.rho_}

    def _reference_candidate(self):
        return self.admm_state_["w"]

    def _independent(self, data):
        """The ``c = 0`` fit (independent ridge, lasso or logistic), from
        the same terms."""
        omega = SquaredFrobenius() if self.penalty == "l2" else L1()
        model = reference.ReferenceModel(data, ["W"], self.loss, terms=[("lam", omega, "W")], scaling=self.scaling)
        if self.solver == "reference":
            return model.solve(lam=float(self.lam)).W
        variables, _ = dispatch.solve(model.numeric(lam=float(self.lam)), tol=self.wstep_tol, max_iter=100_000)
        return variables["W"]

    def _w_step(self, data, rho):
        """``(U, Y, W_previous) -> W``: the dispatcher on the declared
        w-step (closed form for squared loss and l2, factorised once), or
        the CVXPY reference compiled once (``solver="reference"``)."""
        model = self._reference_model(data)
        lam = float(self.lam)
        if self.solver == "reference":
            return lambda U, Y, W: model.solve(u=U, y=Y, rho=rho, lam=lam).W

        def step(U, Y, W):
            variables, _ = dispatch.solve(model.numeric(u=U, y=Y, rho=rho, lam=lam), tol=self.wstep_tol,
                                          max_iter=100_000, start={"W": W})
            return variables["W"]

        return step

    def _fit_weights(self, data):
        pairs = task_pairs(self.pairs, data.n_tasks)
        objective = srml_objective(data, float(self.lam), self._c, pairs, self.penalty, self.loss, self.scaling,
                                   self._strict)
        smooth_lipschitz = objective.datafit.lipschitz() + (2.0 * self.lam if self.penalty == "l2" else 0.0)
        rho = RHO_MARGIN * 2.0 * smooth_lipschitz if isinstance(self.rho, str) else float(self.rho)
        W0 = self._independent(data)
        if self.init == "random":
            rng = check_random_state(self.random_state)
            scale = np.sqrt(np.mean(W0 ** 2)) or 1.0
            W0 = scale * rng.standard_normal(W0.shape)
        # 0 is in the subdifferential of f at the independent fit: Y = 0 is its consistent dual
        Y0 = np.zeros_like(W0)
        if self._strict:
            u_step = lambda V, U: SignConsistent(pairs).project(V)  # noqa: E731
        else:
            classes, adjacency = task_colouring(pairs, data.n_tasks)
            u_step = lambda V, U: sign_ustep(V, U, classes, adjacency, self._c, rho)  # noqa: E731
        W, U, Y, info, history = srml_admm(u_step, self._w_step(data, rho), lambda U: objective.value({"W": U}),
                                           rho, W0, Y0, tol=self.tol, max_iter=self.max_iter)
        self.pairs_ = pairs
        self.rho_ = rho
        self.H_ = float(smooth_lipschitz)
        self.rho_satisfies_theorem_ = bool(rho > 2.0 * smooth_lipschitz)
        self.admm_state_ = {"w": W, "u": U, "y": Y, "y_w_step": Y - rho * (W - U)}
        self.n_iter_ = info.n_iter
        self.converged_ = info.converged
        self.solver_info_ = info
        self.objective_path_ = history.objective
        self.residuals_ = history.residuals()
        self.sign_violations_ = SignDisagreement(pairs).violations(U)
        return U

    def objective(self, Xs, ys=None):
        """Eq. (4.3) at ``coef_`` (SRML), or SSML's objective (``inf`` if a
        constraint is violated), on centred data when ``fit_intercept=True``;
        numpy only (the problem has no convex reference)."""
        check_is_fitted(self, "coef_")
        data = self._check_fitted_data(self._prepare(Xs, ys)[0])
        pairs = task_pairs(self.pairs, data.n_tasks)
        return srml_objective(data, float(self.lam), self._c, pairs, self.penalty, self.loss, self.scaling,
                              self._strict).value({"W": self.coef_})


_DOC_COMMON = """
    lam : float >= 0, default=1.0
        ``lambda``, weight of ``Omega``.
    rho : float > 0 or "auto", default="auto"
        The ADMM penalty; ``"auto"`` is ``1.1 * 2H`` with ``H`` the
        Lipschitz constant of the gradient of the smooth part ``f`` (loss,
        plus ``2 lam`` for ``"l2"``): Theorem 5.2 proves convergence for
        ``rho > 2H``.  Definition 5.3's ``H`` is the loss's alone, written
        for ``||y - Xw||^2`` (``H_r = max_t 2||X_t^T X_t||``); ours is the
        same quantity for our loss scaling.  ``rho_satisfies_theorem_``
        reports whether the ``rho`` used satisfies it.
    pairs : "chain", "all", list of (t, t'), adjacency matrix or graph, default="chain"
        The tasks whose signs are compared (:func:`mtlcvx.terms.task_pairs`):
        the paper's adjacent tasks ``(t, t+1)``, every pair, or your own.
    penalty : {"l2", "l1"}, default="l2"
        ``Omega``: ``||w_t||_2^2`` (eq. 4.4) or ``||w_t||_1`` (section 5.1).
    loss : {"squared", "logistic"}, default="squared"
        Logistic labels in ``{-1, +1}`` or ``{0, 1}``; needs
        ``fit_intercept=False``.
    max_iter : int, default=5000
        ADMM iterations.
    tol : float, default=1e-6
        Stop when the relative primal residual ``||W - U|| / max(||W||,
        ||U||)`` and the relative change of ``W`` are both below it.
    wstep_tol : float, default=1e-10
        Tolerance of an iterative w-step (l1 or logistic: the gradient-mapping
        norm of the proximal gradient); the squared loss with l2 is solved in
        closed form.
    init : {"independent", "random"}, default="independent"
        Start from the independent fit (the ``c = 0`` solution) with ``Y =
        0``, or from a Gaussian ``W`` of the same scale (``random_state``):
        the problem is not convex, and the start can matter.
    fit_intercept : bool, default=True
    scaling : {"sum", "mean"}, default="sum"
        The loss scaling (the paper's is ``"sum"``).
    solver : {"fast", "reference"}, default="fast"
        The w-step: the fast solver the dispatcher picks, or the CVXPY
        reference (compiled once, DPP).
    random_state : int, RandomState or None
        Only used by ``init="random"``.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
        ``U`` at the last iterate (SSML's satisfies every constraint exactly).
    intercept_ : ndarray (n_tasks,)
    n_iter_ : int
    converged_ : bool
    objective_path_ : list of float
        The objective at ``U`` after every iteration (Figure 2a).
    residuals_ : ndarray (n_iter, 2)
        Primal ``||W - U||_F`` and dual ``rho ||W^k - W^{k-1}||_F`` residuals
        (Figures 2b, 2c).
    rho_ : float
    H_ : float
    rho_satisfies_theorem_ : bool
    pairs_ : ndarray (K, 2)
    sign_violations_ : int
        (pair, feature) entries of ``coef_`` with strictly opposite signs.
    admm_state_ : dict
        ``w``, ``u``, ``y`` at the end, and ``y_w_step``, the dual the last
        w-step saw: ``est.reference_model(data)`` returns that w-step and
        its parameters, so ``mtlcvx.verify`` certifies it.
"""


class SRML(_SignRegularized):
    __doc__ = """Sign-regularised MTL (Bai et al., SDM 2023), problem (3.2)/(4.3)::

        min_W  sum_t L_t(w_t) + lam sum_t Omega(w_t) + c sum_{(t,t') in pairs} sum_j relu(-W_jt W_jt')

    solved by the non-convex ADMM of (4.4): u-step by exact coordinate
    minimisation (closed form per coordinate, Gauss-Seidel over tasks),
    w-step declared in CVXPY (:func:`mtlcvx.reference.srml_wstep`) and
    solved by its fast solver, dual ascent.  Not MALSAR's SRMTL.

    Parameters
    ----------
    c : float >= 0, default=1.0
        Weight of the sign-disagreement penalty (the slack cost); ``c = 0``
        gives independent ridge / lasso / logistic fits.""" + _DOC_COMMON

    _hyperparameters = {"c": Real(low=0)}

    def __init__(self, lam=1.0, c=1.0, rho="auto", pairs="chain", penalty="l2", loss="squared", max_iter=5000,
                 tol=1e-6, wstep_tol=1e-10, init="independent", fit_intercept=True, scaling="sum", solver="fast",
                 random_state=None):
        self.c = c
        super().__init__(lam, rho, pairs, penalty, loss, max_iter, tol, wstep_tol, init, fit_intercept, scaling, solver,
                         random_state)


class SSML(_SignRegularized):
    __doc__ = """Strict sign-regularised MTL (the paper's SSML baseline)::

        min_W  sum_t L_t(w_t) + lam sum_t Omega(w_t)   s.t.  W_jt W_jt' >= 0 for every pair and feature

    The same ADMM as :class:`SRML` with the u-step replaced by the exact
    projection onto sign-consistent matrices
    (:func:`mtlcvx.terms.project_sign_consistent`); ``coef_`` is the
    projected ``U``, so every constraint holds exactly.

    Parameters
    ----------""" + _DOC_COMMON

    _strict = True
