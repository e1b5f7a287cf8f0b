"""Figure 4(b) of the SG-MTL paper and its caption ("all tasks are assigned
to a single group"), for the known W of set-1 (docs/sgmtl.md, "Figure 4(b)
and the paper's caption").

The U-part of the relaxed (2) with the square-root reparameterisation
(``regularizer="l1"``) is ``R2(U) = sum_g lam sum_j sqrt(sum_t u_gt W_jt^2)``.
Subadditivity of sqrt gives ``R2(U) >= lam sum_j ||W_j||_2 = R2(single
group)`` for every U on the simplices, with equality iff the tasks that use a
feature all sit in one group.  Set-1's groups have disjoint supports, so every
hard assignment that keeps each true group together (27 of them) ties with the
single group; the U of our Figure 4(b) is one of them.

Tolerance: objectives are compared to a relative 1e-12 (the values are sums
of at most 63 square roots of order 1 to 10; rounding is about 1e-14).
"""

import itertools

import numpy as np
import pytest

from mtlcvx.datasets import make_sgmtl_set1
from mtlcvx.experiments.sgmtl import FIGURE4_REGULARIZERS, _figure4_memberships
from mtlcvx.models.sgmtl import reassign_tasks, sgmtl_u_objective, u_step
from mtlcvx.terms import ScaledGroupNorms

RTOL = 1e-12
N = 3


@pytest.fixture(scope="module")
def set1():
    _, W, groups = make_sgmtl_set1(random_state=0)
    return W, groups


def r2(W, U):
    """(2), relaxed, square-root reparameterisation (our ``"l1"``), lam = 1."""
    return sgmtl_u_objective(W, U, 1.0, 0.0, "l1")


def r2_without_sqrt(W, U):
    """(2) with only the constraint relaxed: ``sum_g sum_j ||W_j U_g||_2``."""
    return ScaledGroupNorms(U, 1).value(W)


def vertex(labels):
    U = np.zeros((N, len(labels)))
    U[labels, np.arange(len(labels))] = 1.0
    return U


def single_group(T):
    return vertex(np.zeros(T, dtype=int))


def test_single_group_attains_the_lower_bound_sum_of_row_norms(set1):
    W, groups = set1
    bound = np.linalg.norm(W, axis=1).sum()
    assert abs(r2(W, single_group(30)) - bound) <= RTOL * bound
    # the bound is specific to (2): eq. (5) strictly prefers the true grouping
    sqrt5 = lambda U: sgmtl_u_objective(W, U, 1.0, 0.0, "sqrt")  # noqa: E731
    assert sqrt5(vertex(groups)) < 0.5 * sqrt5(single_group(30))


def test_no_random_vertex_or_soft_membership_beats_the_single_group(set1):
    W, _ = set1
    f1 = r2(W, single_group(30))
    rng = np.random.default_rng(0)
    vertices = [r2(W, vertex(rng.integers(0, N, 30))) for _ in range(5000)]
    soft = [r2(W, rng.dirichlet(np.full(N, a), size=30).T) for a in (0.1, 1.0, 10.0) for _ in range(300)]
    assert min(vertices) >= f1 * (1 - RTOL)
    assert min(soft) >= f1 * (1 - RTOL)


def test_u_step_never_beats_the_single_group_and_reassignment_ties_it(set1):
    """Projected gradient alone can stop at a worse vertex (a true group
    split across two groups); after the greedy reassignment every start ends
    at the single group's objective, whatever the number of active groups."""
    W, _ = set1
    f1 = r2(W, single_group(30))
    stuck, active = 0, set()
    for seed in range(40):
        U0 = np.random.default_rng(seed).dirichlet(np.ones(N), size=30).T
        U, _ = u_step(W, U0, 1.0, 0.0, "l1", n_steps=2000)
        assert r2(W, U) >= f1 * (1 - RTOL)
        stuck += r2(W, U) > f1 * (1 + RTOL)
        U, _ = reassign_tasks(W, U, 1.0, 0.0, "l1")
        assert abs(r2(W, U) - f1) <= RTOL * f1
        active.add(int(np.sum(U.max(axis=1) > 0.5)))
    assert stuck > 0
    assert len(active) > 1


def _panel_b():
    memberships, _, _ = _figure4_memberships()
    (label,) = [label for label, regularizer in FIGURE4_REGULARIZERS.items() if regularizer == "l1"]
    return memberships[label]


def test_figure_4b_is_the_single_group_of_the_caption(set1):
    """The U-step and reassignment stop at a tie; merging breaks it toward
    the single group, at the same objective."""
    W, _ = set1
    U = _panel_b()
    f1 = r2(W, single_group(30))
    assert abs(r2(W, U) - f1) <= RTOL * f1
    assert np.sum(U.any(axis=1)) == 1


def test_the_tied_minimisers_are_the_groupings_that_keep_each_true_group_together(set1):
    """All 3^3 maps of the true groups to groups tie with the single group;
    moving any one task out of any of them costs at least 4 %."""
    W, groups = set1
    f1 = r2(W, single_group(30))
    smallest_increase = np.inf
    for image in itertools.product(range(N), repeat=N):
        labels = np.array(image)[groups]
        assert abs(r2(W, vertex(labels)) - f1) <= RTOL * f1
        for t, g in itertools.product(range(30), range(N)):
            if g != labels[t]:
                moved = labels.copy()
                moved[t] = g
                smallest_increase = min(smallest_increase, r2(W, vertex(moved)) / f1 - 1)
    assert smallest_increase >= 0.04


def test_without_the_square_root_the_single_group_ties_with_uniform_memberships(set1):
    """The other reading of (2), ``sum_g ||W U_g||_{1,2}`` with relaxed U:
    convex in U, and by the triangle inequality bounded below by the same
    ``sum_j ||W_j||_2``; the single group, the uniform U, the true grouping
    and our Figure 4(b) all attain it."""
    W, groups = set1
    bound = np.linalg.norm(W, axis=1).sum()
    for U in (single_group(30), np.full((N, 30), 1.0 / N), vertex(groups), _panel_b()):
        assert abs(r2_without_sqrt(W, U) - bound) <= RTOL * bound
    rng = np.random.default_rng(1)
    others = [r2_without_sqrt(W, rng.dirichlet(np.ones(N), size=30).T) for _ in range(500)]
    others += [r2_without_sqrt(W, vertex(rng.integers(0, N, 30))) for _ in range(500)]
    assert min(others) >= bound * (1 - RTOL)
