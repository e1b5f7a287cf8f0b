"""GenGL operator matrices ``D`` from partitions (Fei, Sun, Kudo, Kimura,
ECAI 2023, Section 4.1-4.3).

A partition of an index set ``[p]`` is represented by its linear operators
``pi`` (eq. 6), stacked as the columns of one matrix of shape
``(p, n_members * width)``:

* ``P_C`` (coarsest): one operator, ``I_p`` (width ``p``);
* ``P_F`` (finest): ``p`` operators ``e_j`` (width 1);
* ``P_F2`` (finest in pairs): ``e_j - e_k`` for ``j < k``, ``p (p - 1) / 2``
  operators of width 1.  (Eq. 6 lists all ``p^2`` ordered pairs; the pairs
  with ``j = k`` are zero and ``(k, j)`` repeats ``(j, k)`` up to sign, so we
  keep ``j < k`` as the sums ``sum_{j<k}`` of Table 1 do.)

For a pair of partitions along the features (rows) and the tasks (columns)
of ``W`` (``d x T``), eq. (7):

    ||pi_1^T W pi_2||_2 = ||(pi_2^T kron pi_1^T) vec(W)||_2 = ||D_{pi_1, pi_2} vec(W)||_2,

with ``vec`` stacking columns (column-major).  :func:`gengl_operator`
stacks every block ``D_{pi_1, pi_2}`` into one sparse matrix whose rows come
in consecutive groups of equal size (the width of ``pi_1`` times that of
``pi_2``): the penalty is the sum of the l2 norms of those groups.  The
N-dimensional form (eq. 9) is the same with a Kronecker chain:
:func:`tensor_operator`.
"""

import numpy as np
import scipy.sparse as sp

from .base import Penalty, _cvxpy
from .penalties import ZERO_TOL
from .proximal import group_norms, group_soft_threshold, group_subdiff_distance, project_groups_to_balls

__all__ = [
    "PARTITIONS",
    "partition_operators",
    "GenGLOperator",
    "OperatorNorm",
    "gengl_operator",
    "tensor_operator",
]

PARTITIONS = ("C", "F", "F2")


def partition_operators(kind, p):
    """The operators ``pi`` of a partition of ``[p]`` (eq. 6).

    Returns
    -------
    Pi : scipy.sparse matrix of shape (p, n_members * width)
        The operators side by side.
    width : int
        Columns per operator (``p`` for ``"C"``, 1 otherwise).
    """
    if kind not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {kind!r}")
    if int(p) != p or p < 1:
        raise ValueError(f"the index set size must be a positive integer, got {p!r}")
    if kind == "C":
        return sp.identity(p, format="csc"), p
    if kind == "F":
        return sp.identity(p, format="csc"), 1
    j, k = np.triu_indices(p, k=1)
    cols = np.arange(j.size)
    data = np.concatenate([np.ones(j.size), -np.ones(j.size)])
    Pi = sp.csc_matrix((data, (np.concatenate([j, k]), np.concatenate([cols, cols]))), shape=(p, j.size))
    return Pi, 1


class GenGLOperator(Penalty):
    """A stacked GenGL operator as a penalty: ``sum_g ||(D vec(W))_g||_2``.

    ``D`` (sparse, ``n_groups * group_size`` x ``n_in``) has its rows in
    ``n_groups`` consecutive groups of ``group_size``; ``vec`` stacks the
    columns of ``W``.  ``partitions`` records the partitions it was built
    from and ``shape`` the shape of ``W``, one entry per dimension (features
    first, tasks last); both are optional for an operator of your own.

    Capabilities besides value and expression: the operator itself (``D``,
    :meth:`group_prox`, :meth:`project_dual`, what splitting solvers need),
    its :attr:`gram_structure` (``D^T D = I``: ``"identity"``; ``D^T D =
    L_T kron I_d`` with ``L_T = T I - 1 1^T``: ``"task_fusion"``; else
    None; ``"task_fusion"`` is recognised when ``shape`` is known), which
    decides whether the closed-form ADMM applies, and, for
    ``"identity"`` operators (selections: ``D`` is a permutation),
    ``subdiff_distance``.
    """

    degree = 1
    operator = True

    def __init__(self, D, group_size, partitions=(), shape=None):
        self.D = sp.csr_matrix(D)
        self.group_size = int(group_size)
        self.partitions = tuple(partitions)
        self.shape = None if shape is None else tuple(int(n) for n in shape)
        if self.D.shape[0] % self.group_size:
            raise ValueError(f"D has {self.D.shape[0]} rows, not a multiple of group_size={self.group_size}")
        self.gram_structure = self._gram_structure()
        if self.gram_structure == "identity":
            self.subdiff_distance = self._subdiff_distance

    def __repr__(self):
        return f"GenGLOperator(partitions={self.partitions}, n_groups={self.n_groups}, group_size={self.group_size})"

    @property
    def n_groups(self):
        return self.D.shape[0] // self.group_size

    def _groups(self, z):
        return np.asarray(z).reshape(self.n_groups, self.group_size)

    def _gram_structure(self):
        n = self.D.shape[1]
        gram = (self.D.T @ self.D).tocsr()
        if self.D.shape[0] == n and abs(gram - sp.identity(n, format="csr")).max() == 0:
            return "identity"
        if self.shape is not None and len(self.shape) >= 2:
            T = self.shape[-1]
            laplacian = sp.csr_matrix(T * np.eye(T) - np.ones((T, T)))
            if abs(gram - sp.kron(laplacian, sp.identity(n // T))).max() <= 1e-12:
                return "task_fusion"
        return None

    def group_norms(self, x):
        """``||(D x)_g||_2`` for every group, ``x = vec(W)`` (column-major)."""
        return group_norms(self._groups(self.D @ x))

    def value(self, W):
        """``sum_g ||(D vec(W))_g||_2``."""
        return float(self.group_norms(np.ravel(W, order="F")).sum())

    def expr(self, W):
        cp = _cvxpy()
        groups = cp.reshape(self.D @ cp.vec(W, order="F"), (self.n_groups, self.group_size), order="C")
        return cp.sum(cp.norm(groups, 2, axis=1))

    def group_prox(self, z, step):
        """Prox of ``step sum_g ||z_g||`` on the operator's range."""
        return group_soft_threshold(self._groups(z), step).ravel()

    def project_dual(self, z, radius=1.0):
        """Each group of ``z`` projected onto the l2 ball of ``radius``: the
        prox of the conjugate of ``radius sum_g ||.||``."""
        return project_groups_to_balls(self._groups(z), radius).ravel()

    def _subdiff_distance(self, W, G):
        # D is a permutation: d Omega(x) = D^T dN(D x), and D preserves
        # distances, so the distance is that of -D g to dN(D x)
        Z = self._groups(self.D @ np.ravel(W, order="F"))
        DG = self._groups(self.D @ np.ravel(G, order="F"))
        norms = group_norms(Z)
        return group_subdiff_distance(Z, DG, ZERO_TOL * float(norms.max(initial=0.0)))

    def check_blocks(self):
        """Raise if a group's block of ``D`` is all zero.

        The code released with the paper built its task-level operators
        from a misspelled key and silently penalised nothing; an all-zero
        block is never intended, so it is an error here."""
        nnz_per_row = np.diff(self.D.indptr)
        per_group = nnz_per_row.reshape(self.n_groups, self.group_size).sum(axis=1)
        empty = np.flatnonzero(per_group == 0)
        if empty.size:
            raise ValueError(
                f"GenGL operator {self.partitions}: {empty.size} of {self.n_groups} groups have an "
                f"all-zero block of D (first: group {empty[0]})"
            )


class OperatorNorm(Penalty):
    """A penalty of your own in operator form: ``Omega(W) = sum_g ||(D
    vec(W))_g||_2``, the GenGL form (eq. 8 of the SSMTL paper) for any
    sparse ``D``.

    A subclass defines :meth:`operator_matrix` (``D`` for a given shape of
    ``W``, acting on ``vec(W)``, the columns of ``W`` stacked) and sets
    :attr:`group_size`; the CVXPY expression, the numpy value and what the
    splitting solvers need (``D``, the projection onto the dual balls) are
    derived, so no prox is needed.  Exactly one fast solver serves every
    such term, the primal-dual splitting of
    :func:`~mtlcvx.solvers.primal_dual_splitting` (or the closed-form ADMM
    of :func:`~mtlcvx.solvers.admm_task_laplacian` when ``D^T D`` is the
    identity or the task-fusion Laplacian).

    Attributes
    ----------
    group_size : int, None, or a method ``group_size(shape)``
        The rows of ``D vec(W)`` come in consecutive groups of this size,
        each entering by its l2 norm: 1 gives the l1 norm ``||D vec(W)||_1``
        (a fused lasso), ``k`` a group lasso of ``D vec(W)``, None the l2
        norm of the whole of ``D vec(W)`` (one group).  A method returns it
        for a shape of ``W`` (groups of ``d`` rows: one l2 norm per task
        difference, say).

    Examples
    --------
    Neighbouring tasks (in their order) should have close coefficients,
    ``sum_t ||w_{t+1} - w_t||_1``:

    >>> import numpy as np, scipy.sparse as sp
    >>> class TaskChain(OperatorNorm):
    ...     group_size = 1
    ...     def operator_matrix(self, shape):
    ...         d, T = shape
    ...         diff = sp.diags([-np.ones(T - 1), np.ones(T - 1)], [0, 1], shape=(T - 1, T))
    ...         return sp.kron(diff, sp.identity(d))
    >>> TaskChain().value(np.array([[0.0, 1.0, 3.0]]))
    3.0
    """

    degree = 1
    group_size = 1

    def operator_matrix(self, shape):
        """``D`` (a scipy sparse matrix or an array) with ``prod(shape)``
        columns, for a ``W`` of this shape."""
        raise NotImplementedError(f"{type(self).__name__} must define operator_matrix(shape)")

    def at_shape(self, shape):
        """The operator at this shape, a :class:`GenGLOperator` (built once
        per shape and kept)."""
        shape = tuple(int(n) for n in shape)
        cache = self.__dict__.setdefault("_operators", {})
        if shape not in cache:
            cache[shape] = _ShapedOperator(self, shape)
        return cache[shape]

    def value(self, W):
        W = np.asarray(W, dtype=float)
        return self.at_shape(W.shape).value(W)

    def expr(self, W):
        return self.at_shape(W.shape).expr(W)

    def __getstate__(self):
        # the operators are rebuilt on demand, not pickled
        return {key: value for key, value in self.__dict__.items() if key != "_operators"}


class _ShapedOperator(GenGLOperator):
    """An :class:`OperatorNorm` at one shape: its matrix checked once."""

    def __init__(self, source, shape):
        name = type(source).__name__
        D = source.operator_matrix(shape)
        if not (sp.issparse(D) or isinstance(D, np.ndarray)) or np.ndim(D) != 2:
            raise TypeError(f"{name}.operator_matrix{shape} must return a 2-d scipy sparse matrix or array, got "
                            f"{type(D).__name__}")
        size = int(np.prod(shape))
        if D.shape[1] != size:
            raise ValueError(f"{name}.operator_matrix{shape} has {D.shape[1]} columns; it acts on vec(W), which "
                             f"has prod{shape} = {size} entries")
        group = source.group_size
        if callable(group):
            group = group(shape)
        if group is None:
            group = D.shape[0]
        elif isinstance(group, bool) or not isinstance(group, (int, np.integer)) or group < 1:
            raise ValueError(f"{name}.group_size must be a positive integer or None, got {group!r}")
        if D.shape[0] == 0:
            raise ValueError(f"{name}.operator_matrix{shape} has no rows")
        if D.shape[0] % group:
            raise ValueError(f"{name}.operator_matrix{shape} has {D.shape[0]} rows, not a multiple of "
                             f"group_size={group}")
        D = sp.csr_matrix(D, dtype=float)
        if not np.all(np.isfinite(D.data)):
            raise ValueError(f"{name}.operator_matrix{shape} has entries that are NaN or infinite")
        super().__init__(D, group, shape=shape)
        self.source = source

    def __repr__(self):
        return f"{self.source!r} at shape {self.shape}"


def _ordered_kron(blocks, widths):
    """``D`` rows grouped by operator: the Kronecker product of the
    transposed operator matrices, with rows reordered so that each group
    (one choice of operator per dimension) is contiguous."""
    D = sp.csr_matrix(np.ones((1, 1)))
    # vec is column-major: the first dimension varies fastest, so the
    # Kronecker chain is pi_N^T kron ... kron pi_1^T (eq. 9)
    for Pi in reversed(blocks):
        D = sp.kron(D, Pi.T, format="csr")
    counts = [Pi.shape[1] // w for Pi, w in zip(blocks, widths)]
    # row index of the product = sum over dims of (member * width + offset)
    # times the strides; regroup to (members..., offsets...)
    shape = []
    for c, w in zip(reversed(counts), reversed(widths)):
        shape += [c, w]
    order = np.arange(D.shape[0]).reshape(shape)
    n = len(blocks)
    member_axes = [2 * i for i in range(n)]
    offset_axes = [2 * i + 1 for i in range(n)]
    order = order.transpose(member_axes + offset_axes).ravel()
    return D[order], int(np.prod(widths))


def tensor_operator(shape, partitions):
    """GenGL operator for a tensor ``W`` of the given ``shape`` (eq. 9):
    one partition per dimension, the last dimension the tasks.

    Examples
    --------
    >>> op = tensor_operator((4, 3), ("F", "C"))   # the L21 norm over rows
    >>> op.n_groups, op.group_size
    (4, 3)
    """
    if len(shape) != len(partitions):
        raise ValueError(f"one partition per dimension: shape {shape} but partitions {partitions}")
    blocks, widths = zip(*(partition_operators(kind, p) for kind, p in zip(partitions, shape)))
    D, group_size = _ordered_kron(list(blocks), list(widths))
    op = GenGLOperator(D.tocsr(), group_size, partitions, shape)
    op.check_blocks()
    return op


def gengl_operator(n_features, n_tasks, features, tasks):
    """GenGL operator of a weight matrix ``W`` (``n_features x n_tasks``),
    eq. (7): partition ``features`` along the rows and ``tasks`` along the
    columns (each one of ``"C"``, ``"F"``, ``"F2"``).

    ``("F", "C")`` is the group lasso over rows (L21), ``("C", "F")`` over
    columns, ``("F", "F")`` the lasso, ``("C", "F2")`` the pairwise task
    fusion of MeTaG, ``("F", "F2")`` its element-wise version.
    """
    return tensor_operator((n_features, n_tasks), (features, tasks))
