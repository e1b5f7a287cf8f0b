"""Model selection that respects tasks, and scikit-learn's tools through an adapter.

* Splitters: :class:`TaskKFold` and :class:`TaskShuffleSplit` hold out a
  share of every task's samples; :class:`LeaveTasksOut` holds out whole
  tasks; :class:`PredefinedTaskSplit` takes fixed validation sets.
* :func:`cross_validate`, :func:`cross_val_score` and :class:`GridSearch`
  (``best_params_``, ``best_estimator_``, ``cv_results_``), parallel
  through joblib (``n_jobs``; a Dask cluster inside
  ``joblib.parallel_config("dask")``).
* Scorers: :func:`get_scorer` names (``neg_mse``, ``neg_rmse``,
  ``neg_nmse``, ``r2``, ``explained_variance``, ``accuracy``,
  ``roc_auc``; ``_per_task`` or ``_pooled`` appended to choose the
  average) and :func:`make_scorer`.
* :class:`LongFormat` and :class:`TaskScaler`: a long table with a task
  label per row, for scikit-learn's ``GridSearchCV``, ``cross_val_score``,
  ``Pipeline`` and splitters.

See ``docs/model_selection.md``.
"""

from ._adapter import LongFormat, TaskScaler, split_task_input
from ._scoring import MultiTaskScorer, check_scoring, get_scorer, get_scorer_names, make_scorer
from ._search import GridSearch, cross_val_score, cross_validate
from ._split import LeaveTasksOut, PredefinedTaskSplit, TaskKFold, TaskShuffleSplit, check_cv, take

__all__ = ["TaskKFold", "TaskShuffleSplit", "LeaveTasksOut", "PredefinedTaskSplit", "check_cv", "take",
           "cross_validate", "cross_val_score", "GridSearch", "MultiTaskScorer", "make_scorer",
           "get_scorer", "get_scorer_names", "check_scoring", "LongFormat", "TaskScaler", "split_task_input"]
