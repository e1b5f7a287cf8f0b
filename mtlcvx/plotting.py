"""Figures (matplotlib is an optional extra: ``pip install "mtlcvx[plot]"``)."""

import numpy as np

__all__ = ["have_matplotlib", "plot_heatmaps", "MATPLOTLIB_NOTICE"]

MATPLOTLIB_NOTICE = 'figures skipped: matplotlib is not installed (pip install "mtlcvx[plot]")'


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_heatmaps(matrices, path, title=None, xlabel="task", shared_scale=False):
    """Side-by-side heat maps, one panel per matrix.

    Matrices with entries in ``[0, 1]`` (memberships ``U``) are drawn in
    grey, white = 1 and black = 0 as in the SG-MTL paper; others (weights
    ``W``, features x tasks) on a symmetric red-blue scale, per panel or, with
    ``shared_scale=True``, one scale for all so that magnitudes compare.

    Parameters
    ----------
    matrices : dict
        ``{panel title: 2-D array}``.
    path : str or Path
        Where to write the figure (format from the suffix).
    """
    plt = _pyplot()
    signed = [np.abs(M).max() for M in matrices.values() if M.min() < 0 or M.max() > 1]
    common = max(signed, default=1.0) or 1.0
    fig, axes = plt.subplots(1, len(matrices), figsize=(1.8 * len(matrices) + 1.5, 4.2), squeeze=False)
    for ax, (name, M) in zip(axes[0], matrices.items()):
        if M.min() >= 0 and M.max() <= 1:
            ax.imshow(M, aspect="auto", cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_yticks(range(M.shape[0]))
            ax.set_ylabel("group")
        else:
            vmax = common if shared_scale else (float(np.abs(M).max()) or 1.0)
            ax.imshow(M, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
