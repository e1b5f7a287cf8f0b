"""Prediction errors and structure-recovery scores for multi-task models."""

import numpy as np
from sklearn.metrics import adjusted_rand_score, roc_auc_score

__all__ = ["AVERAGES", "mse", "rmse", "nmse", "r2", "explained_variance", "mae", "msle", "signed_log", "accuracy",
           "log_loss", "mean_auc", "support_f1", "sign_agreement", "sign_error_rate", "adjusted_rand",
           "fuzzy_graph_scores", "lukasiewicz_tnorm", "lukasiewicz_tconorm", "fuzzy_xor"]


def _pairs(ys_true, ys_pred):
    if len(ys_true) != len(ys_pred):
        raise ValueError(f"ys_true has {len(ys_true)} tasks but ys_pred has {len(ys_pred)}")
    out = []
    for t, (a, b) in enumerate(zip(ys_true, ys_pred)):
        a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
        if a.shape != b.shape:
            raise ValueError(f"task {t}: ys_true has {a.size} values but ys_pred has {b.size}")
        out.append((a, b))
    return out


AVERAGES = ("samples", "tasks")


def _average(per_task, sizes, average):
    """Combine one value per task: weighted by the tasks' sample counts
    (``"samples"``, each sample counts once) or not (``"tasks"``, each task
    counts once)."""
    if average == "samples":
        return float(np.average(per_task, weights=sizes))
    if average == "tasks":
        return float(np.mean(per_task))
    raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")


def mse(ys_true, ys_pred, average="samples"):
    """Mean squared error over tasks.

    ``average="samples"``: over all samples of all tasks pooled;
    ``"tasks"``: the mean over tasks of each task's MSE.
    """
    pairs = _pairs(ys_true, ys_pred)
    return _average([np.mean((a - b) ** 2) for a, b in pairs], [a.size for a, _ in pairs], average)


def rmse(ys_true, ys_pred, average="samples"):
    """Root mean squared error: ``sqrt(mse)`` of all samples pooled
    (``"samples"``), or the mean over tasks of each task's RMSE (``"tasks"``,
    the GGMTL paper's measure)."""
    if average == "samples":
        return float(np.sqrt(mse(ys_true, ys_pred)))
    pairs = _pairs(ys_true, ys_pred)
    return _average([np.sqrt(np.mean((a - b) ** 2)) for a, b in pairs], [a.size for a, _ in pairs], average)


def _variance(a):
    return max(np.var(a), np.finfo(float).tiny)


def nmse(ys_true, ys_pred, average="samples"):
    """Normalised MSE: each task's squared error divided by its target
    variance.  ``average="samples"`` is the GenGL/SSMTL and MALSAR
    definition, ``sum_t ||y_t - yhat_t||^2 / var(y_t)`` over ``sum_t n_t``
    (the per-task ``mse_t / var(y_t)`` weighted by ``n_t``); ``"tasks"`` the
    plain mean over tasks of ``mse_t / var(y_t)``."""
    pairs = _pairs(ys_true, ys_pred)
    return _average([np.mean((a - b) ** 2) / _variance(a) for a, b in pairs], [a.size for a, _ in pairs], average)


def _pooled_or_per_task(ys_true, ys_pred, score, average):
    """``score(y, yhat)`` of all samples pooled (``"samples"``), or the mean
    of the per-task scores (``"tasks"``): for scores that are not means over
    samples (R^2 normalises by the pooled variance), pooling is not a
    weighted mean of the tasks' values."""
    pairs = _pairs(ys_true, ys_pred)
    if average == "samples":
        return score(np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs]))
    return _average([score(a, b) for a, b in pairs], [a.size for a, _ in pairs], average)


def r2(ys_true, ys_pred, average="samples"):
    """Coefficient of determination: ``1 - SS_res / SS_tot`` of all samples
    pooled (``"samples"``, what the estimators' ``score`` returns), or the
    mean over tasks of each task's R^2 (``"tasks"``).  A constant target
    scores 1 if predicted exactly, else 0 (scikit-learn's convention)."""
    return _pooled_or_per_task(ys_true, ys_pred, _r2, average)


def _r2(a, b):
    ss_res, ss_tot = np.sum((a - b) ** 2), np.sum((a - a.mean()) ** 2)
    return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else float(ss_res == 0)


def explained_variance(ys_true, ys_pred, average="samples"):
    """``1 - var(y - yhat) / var(y)``, pooled (``"samples"``) or the mean
    over tasks (``"tasks"``); unlike R^2 it ignores a constant offset of the
    predictions."""
    return _pooled_or_per_task(ys_true, ys_pred, _explained_variance, average)


def _explained_variance(a, b):
    var_y = np.var(a)
    return float(1.0 - np.var(a - b) / var_y) if var_y > 0 else float(np.var(a - b) == 0)


def mae(ys_true, ys_pred):
    """Mean absolute error over all samples of all tasks pooled."""
    return float(np.mean(np.concatenate([np.abs(a - b) for a, b in _pairs(ys_true, ys_pred)])))


def signed_log(y):
    """``sign(y) log(1 + |y|)``: ``log1p`` made odd, so that negative values
    keep their order and their sign."""
    y = np.asarray(y, dtype=float)
    return np.sign(y) * np.log1p(np.abs(y))


def msle(ys_true, ys_pred):
    """Mean squared logarithmic error, pooled, through :func:`signed_log`:
    ``mean (slog(y) - slog(yhat))^2``.  The usual ``log(1 + y)`` (scikit-
    learn's ``mean_squared_log_error``) is undefined below -1, and the SRML
    synthetic targets are of either sign; on nonnegative values the two
    agree."""
    return float(np.mean(np.concatenate([(signed_log(a) - signed_log(b)) ** 2
                                         for a, b in _pairs(ys_true, ys_pred)])))


def accuracy(ys_true, ys_pred, average="samples"):
    """Share of correct labels over all samples of all tasks pooled
    (``"samples"``), or the mean over tasks of each task's share
    (``"tasks"``)."""
    pairs = _pairs(ys_true, ys_pred)
    return _average([np.mean(a == b) for a, b in pairs], [a.size for a, _ in pairs], average)


def log_loss(ys_true, scores, average="samples"):
    """Logistic loss ``log(1 + exp(-y z))`` of decision values ``z`` (labels
    in ``{-1, +1}`` or ``{0, 1}``, the positive class larger), the mean of
    all samples pooled (``"samples"``) or of the per-task means
    (``"tasks"``)."""
    pairs = _pairs(ys_true, scores)
    return _average([np.mean(np.logaddexp(0.0, -np.where(a > 0, 1.0, -1.0) * b)) for a, b in pairs],
                    [a.size for a, _ in pairs], average)


def mean_auc(ys_true, scores, average="tasks"):
    """Area under the ROC curve (labels in ``{-1, +1}`` or ``{0, 1}``;
    ``scores`` larger for the positive class, e.g. ``decision_function``).

    ``average="tasks"`` (default): the mean over tasks of each task's AUC,
    tasks with one class only skipped (NaN if every task has one class);
    ``"samples"``: one AUC of all scores pooled, which compares scores
    *across* tasks, meaningful only when the tasks' scores share a scale."""
    pairs = _pairs(ys_true, scores)
    if average == "samples":
        a, b = np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])
        return float(roc_auc_score(a > 0, b)) if np.unique(a > 0).size == 2 else float("nan")
    if average != "tasks":
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    aucs = [roc_auc_score(a > 0, b) for a, b in pairs if np.unique(a > 0).size == 2]
    return float(np.mean(aucs)) if aucs else float("nan")


def sign_agreement(W_true, W_est):
    """Share of the entries of ``W_est`` with the sign of ``W_true``
    (``np.sign``: a zero agrees only with a zero)."""
    W_true, W_est = np.asarray(W_true), np.asarray(W_est)
    if W_true.shape != W_est.shape:
        raise ValueError(f"W_true has shape {W_true.shape} but W_est has {W_est.shape}")
    return float(np.mean(np.sign(W_est) == np.sign(W_true)))


def sign_error_rate(W_true, W_est):
    """Share of the entries of ``W_est`` with the sign *opposite* to
    ``W_true``'s (zeros are not errors: a model that abstains on a sign is
    told apart from one that gets it wrong)."""
    W_true, W_est = np.asarray(W_true), np.asarray(W_est)
    if W_true.shape != W_est.shape:
        raise ValueError(f"W_true has shape {W_true.shape} but W_est has {W_est.shape}")
    return float(np.mean(np.sign(W_est) * np.sign(W_true) < 0))


def support_f1(W_true, W_est, atol=1e-8):
    """F1 score of the non-zero pattern of ``W_est`` against ``W_true``
    (entries with ``|W| > atol`` count as non-zero)."""
    true = np.abs(np.asarray(W_true)) > atol
    est = np.abs(np.asarray(W_est)) > atol
    if true.shape != est.shape:
        raise ValueError(f"W_true has shape {true.shape} but W_est has {est.shape}")
    tp = np.sum(true & est)
    denom = 2 * tp + np.sum(true & ~est) + np.sum(~true & est)
    return float(2 * tp / denom) if denom else 1.0


def adjusted_rand(labels_true, labels_pred):
    """Adjusted Rand index of two task partitions (scikit-learn's)."""
    return float(adjusted_rand_score(labels_true, labels_pred))


def lukasiewicz_tnorm(a, b):
    """The Lukasiewicz t-norm ``max(a + b - 1, 0)`` (fuzzy AND)."""
    return np.maximum(np.asarray(a, dtype=float) + np.asarray(b, dtype=float) - 1.0, 0.0)


def lukasiewicz_tconorm(a, b):
    """The Lukasiewicz t-conorm ``min(a + b, 1)`` (fuzzy OR)."""
    return np.minimum(np.asarray(a, dtype=float) + np.asarray(b, dtype=float), 1.0)


def fuzzy_xor(a, b):
    """``T(S(a, b), 1 - T(a, b))`` with the Lukasiewicz t-norm ``T`` and
    t-conorm ``S``: 1 where exactly one of two crisp values is 1."""
    return lukasiewicz_tnorm(lukasiewicz_tconorm(a, b), 1.0 - lukasiewicz_tnorm(a, b))


def _adjacency(A, name):
    import scipy.sparse as sp

    A = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square adjacency matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)) or A.min(initial=0.0) < 0 or A.max(initial=0.0) > 1:
        raise ValueError(f"{name} must hold truth values in [0, 1] (normalise weighted graphs first)")
    return A


def fuzzy_graph_scores(A_true, A_pred):
    """GGMTL's fuzzy graph measures (section 4.1) of a predicted weighted
    graph against a true one, from their adjacency matrices (entries in
    ``[0, 1]``, all ``n^2`` entries counted, as the paper's sums over
    ``0 <= i, j <= n``):

    * ``recall = sum T(a1, a2) / sum a1``, ``precision = sum T(a1, a2) / sum
      a2``, ``f1`` their harmonic mean;
    * ``accuracy = 1 - sum XOR(a1, a2) / n^2``.

    ``T`` is the Lukasiewicz t-norm and XOR the fuzzy exclusive or built
    from it (:func:`fuzzy_xor`).  The paper names ``min(a, b)`` as the
    t-conorm; with it, XOR(1, 0) would be 0, so we read the Lukasiewicz
    t-conorm ``min(a + b, 1)``, with which every measure reduces to the
    usual one on crisp (0/1) graphs (tested).  Empty sums give 0.

    Returns
    -------
    dict with ``accuracy``, ``recall``, ``precision``, ``f1``.
    """
    A1, A2 = _adjacency(A_true, "A_true"), _adjacency(A_pred, "A_pred")
    if A1.shape != A2.shape:
        raise ValueError(f"A_true is {A1.shape} but A_pred is {A2.shape}")
    both = float(lukasiewicz_tnorm(A1, A2).sum())
    recall = both / A1.sum() if A1.sum() > 0 else 0.0
    precision = both / A2.sum() if A2.sum() > 0 else 0.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    accuracy = 1.0 - float(fuzzy_xor(A1, A2).sum()) / A1.size
    return {"accuracy": accuracy, "recall": float(recall), "precision": float(precision), "f1": float(f1)}
