"""Figures (matplotlib is an optional extra: ``pip install "mtlcvx[plot]"``).

Heat maps of weights ``W`` (rows = features, columns = tasks) on a
symmetric red-blue scale, of memberships ``U`` (rows = groups, columns =
tasks) in grey, white = 1 and black = 0 as in the SG-MTL paper, and of
task-by-task similarities (BiGMTL's ``theta theta^T``); line plots.  Rows and
columns are numbered from 0, as the arrays (``coef_[feature, task]``,
``groups_[group, task]``) are.
"""

import numpy as np

__all__ = ["have_matplotlib", "sign_mismatch_figure", "plot_heatmaps", "heatmaps_figure", "memberships_figure",
           "order_groups", "task_similarity_figure", "lines_figure", "task_graph_figure", "save_figure",
           "MATPLOTLIB_NOTICE", "WEIGHT_LABEL", "MEMBERSHIP_LABEL"]

MATPLOTLIB_NOTICE = 'figures skipped: matplotlib is not installed (pip install "mtlcvx[plot]")'
WEIGHT_LABEL = "weight W[feature, task] (red > 0, blue < 0)"
MEMBERSHIP_LABEL = "membership: white = 1, the task belongs fully to the group; black = 0, not at all"


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


def _is_membership(M):
    # entries in [0, 1] alone would take an all-zero W (a large penalty) or a small non-negative W for a
    # membership: a membership's columns (tasks) also lie on the simplex
    if not (M.size and M.min() >= 0 and M.max() <= 1):
        return False
    return bool(np.allclose(M.sum(axis=0), 1.0) or np.allclose(M.sum(axis=1), 1.0))


def _integer_ticks(ax):
    # imshow puts cell i at coordinate i: ticks between cells (0.5 steps)
    # would name no row or column, and 80 features need a subset
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))


def _draw(ax, name, M, ylabel, xlabel, **scale):
    image = ax.imshow(M, aspect="auto", interpolation="nearest", **scale)
    ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
    ax.title.set_fontsize(9)
    _integer_ticks(ax)
    return image


def _draw_weights(ax, name, W, vmax, xlabel="task"):
    return _draw(ax, name, W, "feature", xlabel, cmap="RdBu_r", vmin=-vmax, vmax=vmax)


def _draw_membership(ax, name, U, xlabel="task"):
    return _draw(ax, name, U, "group", xlabel, cmap="gray", vmin=0, vmax=1)


def _max_abs(M):
    return float(np.abs(M).max()) or 1.0


def _weights_colorbar(fig, image, axes, location="right"):
    fig.colorbar(image, ax=axes, label=WEIGHT_LABEL, location=location, shrink=0.9 if location == "right" else 0.6)


def _membership_colorbar(fig, image, axes):
    bar = fig.colorbar(image, ax=axes, location="bottom", label=MEMBERSHIP_LABEL, shrink=0.6, aspect=40)
    bar.set_ticks([0, 0.5, 1])


def plot_heatmaps(matrices, path, title=None, xlabel="task", shared_scale=False):
    """Side-by-side heat maps, one panel per matrix, written to ``path``
    (format from the suffix); see :func:`heatmaps_figure`."""
    return save_figure(heatmaps_figure(matrices, title, xlabel, shared_scale), path)


def heatmaps_figure(matrices, title=None, xlabel="task", shared_scale=False):
    """Side-by-side heat maps, one panel per matrix; returns the figure.

    Matrices with entries in ``[0, 1]`` whose columns (or rows) sum to 1
    are drawn as memberships ``U`` (rows = groups) with one grey colorbar; others as weights ``W`` (rows =
    features), each with its own colorbar or, with ``shared_scale=True``,
    one scale and one colorbar for all so that magnitudes compare.

    Parameters
    ----------
    matrices : dict
        ``{panel title: 2-D array}``.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(matrices), figsize=(2.4 * len(matrices) + 1.5, 4.8), squeeze=False,
                             layout="constrained")
    axes = list(axes[0])
    weights = {ax: M for ax, M in zip(axes, matrices.values()) if not _is_membership(M)}
    common = max(map(_max_abs, weights.values()), default=1.0)
    images = {}
    for ax, (name, M) in zip(axes, matrices.items()):
        if ax in weights:
            images[ax] = _draw_weights(ax, name, M, common if shared_scale else _max_abs(M), xlabel)
        else:
            images[ax] = _draw_membership(ax, name, M, xlabel)
    _colorbars(fig, images, weights, shared_scale)
    if title:
        fig.suptitle(title)
    return fig


def _colorbars(fig, images, weights, shared_scale):
    memberships = [ax for ax in images if ax not in weights]
    if memberships:
        _membership_colorbar(fig, images[memberships[0]], memberships)
    if shared_scale and weights:
        _weights_colorbar(fig, images[next(iter(weights))], list(weights))
    elif weights:
        for ax in weights:
            _weights_colorbar(fig, images[ax], ax)


def memberships_figure(memberships, title=None, weights=None):
    """Memberships ``U`` stacked above one another, so that a task's column
    lines up across panels, with one grey colorbar.

    Parameters
    ----------
    memberships : dict
        ``{panel title: N x T array}``, columns on the simplex.
    weights : tuple, optional
        ``(panel title, d x T array)``: a ``W`` drawn on top, with its own
        colorbar.

    Returns the figure.
    """
    plt = _pyplot()
    heights = [max(1.2, 0.35 * U.shape[0]) for U in memberships.values()]
    if weights is not None:
        heights.insert(0, 4.5)
    fig, axes = plt.subplots(len(heights), 1, figsize=(7.5, sum(heights) + 0.8 * len(heights) + 1.0),
                             height_ratios=heights, layout="constrained", sharex=True, squeeze=False)
    fig.get_layout_engine().set(h_pad=0.08)
    axes = list(axes[:, 0])
    for ax in axes:
        # sharex hides all but the bottom tick labels; each panel has its own
        # title and "task" label, so it should read alone
        ax.xaxis.set_tick_params(labelbottom=True)
    if weights is not None:
        name, W = weights
        # below the panel, not beside it: a colorbar beside W would narrow it,
        # and its task columns would no longer sit above those of the U panels
        _weights_colorbar(fig, _draw_weights(axes[0], name, W, _max_abs(W)), axes[0], location="bottom")
        axes = axes[1:]
    images = [_draw_membership(ax, name, U) for ax, (name, U) in zip(axes, memberships.items())]
    _membership_colorbar(fig, images[0], axes)
    if title:
        fig.suptitle(title)
    return fig


def task_similarity_figure(matrices, title=None):
    """Task-by-task heat maps in ``[0, 1]`` side by side (BiGMTL's mean
    ``theta theta^T``: how much two tasks share a group), one colorbar.

    Parameters
    ----------
    matrices : dict
        ``{panel title: T x T array}``.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(matrices), figsize=(2.9 * len(matrices) + 1.0, 3.6), squeeze=False,
                             layout="constrained")
    axes = list(axes[0])
    images = [_draw(ax, name, M, "task", "task", cmap="viridis", vmin=0, vmax=1)
              for ax, (name, M) in zip(axes, matrices.items())]
    for ax in axes:
        ax.set_aspect("equal")
    fig.colorbar(images[0], ax=axes, shrink=0.8, label="theta theta^T (1: same group)")
    if title:
        fig.suptitle(title)
    return fig


def lines_figure(x, series, xlabel, ylabel, title=None, log_y=False, log_x=False, markers=True):
    """One line per series over the same ``x``, markers at the points
    (``markers=False`` for long series such as iteration histories).

    Parameters
    ----------
    series : dict
        ``{label: values}``, each as long as ``x``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    for label, values in series.items():
        ax.plot(x, values, marker="o" if markers else None, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    if log_y:
        ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def sign_mismatch_figure(W_true, estimates, title=None):
    """Figure 1 of the SRML paper: the true signs, then for every estimate
    ``(sign(W_hat) - sign(W*)) / 2`` (rows = features, columns = tasks):
    white where the sign matches, red where the estimate is above the
    truth's sign, blue where below; a zero weight is a half step.

    Parameters
    ----------
    W_true : ndarray (d, T)
    estimates : dict
        ``{panel title: W_hat}``.
    """
    plt = _pyplot()
    panels = {"truth: sign(W*)": np.sign(W_true),
              **{name: (np.sign(W) - np.sign(W_true)) / 2.0 for name, W in estimates.items()}}
    fig, axes = plt.subplots(1, len(panels), figsize=(2.2 * len(panels) + 1.5, 4.8), squeeze=False,
                             layout="constrained")
    for ax, (name, M) in zip(axes[0], panels.items()):
        image = _draw(ax, name, M, "feature", "task", cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="sign difference / 2 (0: match)")
    if title:
        fig.suptitle(title)
    return fig


def task_graph_figure(graphs, true_adjacency=None, title=None, positions=None):
    """Task graphs drawn as networks (networkx, in the ``plot`` extra), one
    panel per entry of ``graphs`` (``{name: adjacency}``, dense or sparse,
    weights >= 0): edge width and darkness follow the weight relative to
    the panel's largest; edges of ``true_adjacency`` are drawn green, the
    others red; every panel uses the same node positions (a spring layout
    of the true graph when given, else of the first graph, seeded)."""
    import networkx as nx
    import scipy.sparse as sp

    plt = _pyplot()
    dense = {name: (A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)) for name, A in graphs.items()}
    truth = None if true_adjacency is None else np.asarray(true_adjacency) != 0
    if positions is None:
        base = truth.astype(float) if truth is not None else next(iter(dense.values()))
        positions = nx.spring_layout(nx.from_numpy_array(base), seed=0)
    fig, axes = plt.subplots(1, len(dense), figsize=(4.2 * len(dense), 4.2), squeeze=False)
    for ax, (name, A) in zip(axes[0], dense.items()):
        G = nx.from_numpy_array(A)
        top = A.max(initial=0.0) or 1.0
        edges = list(G.edges(data="weight"))
        colors = ["tab:green" if truth is not None and truth[i, j] else "tab:red" for i, j, _ in edges]
        widths = [0.5 + 2.5 * w / top for _, _, w in edges]
        alphas = [0.25 + 0.75 * w / top for _, _, w in edges]
        nx.draw_networkx_nodes(G, positions, ax=ax, node_size=120, node_color="lightgrey", edgecolors="black")
        nx.draw_networkx_labels(G, positions, ax=ax, font_size=6)
        # true edges last, so that the wrong ones do not hide them
        for (i, j, _), color, width, alpha in sorted(zip(edges, colors, widths, alphas),
                                                     key=lambda item: item[1] == "tab:green"):
            nx.draw_networkx_edges(G, positions, edgelist=[(i, j)], ax=ax, edge_color=color, width=width, alpha=alpha)
        right = sum(c == "tab:green" for c in colors)
        ax.set_title(f"{name}: {len(edges)} edges" + (f", {right} true" if truth is not None else ""), fontsize=9)
        ax.set_axis_off()
    if truth is not None:
        fig.text(0.5, 0.01, "green: edge of the true graph; red: not; width and opacity: learned weight",
                 ha="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def order_groups(U):
    """Rows of ``U`` ordered by the first task each group holds most of
    (groups holding no task last): group numbers are arbitrary, and this
    order makes learned and true memberships comparable at a glance."""
    U = np.asarray(U)
    labels = U.argmax(axis=0)
    first = [np.flatnonzero(labels == g)[0] if np.any(labels == g) else U.shape[1] for g in range(U.shape[0])]
    return U[np.argsort(first, kind="stable")]


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (format from the suffix), close it, return ``path``."""
    fig.savefig(path, dpi=120, bbox_inches="tight", pad_inches=0.15)
    _pyplot().close(fig)
    return path
