"""GGMTL lower level (Alesiani, Yu, Shaker, Yin, "Towards Interpretable
Multi-Task Learning Using Bilevel Programming", ECML-PKDD 2020):

    squared (eq. 2b):      min_W 1/2 sum_t ||X_t w_t - y_t||^2 + lam/2 sum_k e_k ||w_i - w_j||_2^2
    non-squared (eq. 7):   min_W 1/2 sum_t ||X_t w_t - y_t||^2 + lam   sum_k e_k ||w_i - w_j||_2

over the edges ``k = (i, j)`` of a task graph.

**Which reading.**  The paper prints the loss of (2b) without the ``1/2``,
but its own stationarity condition (12), ``(lam L_e kron I_d + X^T X) V =
X^T Y``, and the hypergradient of Theorem 1 (with ``X^val,T (X^val V -
Y^val)`` the validation gradient) hold for the loss with the ``1/2``: we
use it, as every other squared loss in mtlcvx, so that (12) and Theorem 1
hold exactly as printed.  For eq. (7) the paper prints ``1/2 lam``; we use
``lam``, so that the non-squared penalty's gradient ``lam e_k (w_i -
w_j)/||w_i - w_j||`` has the same weight as the squared one's ``lam e_k
(w_i - w_j)`` (our ``lam`` is the paper's ``lam / 2`` there).
"""

import numpy as np

from .._validation import check_bool, check_finite_graph, check_loss
from ..data import as_multitask_data
from ..terms.graph import graph_smoothing, task_edges
from .base import Derived, Entry, Parameter, ReferenceModel

__all__ = ["GGMTLLower", "ggmtl_lower"]


class GGMTLLower(ReferenceModel):
    """Reference of the GGMTL lower level; parameters ``edge_weights``
    (the paper's ``e``, one per edge, ``>= 0``; a scalar is broadcast, and
    ``e=`` is accepted as an alias) and ``lam`` (``>= 0``).

    Declared as ``loss + GraphSmoothing(W; c)`` with ``c = lam e`` derived
    (its chain rule included), so the model is DPP in ``e`` and ``lam``
    (compiled once) and ``solve(..., requires_grad=True)`` then
    ``result.backward(W=...)`` gives the implicit hypergradient with
    respect to the edge weights.

    Attributes
    ----------
    edges : ndarray (m, 2)
        In the order given: ``edge_weights[k]`` weighs ``edges[k]``.
    squared : bool
    """

    def __init__(self, data, edges, squared=True, scaling="sum"):
        data = as_multitask_data(data)
        check_loss("squared", scaling)
        if edges is None:
            raise TypeError("edges must be a list of (i, j) task index pairs, an adjacency matrix or a graph, "
                            "got None")
        self.edges = task_edges(check_finite_graph(edges, "edges"), data.n_tasks)
        # bool("no") is True: a typo would silently pick eq. (2b)
        self.squared = check_bool(squared, "squared")
        m = len(self.edges)
        term = graph_smoothing(self.edges, data.n_tasks, squared=self.squared)
        super().__init__(
            data, ["W"], "squared",
            terms=[Entry(None, term, "W", {"weights": "weights"})],
            parameters=[Parameter("edge_weights", shape=(m,), broadcast=True, doc="e, one weight per edge"),
                        Parameter("lam", doc="strength of the graph smoothing")],
            derived=[Derived("weights", lambda v: v["lam"] * v["edge_weights"], ("edge_weights", "lam"), shape=(m,),
                             vjp=lambda v, g: {"edge_weights": v["lam"] * np.asarray(g),
                                               "lam": float(np.dot(g, v["edge_weights"]))})],
            scaling=scaling,
        )

    def _check_params(self, params):
        if "e" in params:
            if "edge_weights" in params:
                raise ValueError("give the edge weights once, as edge_weights (or its alias e), not both")
            params = dict(params)
            params["edge_weights"] = params.pop("e")
        return super()._check_params(params)


def ggmtl_lower(data, edges, squared=True, scaling="sum"):
    """The GGMTL lower level on ``edges`` (a list of ``(i, j)``, an
    adjacency matrix or a graph), squared (eq. 2b) or not (eq. 7);
    parameters ``edge_weights`` and ``lam``.  See :class:`GGMTLLower`."""
    return GGMTLLower(data, edges, squared, scaling)
