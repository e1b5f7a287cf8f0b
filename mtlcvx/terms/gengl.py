"""The generalized group lasso (GenGL) penalty and the presets of Table 1
(Fei, Sun, Kudo, Kimura, ECAI 2023).

``W = sum_l W_l`` (``h`` components); component ``l`` carries operators
``D_lk`` (:class:`~mtlcvx.terms.operators.GenGLOperator`) with weights
``gamma_lk``, eq. (8):

    Omega(W_1, ..., W_h) = sum_l sum_k gamma_lk ||D_lk vec(W_l)||_ggl,
    ||D x||_ggl = sum over the groups g of D of ||(D x)_g||_2.
"""

import functools
import numpy as np

from .operators import gengl_operator

__all__ = ["GenGL", "gengl_preset", "GENGL_PRESETS", "preset_components", "preset_weights"]


class GenGL:
    """GenGL penalty on ``h`` components: the operators of each component
    and the order of their weights ``gamma_lk`` (components in order).

    Parameters
    ----------
    operators : list (one per component) of lists of GenGLOperator
    """

    def __init__(self, operators):
        if not operators or not all(len(ops) for ops in operators):
            raise ValueError("operators must list at least one operator for every component")
        self.operators = [list(ops) for ops in operators]

    @property
    def n_components(self):
        return len(self.operators)

    @property
    def n_weights(self):
        """Number of ``gamma_lk`` (one per operator, components in order)."""
        return sum(len(ops) for ops in self.operators)

    def entries(self):
        """``(i, operator, l)`` for every operator: the index of its weight
        in ``gamma`` and its component."""
        i = 0
        for l, ops in enumerate(self.operators):
            for op in ops:
                yield i, op, l
                i += 1

    def _check(self, components, gamma):
        if np.shape(gamma) != (self.n_weights,):
            raise ValueError(f"gamma must have shape ({self.n_weights},), got {np.shape(gamma)}")
        if len(components) != self.n_components:
            raise ValueError(f"expected {self.n_components} components, got {len(components)}")

    def value(self, components, gamma):
        """``sum_lk gamma_lk ||D_lk vec(W_l)||_ggl`` in numpy; ``components``
        is a sequence of ``h`` arrays ``(d, T)``."""
        self._check(components, gamma)
        return float(sum(gamma[i] * op.value(components[l]) for i, op, l in self.entries()))

    def expr(self, components, gamma):
        """The same in CVXPY (``gamma`` may be a ``cp.Parameter``; DPP)."""
        self._check(components, gamma)
        return sum(gamma[i] * op.expr(components[l]) for i, op, l in self.entries())


#: Table 1's shallow (linear) rows: for each component, the (features,
#: tasks) partition pairs and, for each, ``(which gamma, sign of the phi
#: exponent)``: the weight is ``gamma_which * phi^(sign * l)``, ``l = 1..h``.
GENGL_PRESETS = {
    # Lasso: element-wise selection, ||W||_1
    "lasso": [[(("F", "F"), (1, 0))]],
    # Group lasso: row-wise selection, ||W||_{2,1}
    "gl": [[(("F", "C"), (1, 0))]],
    # rMTFL: W = W1 + W2, ||W1||_{2,1} (features) + ||W2^T||_{2,1} (outlier tasks)
    "rmtfl": [[(("F", "C"), (1, 0))], [(("C", "F"), (2, 0))]],
    # MeTaG: per component gamma / phi^l sum_{j<k} ||w_:j - w_:k||_2
    "metag": "per-component",
    # SSMTL_m: per component the four operations of Table 1 / Figure 1(a)
    "ssmtl_m": "per-component",
}

_PER_COMPONENT = {
    "metag": [(("C", "F2"), (1, -1))],
    "ssmtl_m": [
        (("C", "F2"), (1, -1)),  # task-level vector-wise clustering: gamma1 / phi^l
        (("F", "C"), (2, +1)),  # feature-level vector-wise selection: gamma2 / phi^-l
        (("F", "F2"), (1, +1)),  # task-level element-wise clustering: gamma1 / phi^-l
        (("F", "F"), (2, -1)),  # feature-level element-wise selection: gamma2 / phi^l
    ],
}


def preset_components(name, h=2):
    """Table 1's rows of a preset: for each component, ``((features, tasks),
    (which gamma, sign of the phi exponent))`` per operator."""
    if name not in GENGL_PRESETS:
        raise ValueError(f"preset must be one of {sorted(GENGL_PRESETS)}, got {name!r}")
    spec = GENGL_PRESETS[name]
    return [_PER_COMPONENT[name]] * int(h) if spec == "per-component" else spec


def preset_weights(name, h=2, gamma1=1.0, gamma2=0.0, phi=1.0):
    """The weight of every operator of a preset, components in order:
    ``gamma_which * phi^(sign * l)`` for component ``l = 1..h``."""
    gammas = {1: gamma1, 2: gamma2}
    # numpy powers: a huge phi gives inf (which the estimator refuses, naming phi), where a float power
    # raised OverflowError
    return np.array([gammas[which] * np.float64(phi) ** (sign * (l + 1))
                     for l, comp in enumerate(preset_components(name, h)) for _, (which, sign) in comp])


@functools.lru_cache(maxsize=32)
def _preset_operators(name, n_features, n_tasks, h):
    # the operators depend on the shape only, and building their sparse
    # Kronecker products dominates an objective evaluation (20 ms at d=80,
    # T=10): an estimator's objective() and a grid over gamma reuse them
    return tuple(tuple(gengl_operator(n_features, n_tasks, *pair) for pair, _ in comp)
                 for comp in preset_components(name, h))


def gengl_preset(name, n_features, n_tasks, h=2):
    """Operators of a Table 1 method and a function mapping ``(gamma1,
    gamma2, phi)`` to the weight vector.

    Returns
    -------
    penalty : GenGL
    weights : callable ``(gamma1, gamma2=0.0, phi=1.0) -> ndarray``
    """
    operators = [list(component) for component in _preset_operators(name, int(n_features), int(n_tasks), int(h))]

    def weights(gamma1, gamma2=0.0, phi=1.0):
        return preset_weights(name, h, gamma1, gamma2, phi)

    return GenGL(operators), weights
