"""BiGMTL: bilevel discovery of task groups with a trace-norm lower level
(Frecon, Salzo, Pontil, "Unveiling Groups of Related Tasks in Multi-Task
Learning", ICPR 2020).

Bilevel problem (2)-(4)::

    min_{theta in Theta}  C(W_hat(theta)) = 1/2 sum_t ||y_t^val - X_t^val w_t(theta)||^2
    W_hat(theta) = argmin_W 1/2 sum_t ||y_t - X_t w_t||^2 + eps/2 ||W||_F^2 + lam sum_l ||theta_l o W||_tr

``theta`` is ``T x L`` with rows on the simplex (Theta), ``theta_l o W``
scales task ``t``'s column by ``theta[t, l]``: task ``t`` belongs to group
``l`` with weight ``theta[t, l]``, and each group has its own trace norm.

Outer loop (Algorithm 2): projected gradient on Theta (every row projected
onto the simplex) with the hypergradient of Algorithm 1
(:func:`mtlcvx.bilevel.bigmtl_hypergradient`), in the paper's four variants
and its baseline:

=============  =======================================================================
``strategy``   per outer iteration
=============  =======================================================================
``"cv"``       fixed train/validation split; ``n_inner`` (Q, default 500) dual
               iterations from ``U = 0``
``"cv+wr"``    fixed split; one dual iteration warm-restarted from the last ``U``,
               gradients averaged with momentum ``beta_k = (k-1)/k``
``"mccv"``     one of ``n_splits`` random splits of every task's samples, drawn at
               random; Q iterations from 0
``"mccv+wr"``  one of the random splits, one iteration warm-restarted from that
               split's last ``U``; momentum
``"alternate"``  problem (21): on all the training data, Q dual iterations in
               ``W`` (warm-restarted) then Q projected subgradient steps in
               ``theta`` on the lower-level objective (no validation)
=============  =======================================================================

Step ``alpha = 1 / L_est`` with ``L_est`` the paper's estimate (Remark II.1:
the largest ratio ``||grad U(theta_i) - grad U(theta_j)|| / ||theta_i -
theta_j||`` over 5 random ``theta``, with the hypergradient at
``max(Q, 100)`` inner iterations).  A sampled ratio can underestimate the
Lipschitz constant; on ``"cv"``, where the objective is deterministic, the
step backtracks (halves) until the descent-lemma condition ``U(theta+) <=
U(theta) + <g, theta+ - theta> + ||theta+ - theta||^2 / (2 alpha)`` holds,
so the validation objective never increases (tested).  The stochastic
variants keep the step.

After the outer loop the weights are refitted on all the data with the
learned ``theta`` (the lower level solved exactly: the ADMM the dispatcher
picks, or the CVXPY reference with ``solver="reference"``).
"""

import warnings

import numpy as np
from sklearn.utils import check_random_state

from .. import reference
from .._errors import ConvergenceWarning
from .._validation import Integer, Options, Real
from ..bilevel import BiGMTLHypergradient, project_rows_to_simplex, validation_error
from ..solvers.bregman import TraceGroupsDual
from ..terms import SquaredLoss
from .base import LinearMultiTaskModel

__all__ = ["BiGMTL", "STRATEGIES", "group_error"]

STRATEGIES = ("cv", "cv+wr", "mccv", "mccv+wr", "alternate")

#: Relative duality gap of the lower-level solves of ``hypergradient="exact"``
#: (the adjoint to ``10 EXACT_TOL``): an outer step needs no more, and
#: the ADMM took up to 12,700 iterations for ``1e-10`` near the vertices of
#: Theta, measured.
EXACT_TOL = 1e-8

#: The warm-restart variants stop only once the dual iterate certifies the
#: lower level to this relative gap (see ``BiGMTL._inner_converged``).
INNER_GAP = 1e-3


def group_error(theta, theta_true):
    """Relative group error ``||theta theta^T - theta* theta*^T||_F^2 /
    ||theta* theta*^T||_F^2``: ``theta theta^T`` (``T x T``, how much two
    tasks share a group) does not change when groups are relabelled or when
    the two have different numbers of groups, which a distance between the
    ``theta`` themselves would."""
    A = np.asarray(theta) @ np.asarray(theta).T
    B = np.asarray(theta_true) @ np.asarray(theta_true).T
    return float(np.sum((A - B) ** 2) / np.sum(B**2))


class BiGMTL(LinearMultiTaskModel):
    """Bilevel grouping for multi-task learning (BiGMTL); see the module
    docstring for the problem and the outer loop.

    Parameters
    ----------
    n_groups : int, default=3
        ``L``, the largest number of groups (some may end up empty).
    lam : float > 0, default=1.0
        ``lambda`` of the trace norms.
    eps : float > 0, default=1e-3
        ``epsilon`` of the lower level's ridge (the paper's value).
    strategy : {"cv", "cv+wr", "mccv", "mccv+wr", "alternate"}, default="mccv+wr"
    n_inner : int, optional
        ``Q``, dual iterations per hypergradient: default 500 for ``"cv"``,
        ``"mccv"`` and ``"alternate"`` (the paper's), 1 for the warm-restart
        variants (which need 1).
    max_iter : int, default=200
        Outer iterations ``K``.
    tol : float, default=1e-4
        Stop when the mean absolute change of ``theta`` over one outer
        iteration is below ``tol`` (the paper's criterion and value); the
        warm-restart variants also need their running lower level
        certified to a relative duality gap of ``1e-3`` (else they would
        stop at once, ``U`` starting at 0).
    val_fraction : float in (0, 1), default=0.5
        Share of every task's samples in the validation part (the paper
        splits in halves).
    n_splits : int, default=10
        The Monte-Carlo variants draw, at every outer iteration, one of
        ``n_splits`` random splits made at the start; with ``"mccv+wr"``
        each split keeps its own warm-restarted dual iterate.  (Carrying one
        dual iterate from a split to another is unstable: with ``n_t < P``
        and ``eps = 1e-3`` the validation error of the paper's setting grew
        from 38 to 300 within 50 outer iterations, measured; a finite pool
        is the stochastic optimization of the paper's problem (20) over
        those splits.)
    hypergradient : {"unrolled", "exact"}, default="unrolled"
        ``"unrolled"``: Algorithm 1 through the Q dual iterations, the
        gradient of the paper's approximate problem II.2; ``"exact"`` (CV
        and MCCV only): the gradient of problem II.1 itself, by implicit
        differentiation of the ADMM's fixed point at the exact lower-level
        solution (:meth:`mtlcvx.bilevel.BiGMTLHypergradient.fixed_point`).
        At ``eps = 1e-3`` Algorithm 1's gradient is still 10 % from the
        exact one after Q = 10^4 (measured on the synthetic set), so the two
        problems differ.
    refit_tol : float, default=1e-7
        Relative duality gap of the final refit (the ADMM; with ``eps =
        1e-3`` and fewer samples than features it converges slowly, and
        ``1e-7`` is far below what predictions notice).
    fit_intercept : bool, default=True
    scaling : {"sum", "mean"}
        The lower level's loss scaling (the paper's is ``"sum"``).
    solver : {"fast", "reference"}
        The final refit: ADMM or CVXPY.
    random_state : int, RandomState or None
        The initial ``theta`` (Dirichlet), the splits and the Lipschitz
        samples.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
    theta_ : ndarray (n_tasks, n_groups)
    labels_ : ndarray (n_tasks,)
        ``argmax_l theta[t, l]``.
    objective_path_ : list of float
        The upper objective at each outer iteration (the validation error
        of the current split; for ``"alternate"`` the lower-level
        objective).
    step_ : float
        The outer step ``alpha`` in use at the end.
    n_iter_ : int
    """

    _hyperparameters = {
        "n_groups": Integer(low=1, high="n_tasks"),
        "lam": Real(low=0, low_inclusive=False),
        "eps": Real(low=0, low_inclusive=False),
        "strategy": Options(*STRATEGIES),
        "max_iter": Integer(low=1),
        "tol": Real(low=0),
        "val_fraction": Real(0, 1, low_inclusive=False, high_inclusive=False),
        "n_splits": Integer(low=1),
        "refit_tol": Real(low=0, low_inclusive=False),
        "hypergradient": Options("unrolled", "exact"),
    }

    def __init__(self, n_groups=3, lam=1.0, eps=1e-3, strategy="mccv+wr", n_inner=None, max_iter=200, tol=1e-4,
                 val_fraction=0.5, n_splits=10, hypergradient="unrolled", refit_tol=1e-7, fit_intercept=True,
                 scaling="sum", solver="fast", random_state=None):
        self.n_groups = n_groups
        self.lam = lam
        self.eps = eps
        self.strategy = strategy
        self.n_inner = n_inner
        self.max_iter = max_iter
        self.tol = tol
        self.val_fraction = val_fraction
        self.n_splits = n_splits
        self.hypergradient = hypergradient
        self.refit_tol = refit_tol
        self.fit_intercept = fit_intercept
        self.scaling = scaling
        self.solver = solver
        self.random_state = random_state

    # -- declarations ---------------------------------------------------------
    @property
    def _warm(self):
        return self.strategy.endswith("+wr")

    def _inner(self):
        if self.n_inner is not None:
            return self.n_inner
        return 1 if self._warm else 500

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if self.n_inner is not None:
            Integer(low=1).check("n_inner", self.n_inner, self, data)
        if self._warm and self.hypergradient == "exact":
            raise ValueError(f"strategy={self.strategy!r} warm-restarts the unrolled solver: "
                             "hypergradient='exact' goes with 'cv' or 'mccv'")
        if self._warm and self._inner() != 1:
            raise ValueError(f"strategy={self.strategy!r} warm-restarts one inner iteration per outer "
                             f"iteration: n_inner must be 1 (or None), got {self.n_inner!r}")
        if self.strategy != "alternate" and min(data.n_samples) < 2:
            raise ValueError("every task needs at least 2 samples to split into training and validation parts")

    def _reference_model(self, data):
        return reference.bigmtl_lower(data, self.n_groups, scaling=self.scaling)

    def _reference_params(self):
        return {"lam": float(self.lam), "eps": float(self.eps)}

    def _fitted_reference_params(self):
        return {"theta": self.theta_}

    def _solver_options(self):
        return dict(tol=self.refit_tol, max_iter=50_000)

    # -- the outer loop ---------------------------------------------------------
    def _split(self, data, rng):
        train, val = data.split(test_size=self.val_fraction, random_state=rng)
        return BiGMTLHypergradient(train, val, self.n_groups, self.eps, self.scaling)

    def _hypergradient(self, hyper, theta, Q, U0=None):
        """``(value, gradient, U)``: Algorithm 1 through ``Q`` iterations, or
        the exact hypergradient (the ADMM's fixed point; ``U`` None)."""
        if self.hypergradient == "exact":
            # near the faces of Theta the hypergradient is not defined in the
            # zero entries and the adjoint system stops converging (measured):
            # a capped, silent solve is what a projected step can use there
            return (*hyper.fixed_point(theta, self.lam, tol=EXACT_TOL, max_products=3000, warn=False), None)
        return hyper.reverse(theta, self.lam, Q, U0=U0)

    def _value(self, hyper, theta, Q):
        if self.hypergradient == "exact":
            return validation_error(hyper.solve(theta, self.lam, tol=EXACT_TOL)[0], hyper.val)[0]
        return hyper.value(theta, self.lam, Q)

    def _lipschitz_estimate(self, hyper, rng, samples=5):
        """Remark II.1: the largest ratio of gradient to argument differences
        over ``samples`` random points of Theta."""
        Q = max(self._inner(), 100)
        thetas = [rng.dirichlet(np.ones(self.n_groups), size=hyper.train.n_tasks) for _ in range(samples)]
        grads = [self._hypergradient(hyper, theta, Q)[1] for theta in thetas]
        # with one group Theta is a single point (every row is [1]): no two
        # samples differ, and any step projects back onto it
        ratios = [np.linalg.norm(grads[i] - grads[j]) / np.linalg.norm(thetas[i] - thetas[j])
                  for i in range(samples) for j in range(i + 1, samples) if np.any(thetas[i] != thetas[j])]
        return max(max(ratios, default=1.0), 1e-12)

    def _bilevel(self, data, rng, theta):
        monte_carlo = self.strategy.startswith("mccv")
        splits = [self._split(data, rng) for _ in range(self.n_splits if monte_carlo else 1)]
        states = [None] * len(splits)  # each split's warm-restarted dual iterate
        hyper = splits[0]
        step = 1.0 / self._lipschitz_estimate(hyper, rng)
        Q = self._inner()
        momentum, path = None, []
        converged = False
        for k in range(self.max_iter):
            index = rng.randint(len(splits)) if monte_carlo else 0
            hyper = splits[index]
            value, grad, U = self._hypergradient(hyper, theta, Q, U0=states[index] if self._warm else None)
            if self._warm:
                states[index] = U
                beta = (k - 1) / k if k >= 1 else 0.0
                momentum = grad if momentum is None else beta * momentum + (1.0 - beta) * grad
                direction = momentum
            else:
                direction = grad
            new = project_rows_to_simplex(theta - step * direction)
            if self.strategy == "cv":
                new, step = self._backtrack(hyper, theta, value, grad, step, Q)
            path.append(value)
            change = float(np.mean(np.abs(new - theta)))
            theta = new
            if change < self.tol and (not self._warm or self._inner_converged(hyper, theta, U)):
                converged = True
                break
        self.step_ = step
        return theta, path, k + 1, converged

    def _inner_converged(self, hyper, theta, U):
        """A warm-restarted lower level runs alongside the outer loop: at the
        start ``theta`` barely moves because ``U`` is still near 0, not
        because the outer loop has converged.  Stop only when the dual
        iterate also certifies the lower level to a relative gap of
        :data:`INNER_GAP`."""
        W = hyper.lower.primal_weights(U, theta)
        primal = hyper.lower.primal(W, theta, self.lam)
        return (primal - hyper.lower.dual(U, theta)) <= INNER_GAP * max(1.0, abs(primal))

    def _backtrack(self, hyper, theta, value, grad, step, Q):
        for _ in range(60):
            new = project_rows_to_simplex(theta - step * grad)
            move = new - theta
            if self._value(hyper, new, Q) <= value + np.vdot(grad, move) + np.vdot(move, move) / (2 * step):
                return new, step
            step /= 2.0
        return theta, step

    def _alternate(self, data, rng, theta):
        """Problem (21): ``n_inner`` dual iterations in ``W`` (warm-restarted),
        then ``n_inner`` projected subgradient steps in ``theta`` on ``lam
        sum_l ||theta_l o W||_tr`` (steps ``0.5 / (||g||_max sqrt(j + 1))``,
        the best iterate kept), on all the training data."""
        lower = TraceGroupsDual(data.Xs, data.ys, self.eps, SquaredLoss(self.scaling).task_weights(data))
        Q = self._inner()
        U, path, converged = None, [], False
        for k in range(self.max_iter):
            W, U, _ = lower.forward(theta, self.lam, Q, U0=U)
            new = _theta_step(W, theta, self.lam, Q)
            path.append(lower.primal(W, new, self.lam))
            change = float(np.mean(np.abs(new - theta)))
            theta = new
            if change < self.tol:
                converged = True
                break
        self.step_ = None
        return theta, path, k + 1, converged

    def _fit_weights(self, data):
        rng = check_random_state(self.random_state)
        theta = rng.dirichlet(np.ones(self.n_groups), size=data.n_tasks)
        run = self._alternate if self.strategy == "alternate" else self._bilevel
        theta, path, n_iter, converged = run(data, rng, theta)
        if not converged:
            warnings.warn(f"BiGMTL ({self.strategy}): the outer loop stopped at max_iter={self.max_iter} before "
                          f"the mean change of theta fell below tol={self.tol:.1e}", ConvergenceWarning, stacklevel=3)
        self.theta_ = theta
        self.labels_ = np.argmax(theta, axis=1)
        self.objective_path_ = path
        W = super()._fit_weights(data)
        self.n_iter_ = n_iter
        return W


def _theta_step(W, theta, lam, n_steps):
    """Projected subgradient on ``theta -> lam sum_l ||W diag(theta_l)||_*``
    over Theta: the gradient of ``||W diag(theta_l)||_*`` in ``theta_tl`` is
    ``w_t^T (A_l B_l^T)[:, t]`` (``A_l S B_l^T`` the SVD, where the norm is
    differentiable)."""
    def value_and_grad(th):
        total, grad = 0.0, np.zeros_like(th)
        for l in range(th.shape[1]):
            A, s, Bt = np.linalg.svd(W * th[:, l], full_matrices=False)
            keep = s > 1e-12 * max(1.0, s.max(initial=0.0))
            total += s.sum()
            grad[:, l] = np.einsum("pt,pt->t", W, A[:, keep] @ Bt[keep])
        return lam * total, lam * grad

    best_value, best = value_and_grad(theta)[0], theta
    for j in range(n_steps):
        value, grad = value_and_grad(theta)
        if value < best_value:
            best_value, best = value, theta
        scale = np.abs(grad).max()
        if scale == 0:
            break
        theta = project_rows_to_simplex(theta - 0.5 / (scale * np.sqrt(j + 1.0)) * grad)
    value, _ = value_and_grad(theta)
    return theta if value < best_value else best
