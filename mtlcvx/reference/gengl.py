"""GenGL / SSMTL reference (Fei, Sun, Kudo, Kimura, ECAI 2023), eq. (10):

    min_{W_1..W_h}  L(sum_l W_l) + sum_l sum_k gamma_lk ||D_lk vec(W_l)||_ggl      (10)

with the ``gamma_lk`` as one DPP parameter vector.  The variables are the
components ``W1..Wh``; ``result.components`` stacks them (``h x d x T``)
and ``result.W`` is their sum.
"""

from .._validation import check_loss
from ..data import as_multitask_data
from ..terms import GenGL, GenGLOperator
from .base import Parameter, ReferenceModel

__all__ = ["GenGLModel", "gengl"]


class GenGLModel(ReferenceModel):
    """Reference of eq. (10); parameter ``gamma`` (one weight per operator,
    components in order; a scalar is broadcast).

    ``objective_at(components, gamma=...)`` takes the components stacked
    (``h x d x T``), by name (``W1=..., W2=...``) or, for ``h = 1``, ``W``
    itself: the objective depends on the decomposition, not only on the
    sum.
    """

    def __init__(self, data, operators, loss="squared", scaling="sum"):
        data = as_multitask_data(data)
        check_loss(loss, scaling)
        self.penalty = operators if isinstance(operators, GenGL) else GenGL(_check_operators(operators))
        sizes = {op.D.shape[1] for _, op, _ in self.penalty.entries()}
        if len(sizes) != 1:
            raise ValueError("all operators must act on vec(W) of the same size")
        size = sizes.pop()
        if size != data.n_features * data.n_tasks:
            raise ValueError(
                f"operators act on vectors of size {size}, but W has {data.n_features} x {data.n_tasks} entries"
            )
        names = [f"W{l + 1}" for l in range(self.penalty.n_components)]
        super().__init__(
            data, names, loss,
            terms=[(("gamma", i), op, names[l]) for i, op, l in self.penalty.entries()],
            parameters=[Parameter("gamma", shape=(self.penalty.n_weights,), broadcast=True)],
            scaling=scaling, decomposed=True,
        )


def _check_operators(operators):
    """A list (one per component) of non-empty lists of operators; GenGL
    itself would fail on the first missing attribute, naming none."""
    shape = "a GenGL or a list (one per component) of lists of GenGLOperator"
    if not isinstance(operators, (list, tuple)):
        raise TypeError(f"operators must be {shape}, got {type(operators).__name__}")
    if not operators:
        raise ValueError(f"operators is empty: it must be {shape}")
    for l, component in enumerate(operators):
        if not isinstance(component, (list, tuple)):
            raise TypeError(f"operators[{l}] must be a list of GenGLOperator, got {type(component).__name__}")
        if not component:
            raise ValueError(f"operators[{l}] is empty: every component needs at least one operator")
        for k, op in enumerate(component):
            if not isinstance(op, GenGLOperator):
                raise TypeError(f"operators[{l}][{k}] must be a GenGLOperator (see mtlcvx.terms.gengl_operator), "
                                f"got {type(op).__name__}")
    return operators


def gengl(data, operators, loss="squared", scaling="sum"):
    """The GenGL problem (10) for the given operators (a
    :class:`~mtlcvx.terms.GenGL` or a list, one per component, of lists of
    :class:`~mtlcvx.terms.operators.GenGLOperator`); parameter ``gamma``."""
    return GenGLModel(data, operators, loss, scaling)
