"""Losses and penalties, each written once in CVXPY and once in numpy.

The one parametrized test ``tests/test_terms.py`` holds, for every term,
the numpy value equal to the CVXPY value and each prox equal to the CVXPY
solution of its prox problem.
"""

from . import gengl, losses, operators, penalties
from .gengl import *  # noqa: F401,F403  (names listed in gengl.__all__)
from .losses import *  # noqa: F401,F403  (names listed in losses.__all__)
from .operators import *  # noqa: F401,F403  (names listed in operators.__all__)
from .penalties import *  # noqa: F401,F403  (names listed in penalties.__all__)

__all__ = losses.__all__ + penalties.__all__ + operators.__all__ + gengl.__all__
