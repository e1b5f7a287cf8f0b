"""Generalized matrix functions and their Frechet derivative (numpy only;
below the terms and the solvers, which both use it).

For an odd scalar function ``h`` (``h(0) = 0``) and ``V = A diag(s) B^T``
(thin SVD), the generalized matrix function is ``h(V) = A diag(h(s)) B^T``
(Hawkins and Ben-Israel 1973).  Its derivative in a direction ``E`` is the
generalized Daleckii-Krein formula (Noferini 2017, Thm 3.5, Cor 3.10; the
BiGMTL paper's Lemma II.1).  Written with the thin SVD (``P >= T``; the
other orientation by transposition), ``E_hat = A^T E B``:

    Dh(V)[E] = A (F o E_hat + G o E_hat^T) B^T + (E B - A E_hat) diag(h(s)/s) B^T

    F_ij = (d1_ij + d2_ij) / 2,   G_ij = (d1_ij - d2_ij) / 2,
    d1_ij = (h(s_i) - h(s_j)) / (s_i - s_j)   (-> h'(s_i) when s_i = s_j),
    d2_ij = (h(s_i) + h(s_j)) / (s_i + s_j)   (-> h'(0)   when s_i = s_j = 0),

``o`` the Hadamard product; the last term acts on the part of ``E`` outside
the column space of ``A`` (absent for square ``V``), with ``h(s)/s -> h'(0)``
at ``s = 0``.  Derived here from the symmetric eigenvalue case applied to
the Jordan-Wielandt matrix ``[[0, V], [V^T, 0]]``; checked against central
finite differences in the tests, at repeated and at zero singular values.

Where two singular values are within ``TIE`` (relative) of each other, the
divided difference is replaced by ``h'`` at their mean: the error of that
is ``O((s_i - s_j)^2 h''')``, below rounding, where the quotient would lose
``eps / |s_i - s_j|`` of relative accuracy.

When ``h`` is the derivative of a function of the singular values (a
spectral function's gradient, as ``grad phi`` and ``grad phi*`` of BiGMTL
are), ``Dh(V)`` is a Hessian, hence self-adjoint: reverse mode applies it
as it is (tested).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["OddFunction", "SpectralPoint", "spectral_point", "soft_threshold_function", "TIE"]

#: Singular values closer than this (relative to ``max(1, s_max)``) are
#: treated as equal in the divided differences.
TIE = 1e-7


@dataclass(frozen=True)
class OddFunction:
    """An odd scalar function and its derivative, vectorised."""

    value: object
    derivative: object


@dataclass
class SpectralPoint:
    """A matrix ``V``, or a stack of them (leading axes), through its thin
    SVD, oriented so that ``A`` has at least as many rows as ``B``
    (``transposed`` says whether ``V^T`` was decomposed): what
    :func:`spectral_point` stores so that the map and its derivative reuse
    one SVD, for every matrix of the stack at once."""

    A: np.ndarray
    s: np.ndarray
    B: np.ndarray
    transposed: bool

    def _orient(self, M):
        return np.swapaxes(M, -1, -2) if self.transposed else M

    def with_values(self, s):
        """The matrix with the same singular vectors and values ``s``."""
        return SpectralPoint(self.A, s, self.B, self.transposed)

    def apply(self, h):
        """``h(V) = A diag(h(s)) B^T``."""
        return self._orient((self.A * h.value(self.s)[..., None, :]) @ np.swapaxes(self.B, -1, -2))

    def derivative(self, h, E):
        """``Dh(V)[E]``, the generalized Daleckii-Krein formula."""
        E = self._orient(np.asarray(E, dtype=float))
        A, s, B = self.A, self.s, self.B
        At, Bt = np.swapaxes(A, -1, -2), np.swapaxes(B, -1, -2)
        hs, dh = h.value(s), h.derivative(s)
        tie = TIE * max(1.0, float(s.max(initial=0.0)))
        diff = s[..., :, None] - s[..., None, :]
        total = s[..., :, None] + s[..., None, :]
        close = np.abs(diff) <= tie
        d1 = np.where(close, h.derivative(0.5 * total),
                      (hs[..., :, None] - hs[..., None, :]) / np.where(close, 1.0, diff))
        zero = total <= tie
        d2 = np.where(zero, h.derivative(np.zeros_like(total)),
                      (hs[..., :, None] + hs[..., None, :]) / np.where(zero, 1.0, total))
        diagonal = np.arange(s.shape[-1])
        d1[..., diagonal, diagonal] = dh
        EB = E @ B
        E_hat = At @ EB
        inner = 0.5 * (d1 + d2) * E_hat + 0.5 * (d1 - d2) * np.swapaxes(E_hat, -1, -2)
        out = A @ inner @ Bt
        if A.shape[-2] > A.shape[-1]:
            positive = s > tie
            ratio = np.where(positive, hs / np.where(positive, s, 1.0), h.derivative(np.zeros_like(s)))
            out = out + ((EB - A @ E_hat) * ratio[..., None, :]) @ Bt
        return self._orient(out)


def spectral_point(V):
    """The thin SVD of ``V`` (or of every matrix of a stack), oriented for
    :class:`SpectralPoint`."""
    V = np.asarray(V, dtype=float)
    transposed = V.shape[-2] < V.shape[-1]
    A, s, Bt = np.linalg.svd(np.swapaxes(V, -1, -2) if transposed else V, full_matrices=False)
    return SpectralPoint(A, s, np.swapaxes(Bt, -1, -2), transposed)


def soft_threshold_function(threshold):
    """``h(s) = max(s - threshold, 0)``: as a generalized matrix function,
    singular value thresholding, the prox of ``threshold ||.||_*``; its
    derivative is ``1[s > threshold]`` (undefined on the measure-zero set
    ``s = threshold``)."""
    threshold = float(threshold)
    return OddFunction(lambda s: np.maximum(s - threshold, 0.0), lambda s: (s > threshold).astype(float))
