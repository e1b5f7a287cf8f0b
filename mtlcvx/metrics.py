"""Prediction errors and structure-recovery scores for multi-task models."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

__all__ = ["mse", "rmse", "nmse", "support_f1", "adjusted_rand"]


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


def mse(ys_true, ys_pred, average="samples"):
    """Mean squared error over tasks.

    ``average="samples"``: over all samples of all tasks pooled;
    ``"tasks"``: the mean over tasks of each task's MSE.
    """
    pairs = _pairs(ys_true, ys_pred)
    if average == "samples":
        return float(np.mean(np.concatenate([(a - b) ** 2 for a, b in pairs])))
    if average == "tasks":
        return float(np.mean([np.mean((a - b) ** 2) for a, b in pairs]))
    raise ValueError(f"average must be 'samples' or 'tasks', got {average!r}")


def rmse(ys_true, ys_pred, average="samples"):
    """Square root of :func:`mse`."""
    return float(np.sqrt(mse(ys_true, ys_pred, average)))


def nmse(ys_true, ys_pred):
    """Normalised MSE: ``sum_t ||y_t - yhat_t||^2 / var(y_t)`` over ``sum_t n_t``
    (each task's squared error divided by its target variance, as in
    the GenGL/SSMTL and MALSAR evaluations)."""
    pairs = _pairs(ys_true, ys_pred)
    total = sum(np.sum((a - b) ** 2) / max(np.var(a), np.finfo(float).tiny) for a, b in pairs)
    return float(total / sum(a.size for a, _ in pairs))


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
