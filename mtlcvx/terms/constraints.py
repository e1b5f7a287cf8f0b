"""Constraints on a variable, each declared once for both paths."""

import numpy as np

from .base import Constraint

__all__ = ["EqualColumns"]


class EqualColumns(Constraint):
    """All columns of ``W`` equal (one weight vector shared by every task:
    ``W = w 1^T``)."""

    cone = True

    def expr(self, W):
        T = W.shape[1]
        if T == 1:
            return []
        return [W[:, 1:] == W[:, :1] @ np.ones((1, T - 1))]

    def violation(self, W):
        return float(np.abs(W - W[:, :1]).max(initial=0.0))

    def project(self, W):
        return np.repeat(W.mean(axis=1, keepdims=True), W.shape[1], axis=1)
