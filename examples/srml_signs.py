"""Sign-regularised MTL on tasks that share the signs of their weights but
have fewer samples than features: independent ridge gets about a fifth of
the signs wrong; SRML (every pair of tasks compared) zeroes the disputed
weights instead, and predicts better; SSML forces consistent signs.

The problem is not convex: what can be certified is each convex step of
the ADMM.  The last w-step is checked against its CVXPY optimum."""

import pathlib

import mtlcvx as mc
from mtlcvx.datasets import make_srml_synthetic
from mtlcvx.metrics import mse, sign_agreement, sign_error_rate
from mtlcvx.plotting import have_matplotlib, save_figure, sign_mismatch_figure

(train, test), W_true = make_srml_synthetic(n_tasks=8, n_features=10, n_samples=(6, 200), flip=0.0, alpha_w=1.0,
                                            noise=0.1, random_state=0)

models = {
    "ridge": mc.STL(lam=0.1, fit_intercept=False),
    "SRML": mc.SRML(lam=0.1, c=0.05, pairs="all", fit_intercept=False),
    "SSML": mc.SSML(lam=0.1, pairs="all", fit_intercept=False),
}
for name, est in models.items():
    est.fit(train)
    print(f"{name:>5}: wrong signs {sign_error_rate(W_true, est.coef_):.3f}, "
          f"right signs {sign_agreement(W_true, est.coef_):.3f}, test MSE {mse(test.ys, est.predict(test)):.3f}")

srml = models["SRML"]
print(f"SRML: {srml.n_iter_} ADMM iterations, rho = {srml.rho_:.1f} (> 2H = {2 * srml.H_:.1f}: "
      f"{srml.rho_satisfies_theorem_}), sign violations left {srml.sign_violations_}")
print("SSML violations:", models["SSML"].sign_violations_)

model, params = srml.reference_model(train)  # the last w-step, at the final u, y, rho
print(mc.verify(srml, model, **params))

if have_matplotlib():
    path = pathlib.Path("srml_signs.png")
    save_figure(sign_mismatch_figure(W_true, {name: est.coef_ for name, est in models.items()},
                                     "sign mismatches: white = the sign matches"), path)
    print(f"figure: {path}")
