"""A declared objective at numeric parameter values, in numpy.

:class:`Objective` is what a reference model's declaration becomes once
its parameters have values (:meth:`mtlcvx.reference.ReferenceModel.numeric`):
the loss bound to the data, applied to one variable or to the sum of
several (GenGL's components), plus weighted penalties on named variables,
plus constraints.  It is the numpy objective of the model (``objective_at``
evaluates it: no model writes a numpy twin of its CVXPY problem), the
problem the fast solvers receive (:mod:`mtlcvx.solvers.dispatch`), and the
source of the first-order optimality residual :func:`mtlcvx.verify`
reports.
"""

import numpy as np

__all__ = ["Objective", "FEASIBILITY_TOL"]

#: A candidate violating a constraint by more than this (relative to its
#: largest entry, at least 1) is infeasible: its objective is ``inf``.
FEASIBILITY_TOL = 1e-12


class Objective:
    """``f(sum_{v in loss_on} X_v) + sum_k penalty_k(X_{v_k})`` subject to
    the constraints.

    Parameters
    ----------
    datafit : object or None
        The loss bound to the data (``value``, ``grad``, ``lipschitz``...);
        None for an objective without data fit.
    shapes : dict
        ``{variable name: shape}``, in declaration order.
    loss_on : tuple of str
        The variables whose sum the loss sees.
    penalties : list of ``(BoundPenalty, variable name)``
    constraints : list of ``(Constraint, variable name)``
    """

    def __init__(self, datafit, shapes, loss_on, penalties=(), constraints=()):
        self.datafit = datafit
        self.shapes = dict(shapes)
        self.loss_on = tuple(loss_on)
        self.penalties = list(penalties)
        self.constraints = list(constraints)

    @property
    def names(self):
        return tuple(self.shapes)

    def penalties_on(self, name):
        return [term for term, on in self.penalties if on == name]

    def loss_argument(self, variables):
        """The sum of the variables the loss sees."""
        return sum(variables[name] for name in self.loss_on[1:]) + variables[self.loss_on[0]]

    def feasible(self, variables):
        for constraint, name in self.constraints:
            X = variables[name]
            if constraint.violation(X) > FEASIBILITY_TOL * max(1.0, float(np.abs(X).max(initial=0.0))):
                return False
        return True

    def value(self, variables):
        """The objective; ``inf`` at an infeasible point."""
        if not self.feasible(variables):
            return np.inf
        total = 0.0 if self.datafit is None else self.datafit.value(self.loss_argument(variables))
        return float(total + sum(term.value(variables[name]) for term, name in self.penalties))

    @staticmethod
    def is_smooth(term):
        return {"grad", "lipschitz"} <= term.capabilities

    def smooth_gradient(self, variables):
        """``{name: gradient of the loss and the smooth penalties}``."""
        G_loss = (np.zeros(self.shapes[self.loss_on[0]]) if self.datafit is None
                  else self.datafit.grad(self.loss_argument(variables)))
        out = {}
        for name in self.names:
            G = G_loss.copy() if name in self.loss_on else np.zeros(self.shapes[name])
            for term in self.penalties_on(name):
                if self.is_smooth(term):
                    G = G + term.grad(variables[name])
            out[name] = G
        return out

    def optimality_residual(self, variables):
        """First-order optimality residual, relative: the distance of minus
        the smooth gradient to the subdifferential of the non-smooth
        penalties, over all variables (Frobenius), divided by
        :meth:`gradient_scale`, ``||grad f(0)||_F``.  Zero exactly at a
        minimiser.

        NaN where the terms do not provide it: a variable with more than one
        non-smooth penalty, one without ``subdiff_distance``, or a
        constrained variable.
        """
        constrained = {name for _, name in self.constraints}
        gradients = self.smooth_gradient(variables)
        total = 0.0
        for name in self.names:
            rough = [term for term in self.penalties_on(name) if not self.is_smooth(term)]
            if name in constrained or len(rough) > 1:
                return np.nan
            if not rough:
                total += float(np.sum(gradients[name] ** 2))
            elif "subdiff_distance" in rough[0].capabilities:
                total += rough[0].subdiff_distance(variables[name], gradients[name]) ** 2
            else:
                return np.nan
        return float(np.sqrt(total) / self.gradient_scale())

    def gradient_scale(self):
        """``||grad f(0)||_F``, the size of the problem's gradients, which
        :meth:`optimality_residual` divides by; 1 when it is zero (all-zero
        targets) or there is no data fit.  Not ``max(1, ...)``: with
        targets at 1e-8 every gradient is below 1e-8, and an absolute
        floor would pass any candidate (W = 0 included)."""
        if self.datafit is None:
            return 1.0
        scale = float(np.linalg.norm(self.datafit.grad(np.zeros(self.shapes[self.loss_on[0]]))))
        return scale if scale > 0 and np.isfinite(scale) else 1.0
