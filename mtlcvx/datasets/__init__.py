"""Synthetic generators (one per paper's protocol) and real-data loaders."""

from .synthetic import make_sparse_low_rank

__all__ = ["make_sparse_low_rank"]
