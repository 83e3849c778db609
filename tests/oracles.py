"""Independent oracles for the tests: NumPy only, never matdiff's own evaluator."""
import numpy as np


def fd_gradient(f, x, h=1e-6):
    """Central differences of a scalar function f, entry by entry (same shape as x)."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def mlp_hvp(W2, W1, X, Y, V2, V1):
    """H[V] of ||W2 tanh(W1 X) - Y||_F^2, written by hand: (W2, W1) along (V2, V1)."""
    h = np.tanh(W1 @ X)
    g = 1 - h * h
    r = W2 @ h - Y
    dh = g * (V1 @ X)
    dr = V2 @ h + W2 @ dh
    u = W2.T @ r
    return (2 * (dr @ h.T + r @ dh.T),
            2 * ((g * (V2.T @ r + W2.T @ dr) - 2 * (h * dh * u)) @ X.T))
