"""Experiments, one module per paper, and the registry the CLI reads.

``run(name, quick=False, out=None)`` returns a dict with at least
``"table"`` (a list of rows ``{"method": ..., <metric>: ...}``); figures go
into ``out`` when matplotlib is installed.
"""

from threadpoolctl import threadpool_limits

from ._common import GRID_VERBOSE, stderr_progress

__all__ = ["REGISTRY", "register", "run", "available"]

REGISTRY = {}


def register(name, description):
    """Decorator adding an experiment function ``f(quick, out, progress,
    n_jobs)``."""

    def decorate(func):
        REGISTRY[name] = (func, description)
        return func

    return decorate


def available():
    """``{name: description}`` of the registered experiments."""
    _load()
    return {name: desc for name, (_, desc) in REGISTRY.items()}


def _load():
    from . import baselines, bigmtl, gengl, ggmtl, sgmtl, srml  # noqa: F401  (each registers itself)


def run(name, quick=False, out=None, progress=stderr_progress, n_jobs=None, verbose=0):
    """Run a registered experiment; ``progress`` receives one line per step
    (``None`` for silence).  ``n_jobs`` (joblib's) runs grid points, folds
    and repetitions in parallel processes; the tables do not depend on it.
    ``verbose=1`` shows a progress bar on every grid search (tqdm, the
    ``progress`` extra; a line per tenth of the grid without it).

    BLAS and OpenMP (scikit-learn's k-means) run single-threaded for the
    duration: the experiments are thousands of small fits, where threads
    only compete with each other and with whatever else the machine runs (``reproduce sgmtl
    --quick`` with both cores busy: 122 s with OpenBLAS's threads, 49 s
    with one; 31 s either way on an idle machine; measured)."""
    _load()
    if name not in REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; available: {sorted(REGISTRY)}")
    func, _ = REGISTRY[name]
    token = GRID_VERBOSE.set(verbose)
    try:
        with threadpool_limits(limits=1):
            return func(quick=quick, out=out, progress=progress or (lambda message: None), n_jobs=n_jobs)
    finally:
        GRID_VERBOSE.reset(token)
