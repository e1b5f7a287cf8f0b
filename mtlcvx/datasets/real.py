"""Real multi-task regression datasets: School, Parkinsons telemonitoring, Computer survey.

School and Parkinsons ship with the package (``data/README.md`` beside this file gives their
provenance, licences and file conventions).  The Computer survey has no stated licence, so it
is not shipped: :func:`load_computer` reads it from a folder you provide.

Every loader looks for ``<name>/<name>.npz`` or ``<name>.npz`` in ``data_home``, then in the
folder named by the environment variable ``MTLCVX_DATA``, then (School and Parkinsons only) in
the bundled copy.  Nothing is scaled or centred: standardise inside your own training split,
or the test rows leak into the scaling.
"""

import os
from importlib import resources
from pathlib import Path

import numpy as np

from ..data import MultiTaskData

__all__ = ["load_school", "load_parkinsons", "load_computer"]

DATA_ENV = "MTLCVX_DATA"
_BUNDLED = ("school", "parkinsons")
_KEYS = ("X", "y", "task", "feature_names")
# dataset: (tasks, rows, features, extra arrays), as in data/README.md
_EXPECTED = {
    "school": (139, 15362, 27, ()),
    "parkinsons": (42, 5875, 19, ("y_motor", "subject")),
    "computer": (180, 3600, 13, ("is_test",)),
}
# the three papers' settings are column slices of the 19 stored columns (data/README.md)
_PARKINSONS_COLUMNS = {"all": list(range(19)), "ggmtl": [0, 1, *range(3, 19)], "gengl": list(range(3, 19))}
_PARKINSONS_TARGETS = {"total": "y", "motor": "y_motor"}
_COMPUTER_SPLITS = (None, "train", "test")


def _check_choice(value, argument, allowed):
    # identity or str equality only: `in` on arbitrary values (arrays, lists) can raise or mislead
    if not any(value is a or (isinstance(value, str) and value == a) for a in allowed):
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _search_paths(name, data_home):
    roots = [Path(root).expanduser() for root in (data_home, os.environ.get(DATA_ENV)) if root]
    return [root / rel for root in roots for rel in (Path(name, f"{name}.npz"), Path(f"{name}.npz"))]


def _computer_not_found(looked):
    where = "\n".join(f"  {p}" for p in looked) or f"  nowhere: data_home is None and {DATA_ENV} is unset"
    return FileNotFoundError(
        f"computer.npz not found. Looked in:\n{where}\n"
        "The Computer survey (Lenk et al. 1996) has no stated licence, so mtlcvx does not ship it. "
        "Put computer.npz (arrays X, y, task, is_test, feature_names; help(mtlcvx.datasets.load_computer) "
        "says how to build it) in a folder, as <folder>/computer/computer.npz or <folder>/computer.npz, "
        f"and pass data_home=<folder> or set the environment variable {DATA_ENV}=<folder>."
    )


def _read_checked(path, name):
    """The arrays of ``path``, after cheap checks that it holds ``name`` as documented."""
    n_tasks, n_rows, n_features, extras = _EXPECTED[name]
    keys = _KEYS + extras
    with np.load(path) as npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise ValueError(f"{path} does not hold the {name} dataset: arrays {missing} are missing")
        arrays = {k: npz[k] for k in keys}
    problems = []
    if arrays["X"].shape != (n_rows, n_features):
        problems.append(f"X has shape {arrays['X'].shape}, expected {(n_rows, n_features)}")
    problems += [f"{k} has shape {arrays[k].shape}, expected {(n_rows,)}"
                 for k in ("y", "task", *extras) if arrays[k].shape != (n_rows,)]
    if arrays["feature_names"].shape != (n_features,):
        problems.append(f"feature_names has shape {arrays['feature_names'].shape}, expected {(n_features,)}")
    task = arrays["task"]
    # the documented layout, which task_labels 0..m-1 and the per-task row order promise
    if task.shape == (n_rows,) and not (task[0] == 0 and task[-1] == n_tasks - 1
                                        and np.all(np.isin(np.diff(task), (0, 1)))):
        problems.append(f"task is not 0..{n_tasks - 1} with rows grouped by task")
    if problems:
        raise ValueError(f"{path} does not hold the {name} dataset as documented: " + "; ".join(problems))
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


def _load(name, data_home):
    looked = _search_paths(name, data_home)
    for path in looked:
        if path.is_file():
            return _read_checked(path, name)
    if name not in _BUNDLED:
        raise _computer_not_found(looked)
    with resources.as_file(resources.files(__package__) / "data" / f"{name}.npz") as path:
        return _read_checked(path, name)


def _to_multitask(X, y, task, feature_names):
    return MultiTaskData.from_long(X, y, task, feature_names=[str(f) for f in feature_names])


def load_school(return_raw=False, data_home=None):
    """The School dataset (ILEA exam scores): 139 schools, 15,362 students, 27 features.

    Task ``t`` is school ``t`` (``task_labels`` ``0..138``); its rows are its students in file
    order (22 to 251 per school).  The target is the exam score (integers 1 to 70).  The 27
    features are the one-hot encoding of Argyriou, Evgeniou & Pontil (2008), as shipped with
    MALSAR, without its constant bias column (add your own intercept):

    - ``year_1..3``: exam year (probably 1985, 1986, 1987);
    - ``pct_fsm``, ``pct_vr1``: the school's percentages of pupils eligible for free school
      meals and in verbal-reasoning band 1 (constant per school and year);
    - ``gender_1..2``, ``vr_band_1..3`` (15 rows have no band), ``ethnic_1..11``: the student;
    - ``school_gender_1..3``, ``school_denom_1..3``: the school (constant per school).

    The level meanings inside each one-hot group are not recorded in the source file (the
    "probably" labels are unverified).  The groups are collinear, so unregularised per-task
    least squares is rank-deficient.  No scaling is applied: standardise inside your own
    training split.

    Licence: no data licence is stated; the copy is the one redistributed under Apache-2.0 in
    the SRML repository (BaiTheBest/SRML), value for value equal to MALSAR's ``school.mat``.
    Cite Goldstein et al. (ILEA data), Argyriou, Evgeniou & Pontil, "Convex multi-task feature
    learning", Machine Learning 73(3), 2008, and MALSAR (Zhou, Chen & Ye, 2011).

    Parameters
    ----------
    return_raw : bool, default=False
        If True, return the arrays as stored (long format) instead of a ``MultiTaskData``.
    data_home : str or path-like, optional
        A folder holding ``school/school.npz`` or ``school.npz`` to read instead of the
        bundled copy; the environment variable ``MTLCVX_DATA`` is searched next.

    Returns
    -------
    data : MultiTaskData
        139 tasks, 27 features, with ``feature_names``.
    raw : dict of read-only ndarrays, if ``return_raw``
        ``X`` (15362, 27), ``y`` (15362,), ``task`` (15362,) ids ``0..138`` grouped by task,
        ``feature_names`` (27,).

    Examples
    --------
    >>> from mtlcvx.datasets import load_school
    >>> data = load_school()
    >>> data.n_tasks, data.n_features, sum(data.n_samples)
    (139, 27, 15362)
    >>> data.feature_names[:4]
    ['year_1', 'year_2', 'year_3', 'pct_fsm']
    >>> load_school(return_raw=True)["X"].shape
    (15362, 27)
    """
    raw = _load("school", data_home)
    if return_raw:
        return raw
    return _to_multitask(raw["X"], raw["y"], raw["task"], raw["feature_names"])


def load_parkinsons(target="total", features="all", data_home=None):
    """Parkinsons telemonitoring (UCI #189): 42 patients, 5,875 voice recordings.

    Task ``t`` is patient ``subject# = t + 1`` (``task_labels`` ``0..41``), 101 to 168
    recordings each, in file order.  The 19 stored features are ``age``, ``sex`` (0 male, 1
    female), ``test_time`` (days since recruitment; a few are negative, as in the UCI file),
    then 16 voice measures (``Jitter(%)`` ... ``PPE``).  ``age`` and ``sex`` are constant
    within a task.  The targets are clinician UPDRS scores, linearly interpolated to the
    recording times: ``total_UPDRS`` (7 to 54.99) or ``motor_UPDRS`` (5.04 to 39.51).
    No scaling is applied: standardise inside your own training split.

    Licence: CC BY 4.0 (UCI Machine Learning Repository).  Cite A. Tsanas, M. A. Little,
    P. E. McSharry, L. O. Ramig, "Accurate telemonitoring of Parkinson's disease progression
    by noninvasive speech tests", IEEE Trans. Biomed. Eng. 57(4):884-893, 2010.

    Parameters
    ----------
    target : {"total", "motor"}, default="total"
        ``total_UPDRS`` or ``motor_UPDRS`` (GGMTL uses ``"motor"``).
    features : {"all", "ggmtl", "gengl"}, default="all"
        ``"all"``: the 19 columns (BiGMTL's setting); ``"ggmtl"``: 18, all but ``test_time``
        (GGMTL, section 4.3); ``"gengl"``: the 16 voice measures (GenGL/SSMTL, Table 3).
    data_home : str or path-like, optional
        A folder holding ``parkinsons/parkinsons.npz`` or ``parkinsons.npz`` to read instead
        of the bundled copy; the environment variable ``MTLCVX_DATA`` is searched next.

    Returns
    -------
    data : MultiTaskData
        42 tasks, 19, 18 or 16 features, with ``feature_names``.

    Examples
    --------
    >>> from mtlcvx.datasets import load_parkinsons
    >>> data = load_parkinsons(target="motor", features="ggmtl")
    >>> data.n_tasks, data.n_features, sum(data.n_samples)
    (42, 18, 5875)
    >>> load_parkinsons(features="gengl").feature_names[:2]
    ['Jitter(%)', 'Jitter(Abs)']
    """
    _check_choice(target, "target", tuple(_PARKINSONS_TARGETS))
    _check_choice(features, "features", tuple(_PARKINSONS_COLUMNS))
    raw = _load("parkinsons", data_home)
    columns = _PARKINSONS_COLUMNS[features]
    return _to_multitask(raw["X"][:, columns], raw[_PARKINSONS_TARGETS[target]], raw["task"],
                         raw["feature_names"][columns])


def load_computer(data_home=None, split=None):
    """The Computer survey (Lenk et al. 1996): 180 persons each rating 20 computers.

    Not bundled (see Notes): the file is read from ``data_home`` or ``$MTLCVX_DATA``.

    Task ``t`` is person ``t`` (``task_labels`` ``0..179``).  Its rows are the 20
    hypothetical personal computers the person rated: first the 16 the source file holds as
    training profiles, then its 4 test profiles (every person rates the same 20 profiles, in
    different orders).  The 13 features ``attr_1..13`` are binary attributes coded -1/+1
    (hot line, RAM, screen size, CPU speed, hard disk, CD-ROM, cache, colour, availability,
    warranty, software, guarantee, price; the file does not record which is which), without
    the source's constant bias column.  The target is the likelihood of buying, integers 0
    to 10.  No scaling is applied.

    Parameters
    ----------
    data_home : str or path-like, optional
        A folder holding ``computer/computer.npz`` or ``computer.npz``; the environment
        variable ``MTLCVX_DATA`` is searched next.
    split : {None, "train", "test"}, default=None
        ``None``: all 20 rows per person; ``"train"``/``"test"``: the file's own 16/4.

    Returns
    -------
    data : MultiTaskData
        180 tasks, 13 features, with ``feature_names``; 20, 16 or 4 rows per task.

    Raises
    ------
    FileNotFoundError
        If no ``computer.npz`` is found; the message lists where it looked.

    Notes
    -----
    Licence: none is stated for the data or for the repository the known copy comes from
    (prolearner/onlineLTL, ``data/lenk_data.mat``, the code of Denevi et al. 2019), so mtlcvx
    does not redistribute it.  ``computer.npz`` holds ``X`` (3600, 13), ``y`` (3600,),
    ``task`` (3600,) ids ``0..179`` grouped by task, ``is_test`` (3600,) bool and
    ``feature_names`` (13,).  To build it from ``lenk_data.mat`` (``scipy.io.loadmat``): rows
    ``16t..16t+15`` of ``Traindata`` and ``4t..4t+3`` of ``Testdata`` are person ``t``; column 0
    is the bias (drop it), columns 1-13 the attributes, column 14 the rating.
    Cite P. J. Lenk, W. S. DeSarbo, P. E. Green, M. R. Young, "Hierarchical Bayes conjoint
    analysis: recovery of partworth heterogeneity from reduced experimental designs",
    Marketing Science 15(2):173-191, 1996; in multi-task learning, Argyriou, Evgeniou &
    Pontil (2008).

    Examples
    --------
    >>> from mtlcvx.datasets import load_computer
    >>> try:
    ...     train = load_computer(split="train")
    ... except FileNotFoundError:  # not installed on this machine
    ...     train = None
    >>> train is None or (train.n_tasks, train.n_features, set(train.n_samples)) == (180, 13, {16})
    True
    """
    _check_choice(split, "split", _COMPUTER_SPLITS)
    raw = _load("computer", data_home)
    rows = slice(None) if split is None else raw["is_test"] == (split == "test")
    return _to_multitask(raw["X"][rows], raw["y"][rows], raw["task"][rows], raw["feature_names"])
