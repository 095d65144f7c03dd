"""Solutions to the exercises of notebook 04 (BPR and DVBPR). Try them yourself first.

Each function is one exercise; ``tests/test_exercises.py`` runs them at small sizes and checks the
expected outcome the notebook states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def sampled_auc_spread(scores, positives, exclude, n_negatives=(1, 10, 100), seeds=range(20)) -> pd.DataFrame:
    """Exercise 1: mean and standard deviation over seeds of the sampled AUC, per number of negatives.

    ``scores``, ``positives``, ``exclude`` as for ``fashionsim.metrics.auc``. Returns one row per
    number of negatives, with the full AUC alongside.
    """
    from fashionsim import metrics

    full = metrics.auc(scores, positives, exclude)
    rows = {}
    for n in n_negatives:
        draws = np.array([metrics.sampled_auc(scores, positives, exclude, n_negatives=n, seed=s) for s in seeds])
        rows[n] = {"mean": draws.mean(), "std": draws.std(), "full AUC": full, "|mean − full|": abs(draws.mean() - full)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("negatives per user")


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def theta_gradients(theta, f_i, f_j, *, repeat: int = 4, lambda_u: float = 1e-3) -> dict[str, float]:
    """Exercise 2: how the gradient with respect to θ grows when the same batch is repeated ``repeat`` times.

    theta, f_i, f_j: (B, K). Returns the ratio of gradient norms (repeated batch / batch) for the summed
    loss Σ softplus(−x), the mean loss mean softplus(−x), and the L2 term λ_u mean ‖θ_u‖².
    """
    def grads(t, a, b):
        x = np.sum(t * (a - b), axis=1)
        d_x = -_sigmoid(-x)                                   # d softplus(−x) / dx
        per_triple = d_x[:, None] * (a - b)                   # d/dθ_u of each triple's term
        return {"sum": per_triple.sum(0), "mean": per_triple.mean(0), "l2": (2 * lambda_u * t).mean(0)}

    once = grads(theta, f_i, f_j)
    many = grads(*(np.tile(v, (repeat, 1)) for v in (theta, f_i, f_j)))
    return {k: float(np.linalg.norm(many[k]) / np.linalg.norm(once[k])) for k in once}


def ordered_accuracy(theta, f_i, f_j, *, absolute: bool) -> float:
    """Exercise 3: the share of right rankings over both orders (u, i, j) and (u, j, i) of every triple.

    ``absolute=True`` scores θ_u · |f(i) − f(j)| (a distance), ``False`` the signed θ_u · (f(i) − f(j)).
    """
    def score(a, b):
        d = np.abs(a - b) if absolute else a - b
        return np.sum(theta * d, axis=1)

    forward, backward = score(f_i, f_j), score(f_j, f_i)
    # The user prefers i. The triple (u, i, j) is ranked right when x_uij > 0, its mirror (u, j, i) when
    # x_uji < 0. With a distance x_uji = x_uij: exactly one of the two is right, whatever θ and f are.
    right = np.concatenate([forward > 0, backward < 0])
    return float(right.mean())
