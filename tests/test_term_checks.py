"""check_term: each half of a term is held to the others, and a wrong half
is named (issue 13's checks on a user's term)."""

import cvxpy as cp
import numpy as np
import pytest
from _builders import HalfThreshold, SparseLowRank

from mtlcvx.terms import (L1, L21, ClusteredPenalty, NuclearNorm, Penalty, ScaledGroupNorms, SquaredFrobenius,
                          TermCheckError, check_term)
from mtlcvx.terms.proximal import soft_threshold


@pytest.mark.parametrize("term, params, expected", [
    (L1(), {}, ["expr", "value", "degree", "prox"]),
    (L21(), {}, ["expr", "value", "degree", "prox"]),
    (NuclearNorm(), {}, ["expr", "value", "degree", "prox"]),
    (SquaredFrobenius(), {}, ["expr", "value", "degree", "prox"]),
    (ClusteredPenalty(2), {"eta": 0.5}, ["expr", "value", "degree"]),
    (ScaledGroupNorms(), {"P": np.array([[1.0, 0.5, 0.0], [0.2, 2.0, 1.0]])}, ["expr", "value", "degree"]),
], ids=lambda item: type(item).__name__ if isinstance(item, Penalty) else "")
def test_the_built_in_terms_pass_every_check_they_offer(term, params, expected):
    assert check_term(term, params=params) == expected


def test_a_users_term_with_expr_and_value_passes():
    assert check_term(SparseLowRank()) == ["expr", "value", "degree"]


class WrongValue(SparseLowRank):
    def value(self, W):
        return float(np.abs(W).sum())  # forgot the trace norm


class WrongDegree(SparseLowRank):
    degree = 2


class NotConvex(Penalty):
    def expr(self, W):
        return -cp.norm(W, "fro")


class NotDPP(Penalty):
    parameters = ("a",)

    def expr(self, W, a=None):
        return a * a * cp.sum(cp.abs(W))  # a product of parameters


class WrongShapeProx(L1):
    def prox(self, V, step):
        return soft_threshold(V, step).ravel()


@pytest.mark.parametrize("term, params, part, match", [
    (WrongValue(), {}, "value", "WrongValue.value disagrees with WrongValue.expr"),
    (WrongDegree(), {}, "degree", "declares degree=2"),
    (NotConvex(), {}, "expr", "not convex"),
    (NotDPP(), {"a": 2.0}, "expr", "not DPP"),
    (HalfThreshold(), {}, "prox", r"HalfThreshold.prox\(V, step=0.1\) is not the proximal point"),
    (WrongShapeProx(), {}, "prox", "returned shape"),
], ids=lambda item: type(item).__name__ if isinstance(item, Penalty) else None)
def test_a_wrong_part_is_named(term, params, part, match):
    with pytest.raises(TermCheckError, match=match) as info:
        check_term(term, params=params)
    assert info.value.part == part
    assert isinstance(info.value, ValueError)


def test_missing_parameters_and_non_terms_are_refused():
    with pytest.raises(ValueError, match=r"parameters \['a'\]"):
        check_term(NotDPP())
    with pytest.raises(TypeError, match="term must be"):
        check_term(lambda W: 0.0)
