"""GenGL / SSMTL reference (Fei, Sun, Kudo, Kimura, ECAI 2023), eq. (10):

    min_{W_1..W_h}  L(sum_l W_l) + sum_l sum_k gamma_lk ||D_lk vec(W_l)||_ggl      (10)

with the ``gamma_lk`` as one DPP parameter vector.  ``result.components``
holds the ``W_l`` (``h x d x T``) and ``result.W`` their sum.
"""

import cvxpy as cp
import numpy as np

from ..data import as_multitask_data
from ..terms import GenGL, make_loss
from .base import ReferenceModel

__all__ = ["GenGLModel", "gengl"]


class GenGLModel(ReferenceModel):
    """Reference of eq. (10); parameter ``gamma`` (one weight per operator,
    components in order; a scalar is broadcast).

    ``objective_at(W, gamma=...)`` takes either the components (``h x d x
    T``) or, for ``h = 1``, ``W`` itself: the objective depends on the
    decomposition, not only on the sum.
    """

    def __init__(self, data, operators, loss="squared", scaling="sum"):
        self.loss = make_loss(loss, scaling)
        self.penalty = operators if isinstance(operators, GenGL) else GenGL(operators)
        d = None
        for ops in self.penalty.operators:
            for op in ops:
                if d is None:
                    d = op.D.shape[1]
                if op.D.shape[1] != d:
                    raise ValueError("all operators must act on vec(W) of the same size")
        checked = as_multitask_data(data)
        if d != checked.n_features * checked.n_tasks:
            raise ValueError(
                f"operators act on vectors of size {d}, but W has "
                f"{checked.n_features} x {checked.n_tasks} entries"
            )
        super().__init__(checked)

    def _build(self):
        d, T = self.data.n_features, self.data.n_tasks
        gamma = self._parameter("gamma", shape=(self.penalty.n_weights,), broadcast=True)
        self.components_var = [cp.Variable((d, T), name=f"W{l + 1}") for l in range(self.penalty.n_components)]
        self.W_var = sum(self.components_var[1:], self.components_var[0])
        return self.loss.expr(self.W_var, self.data) + self.penalty.expr(self.components_var, gamma), []

    def _result(self, **fields):
        components = np.array([np.array(V.value, dtype=float) for V in self.components_var])
        result = super()._result(**fields)
        result.components = components
        return result

    def _check_W(self, W):
        W = np.asarray(W, dtype=float)
        h, d, T = self.penalty.n_components, self.data.n_features, self.data.n_tasks
        if W.shape == (h, d, T):
            return W
        if h == 1:
            return super()._check_W(W)[None]
        raise ValueError(f"pass the {h} components, shape {(h, d, T)}, got {W.shape}")

    def _objective_numpy(self, components, params):
        return self.loss.value(components.sum(axis=0), self.data) + self.penalty.value(list(components),
                                                                                        params["gamma"])


def gengl(data, operators, loss="squared", scaling="sum"):
    """The GenGL problem (10) for the given operators (a
    :class:`~mtlcvx.terms.GenGL` or a list, one per component, of lists of
    :class:`~mtlcvx.terms.operators.GenGLOperator`); parameter ``gamma``."""
    return GenGLModel(data, operators, loss, scaling)
