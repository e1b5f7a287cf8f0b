"""Figures (matplotlib is an optional extra: ``pip install "mtlcvx[plot]"``)."""

import numpy as np

__all__ = ["have_matplotlib", "plot_weight_heatmaps", "MATPLOTLIB_NOTICE"]

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


def plot_weight_heatmaps(matrices, path, title=None):
    """Side-by-side heat maps of weight matrices (features x tasks), on one
    symmetric colour scale so that magnitudes compare across panels.

    Parameters
    ----------
    matrices : dict
        ``{panel title: W}``, each ``W`` of shape ``(d, T)``.
    path : str or Path
        Where to write the figure (format from the suffix).
    """
    plt = _pyplot()
    vmax = max(float(np.abs(W).max()) for W in matrices.values()) or 1.0
    fig, axes = plt.subplots(1, len(matrices), figsize=(1.6 * len(matrices) + 1.5, 4.2), squeeze=False)
    for ax, (name, W) in zip(axes[0], matrices.items()):
        image = ax.imshow(W, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("task")
        if ax is not axes[0][0]:
            ax.set_yticks([])
    axes[0][0].set_ylabel("feature")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
