"""Check a candidate solution against a reference optimum."""

from dataclasses import dataclass

import numpy as np

__all__ = ["verify", "VerificationReport"]


@dataclass
class VerificationReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    candidate_objective, reference_objective : float
        The model's objective at the candidate and at the reference optimum.
    objective_gap : float
        ``(f(candidate) - f*) / max(1, |f*|)``; positive when the candidate
        is worse (slightly negative values mean the candidate beat the
        reference within its tolerance).
    distance : float
        ``||W_candidate - W*||_F / max(||W*||_F, tiny)``.  Informative only:
        where the optimum is not unique it can be large at a correct
        candidate.
    reference_gap : float
        The reference's own certificate (relative primal-dual gap).
    reference_status, reference_solver : str
    rtol : float
    passed : bool
        ``objective_gap <= rtol`` and the reference is ``optimal`` (an
        ``optimal_inaccurate`` reference never passes a candidate).
    """

    candidate_objective: float
    reference_objective: float
    objective_gap: float
    distance: float
    reference_gap: float
    reference_status: str
    reference_solver: str
    rtol: float
    passed: bool

    def __str__(self):
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"verify: {verdict} (objective gap {self.objective_gap:.2e} vs rtol {self.rtol:.0e})",
            f"  candidate objective  {self.candidate_objective:.12g}",
            f"  reference objective  {self.reference_objective:.12g}"
            f"  [{self.reference_solver}, {self.reference_status}, certificate gap {self.reference_gap:.1e}]",
            f"  relative distance    {self.distance:.2e}",
        ]
        if self.reference_status != "optimal":
            lines.append("  the reference is not certified optimal: no candidate can pass against it")
        return "\n".join(lines)


def _candidate_weights(candidate):
    if hasattr(candidate, "components_") and getattr(candidate, "components_", None) is not None:
        return np.asarray(candidate.components_, dtype=float)
    if hasattr(candidate, "coef_"):
        return np.asarray(candidate.coef_, dtype=float)
    if hasattr(candidate, "get_params") and not hasattr(candidate, "coef_"):
        raise ValueError("candidate is an estimator that is not fitted (it has no coef_)")
    return np.asarray(candidate, dtype=float)


def verify(candidate, model, rtol=1e-6, solver=None, solver_opts=None, **params):
    """Compare a candidate ``W`` with the reference optimum of ``model``.

    Parameters
    ----------
    candidate : ndarray of shape (n_features, n_tasks) or fitted estimator
        An estimator's ``coef_`` is used.  Beware that an estimator fitted
        with ``fit_intercept=True`` solved the problem on centred data: build
        the reference from ``est.reference_model(data)`` (or from
        ``data.centered()[0]``).
    model : ReferenceModel
        From :mod:`mtlcvx.reference`.
    rtol : float
        Tolerance on the relative objective gap.
    solver, solver_opts :
        Passed to ``model.solve``.
    **params
        The model's hyperparameters.

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
    W = _candidate_weights(candidate)
    d, T = model.data.n_features, model.data.n_tasks
    if W.ndim == 3:
        # a decomposed candidate (components W_l): its objective depends on
        # the decomposition; distances compare the sums
        result = model.solve(solver=solver, solver_opts=solver_opts, **params)
        return _report(model.objective_at(W), W.sum(axis=0), result, rtol)
    if W.shape == (T, d) and (T, d) != (d, T):
        raise ValueError(
            f"candidate has shape {W.shape} = (n_tasks, n_features); mtlcvx expects "
            f"(n_features, n_tasks) = {(d, T)}. If it comes from scikit-learn (coef_ is "
            "(n_tasks, n_features) there), pass its transpose: candidate.T"
        )
    if W.shape != (d, T):
        raise ValueError(f"candidate must have shape (n_features, n_tasks) = {(d, T)}, got {W.shape}")
    result = model.solve(solver=solver, solver_opts=solver_opts, **params)
    return _report(model.objective_at(W), W, result, rtol)


def _report(f_candidate, W, result, rtol):
    f_star = result.objective
    objective_gap = (f_candidate - f_star) / max(1.0, abs(f_star))
    ref_norm = np.linalg.norm(result.W)
    distance = float(np.linalg.norm(W - result.W) / max(ref_norm, np.finfo(float).tiny))
    passed = bool(result.status == "optimal" and objective_gap <= rtol)
    return VerificationReport(
        candidate_objective=float(f_candidate),
        reference_objective=float(f_star),
        objective_gap=float(objective_gap),
        distance=distance,
        reference_gap=float(result.gap),
        reference_status=result.status,
        reference_solver=result.solver,
        rtol=rtol,
        passed=passed,
    )
