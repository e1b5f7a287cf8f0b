"""Losses, penalties and constraints, each written once in CVXPY and once
in numpy; and the numeric :class:`Objective` a declaration becomes.

The parametrized test ``tests/test_terms.py`` holds, for every term, the
numpy value equal to the CVXPY value and each prox equal to the CVXPY
solution of its prox problem.  Importing this package does not import
cvxpy (tested): the fast solvers use the numpy halves.
"""

from . import base, checks, constraints, gengl, graph, losses, objective, operators, penalties, proximal, sgmtl, srml
from .base import *  # noqa: F401,F403  (names listed in base.__all__)
from .checks import *  # noqa: F401,F403
from .constraints import *  # noqa: F401,F403
from .gengl import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .objective import *  # noqa: F401,F403
from .operators import *  # noqa: F401,F403
from .penalties import *  # noqa: F401,F403
from .proximal import *  # noqa: F401,F403
from .sgmtl import *  # noqa: F401,F403
from .srml import *  # noqa: F401,F403

__all__ = (base.__all__ + checks.__all__ + constraints.__all__ + losses.__all__ + penalties.__all__ + operators.__all__
           + gengl.__all__ + graph.__all__ + sgmtl.__all__ + srml.__all__ + objective.__all__ + proximal.__all__)
