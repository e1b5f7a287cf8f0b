"""Independent work in parallel, through joblib, with an optional progress bar.

One place for every ``n_jobs`` of the package (grid points, folds, SG-MTL
restarts, ``reproduce`` repetitions).  joblib's backend is whatever is
current, loky processes by default, and a Dask cluster inside
``joblib.parallel_config("dask")``: the same code runs on both.  Results
come back in the order of the calls, never in the order workers finish,
which is what makes ``n_jobs`` invisible in the results.
"""

import sys

from joblib import Parallel

__all__ = ["run_parallel", "progress_bar"]


def progress_bar(total, desc, verbose):
    """A tqdm bar on stderr when ``verbose`` and tqdm is installed (the
    ``progress`` extra), a line per tenth of the work when only ``verbose``,
    nothing when ``verbose=0``."""
    if not verbose:
        return _NoProgress()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _LineProgress(total, desc)
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


class _NoProgress:
    def update(self, n=1):
        pass

    def close(self):
        pass


class _LineProgress:
    def __init__(self, total, desc):
        self.total, self.desc, self.done, self.next = total, desc, 0, max(1, total // 10)

    def update(self, n=1):
        self.done += n
        if self.done >= self.next or self.done == self.total:
            print(f"[{self.desc}] {self.done}/{self.total}", file=sys.stderr, flush=True)
            self.next = self.done + max(1, self.total // 10)

    def close(self):
        pass


def run_parallel(calls, n_jobs=None, verbose=0, desc="mtlcvx"):
    """Run the ``joblib.delayed`` ``calls``; their results, in the calls'
    order, with a progress bar when ``verbose``."""
    calls = list(calls)
    bar = progress_bar(len(calls), desc, verbose)
    results = []
    try:
        for result in Parallel(n_jobs=n_jobs, return_as="generator")(calls):
            results.append(result)
            bar.update()
    finally:
        bar.close()
    return results
