"""Check a candidate solution against a reference optimum."""

import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["verify", "VerificationReport"]


@dataclass
class VerificationReport:
    """Outcome of :func:`verify`: how far from the optimal value, and how far
    from optimal.

    Attributes
    ----------
    candidate_objective, reference_objective : float
        The model's objective at the candidate and at the reference optimum.
    objective_gap : float
        ``(f(candidate) - f*) / max(|f*|, s)``, with ``s`` the model's
        :attr:`~mtlcvx.reference.ReferenceModel.objective_scale` (``1e-9``
        times the loss at ``W = 0``: targets at 1e-8 get gaps relative to
        their own size); positive when the candidate is
        worse (slightly negative values mean the candidate beat the
        reference within its tolerance).
    optimality_residual : float
        First-order optimality residual of the candidate, from the terms'
        numpy halves alone: the distance of minus the smooth gradient to the
        subdifferential of the penalty, relative to ``||grad f(0)||``
        (:meth:`mtlcvx.terms.Objective.optimality_residual`).  It sees what
        the objective gap can miss, a wrong support of near-zero cost.  NaN
        where the terms do not provide it.
    distance : float
        ``||W_candidate - W*||_F / max(||W*||_F, tiny)``.  Informative only:
        where the optimum is not unique it can be large at a correct
        candidate.
    reference_gap : float
        The reference's own certificate (relative primal-dual gap), raised
        to the margin by which any point it was compared with (zero, the
        candidate) beat it.
    reference_status, reference_solver : str
    rtol, residual_tol : float
    passed : bool
        ``objective_gap <= rtol``, ``optimality_residual <= residual_tol``
        (where available), the reference is ``optimal`` (an
        ``optimal_inaccurate`` reference never passes a candidate) and
        certified to ``rtol`` (``reference_gap <= rtol``: a reference good
        to 1e-5 cannot tell a candidate good to 1e-6).
    parameters : dict
        The parameter values the comparison used.
    notes : list of str
        Likely causes of a failure that verify could detect.
    """

    candidate_objective: float
    reference_objective: float
    objective_gap: float
    optimality_residual: float
    distance: float
    reference_gap: float
    reference_status: str
    reference_solver: str
    rtol: float
    residual_tol: float
    passed: bool
    parameters: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def __str__(self):
        verdict = "PASSED" if self.passed else "FAILED"
        residual = "not available for these terms" if np.isnan(self.optimality_residual) else (
            f"{self.optimality_residual:.2e} vs residual_tol {self.residual_tol:.0e}")
        lines = [
            f"verify: {verdict} (objective gap {self.objective_gap:.2e} vs rtol {self.rtol:.0e})",
            f"  optimality residual  {residual}",
            f"  candidate objective  {self.candidate_objective:.12g}",
            f"  reference objective  {self.reference_objective:.12g}"
            f"  [{self.reference_solver}, {self.reference_status}, certificate gap {self.reference_gap:.1e}]",
            f"  relative distance    {self.distance:.2e}",
            f"  parameters           {_format_parameters(self.parameters)}",
        ]
        if self.reference_status != "optimal":
            lines.append("  the reference is not certified optimal: no candidate can pass against it")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _format_parameters(parameters):
    def fmt(value):
        arr = np.asarray(value)
        if arr.ndim == 0:
            return f"{float(arr):.6g}"
        if arr.size <= 6:
            return np.array2string(arr, precision=4, separator=", ")
        return f"array{arr.shape} in [{arr.min():.3g}, {arr.max():.3g}]"

    return ", ".join(f"{name}={fmt(value)}" for name, value in parameters.items()) or "(none)"


def _candidate(candidate):
    if hasattr(candidate, "get_params"):
        if not hasattr(candidate, "coef_"):
            raise ValueError("candidate is an estimator that is not fitted (it has no coef_)")
        return candidate._reference_candidate()
    return candidate


def _intercept_note(candidate, model):
    """When an estimator with a nonzero intercept meets a reference built
    on uncentred data, the intercept is the likely cause of a mismatch."""
    if not (getattr(candidate, "fit_intercept", False) and np.any(getattr(candidate, "intercept_", 0.0))):
        return []
    data = model.data
    scale = max(1.0, max(float(np.abs(X).max()) for X in data.Xs), max(float(np.abs(y).max()) for y in data.ys))
    offsets = [abs(float(y.mean())) for y in data.ys] + [float(np.abs(X.mean(axis=0)).max()) for X in data.Xs]
    if max(offsets) <= 1e-10 * scale:
        return []
    return ["the estimator has an intercept (fit_intercept=True: it solved the problem on per-task centred "
            "data) but this reference was built on uncentred data, the likely cause of any gap; build the "
            "reference with est.reference_model(data)"]


def _check_tolerance(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return float(value)


def verify(candidate, model, rtol=1e-6, residual_tol=1e-4, solver=None, solver_opts=None, **params):
    """Compare a candidate with the reference optimum of ``model``.

    Parameters
    ----------
    candidate : ndarray, dict or fitted estimator
        ``W`` of shape ``(n_features, n_tasks)`` for a single-variable
        model; the variables stacked, or a dict by name, for models with
        several (GenGL's components); an estimator's ``coef_`` (or
        ``components_``).  An estimator fitted with ``fit_intercept=True``
        solved the problem on centred data: build the reference from
        ``est.reference_model(data)``.
    model : ReferenceModel
        From :mod:`mtlcvx.reference`.
    rtol : float
        Tolerance on the relative objective gap.
    residual_tol : float
        Tolerance on the relative first-order optimality residual (where
        the terms provide it).  The default, ``1e-4``, passes the fast
        solvers at their default tolerances and fails a support that is
        wrong in one row (tested).
    solver, solver_opts :
        Passed to ``model.solve``.
    **params
        The model's hyperparameters, all of them: nothing is remembered
        from an earlier call.

    Returns
    -------
    VerificationReport

    Examples
    --------
    >>> import numpy as np, mtlcvx as mc
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(20, 5)) for _ in range(3)]
    >>> ys = [X @ rng.normal(size=5) for X in Xs]
    >>> est = mc.GroupLasso(lam=1.0, fit_intercept=False).fit(Xs, ys)
    >>> model = mc.reference.group_lasso(mc.MultiTaskData(Xs, ys))
    >>> mc.verify(est, model, lam=1.0).passed
    True
    """
    from .reference.base import ReferenceModel  # here: importing mtlcvx does not load cvxpy

    if not isinstance(model, ReferenceModel):
        raise TypeError(f"model must be a reference model from mtlcvx.reference (e.g. "
                        f"mtlcvx.reference.group_lasso(data)), got {type(model).__name__}")
    rtol = _check_tolerance(rtol, "rtol")
    residual_tol = _check_tolerance(residual_tol, "residual_tol")
    if candidate is None:
        raise TypeError("candidate must be an array of weights, a dict of variables or a fitted estimator, got None")
    try:
        variables = model._variables_from(_candidate(candidate))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"candidate: {exc}") from None
    objective = model.numeric(**params)
    residual = objective.optimality_residual(variables)
    result = model.solve(solver=solver, solver_opts=solver_opts, compare_with=[variables], **params)
    f_star = result.objective
    f_candidate = result.compared["compare_with[0]"]  # the audit evaluated it
    gap = model.relative(f_candidate - f_star, f_star)
    W = objective.loss_argument(variables)
    distance = float(np.linalg.norm(W - result.W) / max(np.linalg.norm(result.W), np.finfo(float).tiny))
    residual_ok = bool(np.isnan(residual) or residual <= residual_tol)
    notes = _intercept_note(candidate, model)
    certified = bool(result.gap <= rtol)
    if result.status == "optimal" and not certified:
        notes.append(f"the reference is certified only to {result.gap:.1e}, looser than rtol={rtol:.0e}: it cannot "
                     "decide; tighten the solver (solver_opts) or loosen rtol")
    if result.certificate == "first-order":
        notes.append("the reference's solver lost to a point whose first-order optimality residual proves it "
                     f"optimal ({result.gap:.1e}); that point is the reference optimum here")
    return VerificationReport(
        candidate_objective=float(f_candidate),
        reference_objective=float(f_star),
        objective_gap=float(gap),
        optimality_residual=float(residual),
        distance=distance,
        reference_gap=float(result.gap),
        reference_status=result.status,
        reference_solver=result.solver,
        rtol=rtol,
        residual_tol=residual_tol,
        passed=bool(result.status == "optimal" and certified and gap <= rtol and residual_ok),
        parameters=result.parameters,
        notes=notes,
    )
