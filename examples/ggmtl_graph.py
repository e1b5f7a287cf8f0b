"""Learn a sparse task graph with GGMTL on tasks generated along a line
(each task's weights drift a little from the previous task's), and compare
it with the k-nearest-neighbour graph it starts from: the bilevel outer
loop removes most of the k-NN edges, keeping those the validation error
asks for.  The refit of the weights is certified against its CVXPY
optimum, and the two graphs are drawn (networkx), true edges in green."""

import pathlib
import warnings

import mtlcvx as mc
from mtlcvx.datasets import make_ggmtl_synthetic
from mtlcvx.metrics import fuzzy_graph_scores
from mtlcvx.plotting import have_matplotlib, save_figure, task_graph_figure

(train, test), W_true, A_true = make_ggmtl_synthetic("line", n_samples=(20, 100), random_state=0)

knn = mc.GGMTL(lam=10.0, learn_edges=False).fit(train)
with warnings.catch_warnings():
    # the outer loop is capped at 30 iterations to keep the example short
    warnings.simplefilter("ignore", mc.ConvergenceWarning)
    ggmtl = mc.GGMTL(lam=10.0, gamma=0.5, max_iter=30, random_state=0).fit(train)

for name, est in (("k-NN", knn), ("GGMTL", ggmtl)):
    scores = fuzzy_graph_scores(A_true, est.adjacency())
    print(f"{name:>5}: {len(est.edges_):3d} edges, fuzzy accuracy {scores['accuracy']:.3f}, "
          f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, test R^2 {est.score(test):.3f}")

model, params = ggmtl.reference_model(train)
print(mc.verify(ggmtl.coef_, model, **params))

try:
    import networkx  # noqa: F401
except ImportError:
    networkx = None
if have_matplotlib() and networkx is not None:
    fig = task_graph_figure({"k-NN": knn.graph_, "GGMTL": ggmtl.graph_}, A_true,
                            title="Line set: the learned graph against the k-NN graph")
    path = pathlib.Path("ggmtl_graph.png")
    save_figure(fig, path)
    print(f"wrote {path}")
