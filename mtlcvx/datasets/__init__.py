"""Synthetic generators (one per paper's protocol) and real-data loaders."""

from .real import load_computer, load_parkinsons, load_school
from .synthetic import (
    GENGL_SCENARIOS,
    GGMTL_STRUCTURES,
    SGMTL_CALIBRATED,
    make_bigmtl_synthetic,
    make_gengl_scenario,
    make_ggmtl_synthetic,
    make_group_sparse,
    make_sgmtl_set1,
    make_sgmtl_set2,
    make_sparse_low_rank,
    make_srml_synthetic,
)

__all__ = ["make_sparse_low_rank", "make_group_sparse", "make_sgmtl_set1", "make_sgmtl_set2", "SGMTL_CALIBRATED",
           "make_gengl_scenario", "GENGL_SCENARIOS", "make_bigmtl_synthetic", "make_srml_synthetic",
           "make_ggmtl_synthetic", "GGMTL_STRUCTURES", "load_school", "load_parkinsons", "load_computer"]
