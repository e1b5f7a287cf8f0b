"""SSMTL (Fei, Sun, Kudo, Kimura, ECAI 2023): multi-task learning with the
generalized group lasso, eq. (10):

    min_{W_1..W_h}  sum_t s_t/2 ||y_t - X_t sum_l w_{l,t}||^2 + sum_l sum_k gamma_lk ||D_lk vec(W_l)||_ggl

The shallow model SSMTL_m (``preset="ssmtl_m"``) puts four operations on
each component ``l = 1..h`` (Table 1, Figure 1a).  Each preset's operators
and weights (``gamma1``, ``gamma2``, ``phi``), read off
:data:`mtlcvx.terms.GENGL_PRESETS`:

===========  ==========  ===============  ============================================  ====================
preset       component   (features,       operation                                     weight
                         tasks)
===========  ==========  ===============  ============================================  ====================
``lasso``    1           ``(F, F)``       feature-level element-wise selection          ``gamma1``
``gl``       1           ``(F, C)``       feature-level vector-wise selection (L21)     ``gamma1``
``rmtfl``    1           ``(F, C)``       feature-level vector-wise selection (L21)     ``gamma1``
\\            2           ``(C, F)``       task-level vector-wise selection (outliers)   ``gamma2``
``metag``    l = 1..h    ``(C, F2)``      task-level vector-wise clustering             ``gamma1 / phi^l``
``ssmtl_m``  l = 1..h    ``(C, F2)``      task-level vector-wise clustering             ``gamma1 / phi^l``
\\            \\           ``(F, C)``       feature-level vector-wise selection           ``gamma2 * phi^l``
\\            \\           ``(F, F2)``      task-level element-wise clustering            ``gamma1 * phi^l``
\\            \\           ``(F, F)``       feature-level element-wise selection          ``gamma2 / phi^l``
===========  ==========  ===============  ============================================  ====================

So ``gamma1`` weights the task-level and ``gamma2`` the feature-level
operations of ``metag`` and ``ssmtl_m``; in ``lasso``, ``gl`` and
``rmtfl``, ``gamma1`` weights the first operator (feature-level) and
``gamma2`` rMTFL's outlier tasks.  (Table 1 prints the task-level
element-wise clustering with a square, ``|w_ij - w_ik|^2``; the GenGL form
it instantiates, ``||pi_1^T W pi_2||_2`` with ``pi_1 in P_F``, ``pi_2 in
P_F2``, is the absolute value, which is what we implement.)

Weights of 0 are valid: an operator of weight 0 is dropped, and with every
weight 0 the answer is least squares, each task's minimum-norm solution
split evenly over the components.  A negative or NaN weight (``preset``'s
third entries, or ``gamma * phi^l`` overflowing) is refused at ``fit``.

Solvers (chosen by :mod:`mtlcvx.solvers.dispatch` from the operators'
declared structure): ``"fast"`` (default) is the closed-form ADMM of
:func:`mtlcvx.solvers.admm_task_laplacian` when every operator is a
selection or a pairwise task fusion (all presets), else the primal-dual
splitting of :func:`mtlcvx.solvers.primal_dual_group_norms`, exact for any
``D`` but much slower (10^4 iterations and more at the paper's scenario
sizes); ``"spg"``, the paper's smoothing proximal gradient, which solves a
smoothed problem (``smoothing`` = its ``mu``) and leaves a gap of at most
``mu`` times half the number of groups (Nesterov's bound); ``"reference"``,
CVXPY.
"""

import numpy as np

from .. import reference
from .._validation import GenGLPreset, Integer, Options, Real
from ..solvers import SmoothingGradient
from ..terms import GENGL_PRESETS, PARTITIONS, GenGL, gengl_operator, gengl_preset, preset_weights
from .base import LinearMultiTaskModel

__all__ = ["SSMTL"]


class SSMTL(LinearMultiTaskModel):
    """Structured sparse MTL with GenGL (SSMTL_m and the other linear
    presets of Table 1, or operators of your own); see the module docstring
    for the table of each preset's operators and weights.

    Parameters
    ----------
    h : int, default=2
        Number of components (ignored by the fixed-size presets ``"lasso"``,
        ``"gl"`` (1) and ``"rmtfl"`` (2)).
    gamma1, gamma2 : float, default=1.0
        The weights of the preset's operators (table in the module
        docstring): ``gamma1`` the task-level and ``gamma2`` the
        feature-level operations of ``"metag"`` and ``"ssmtl_m"``.
    phi : float, default=2.0
        Component factor: ``gamma_l = gamma / phi^l`` (or ``gamma phi^l``).
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
    fit_intercept : bool, default=True
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

    _hyperparameters = {
        "h": Integer(low=1),
        "gamma1": Real(low=0),
        "gamma2": Real(low=0),
        "phi": Real(low=0, low_inclusive=False),
        "solver": Options("fast", "spg", "reference"),
        "smoothing": Real(low=0, low_inclusive=False),
        "tol": Real(low=0, low_inclusive=False),
        "max_iter": Integer(low=1),
        "preset": GenGLPreset(GENGL_PRESETS, PARTITIONS),
    }

    def __init__(self, h=2, gamma1=1.0, gamma2=1.0, phi=2.0, preset="ssmtl_m", solver="fast", smoothing=1e-3,
                 tol=1e-8, max_iter=50_000, scaling="sum", fit_intercept=True, random_state=None):
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

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        self._operators(data)
        self._reference_params()  # the weights, before any iteration

    def _custom(self):
        """The custom list ``[[(features, tasks[, weight]), ...], ...]``
        (checked at ``fit`` by its :class:`~mtlcvx._validation.GenGLPreset`
        constraint: shapes, partitions, weights finite and ``>= 0``; a
        negative weight used to run the solver for its 50,000 iterations)."""
        return self.preset

    def _operators(self, data):
        """The GenGL penalty's operators for the data's shape."""
        d, T = data.n_features, data.n_tasks
        if isinstance(self.preset, str):
            return gengl_preset(self.preset, d, T, h=self.h)[0]
        return GenGL([[gengl_operator(d, T, entry[0], entry[1]) for entry in component]
                      for component in self._custom()])

    def _reference_model(self, data):
        return reference.gengl(data, self._operators(data), scaling=self.scaling)

    def _reference_params(self):
        if isinstance(self.preset, str):
            with np.errstate(over="ignore"):
                gamma = preset_weights(self.preset, self.h, self.gamma1, self.gamma2, self.phi)
            if not np.all(np.isfinite(gamma)):
                # each hyperparameter is finite, their product gamma phi^l need not be
                raise ValueError(f"the operator weights gamma * phi^(+-l), l = 1..h, overflow: phi={self.phi!r} "
                                 f"with h={self.h!r}, gamma1={self.gamma1!r}, gamma2={self.gamma2!r}")
        else:
            gamma = np.array([float(entry[2]) if len(entry) == 3 else float(self.gamma1)
                              for component in self._custom() for entry in component])
        return {"gamma": gamma}

    def _solver_options(self):
        method = SmoothingGradient(self.smoothing) if self.solver == "spg" else None
        return dict(tol=self.tol, max_iter=self.max_iter, method=method)

    def _fit_weights(self, data):
        self.gamma_ = self._reference_params()["gamma"]
        return super()._fit_weights(data)

    def _from_reference(self, result):
        self.components_ = result.components
        return result.W

    def _from_fast(self, variables):
        self.components_ = np.array(list(variables.values()))
        return self.components_.sum(axis=0)

    def _reference_candidate(self):
        return self.components_
