"""Solutions to the exercises of notebook 05 (evaluation). Try them yourself first.

Each function is one exercise; ``tests/test_exercises.py`` runs them at small sizes and checks the
expected outcome the notebook states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd


def val_at_far_bounds(pairs: Mapping[str, Mapping], bounds: Sequence[float] = (0.20, 1e-2, 1e-3)) -> pd.DataFrame:
    """Exercise 1: threshold, VAL and FAR of every representation at every FAR bound.

    ``pairs``: name -> ``{"distances": (m,), "same": (m,) bool}`` (``reports[name]["pairs"]`` in notebook 05).
    """
    from fashionsim.metrics.verification import best_threshold

    rows = []
    for name, p in pairs.items():
        for bound in bounds:
            best = best_threshold(p["distances"], p["same"], far_bound=bound)
            rows.append({"representation": name, "FAR bound": bound, "threshold": best["threshold"],
                         "VAL": best["val"], "FAR": best["far"]})
    return pd.DataFrame(rows).set_index(["representation", "FAR bound"])


def matching_by_threshold(query_vectors, query_products, gallery_vectors, gallery_products,
                          thresholds: Sequence[float], *, k: int = 5) -> pd.DataFrame:
    """Exercise 2: the matching test's summary (accuracy@1, accuracy@k, no_match) at each threshold."""
    from fashionsim.evaluation import l2_normalize
    from fashionsim.metrics.verification import matching_test

    q, g = l2_normalize(query_vectors), l2_normalize(gallery_vectors)
    return pd.DataFrame({float(t): matching_test(q, query_products, g, gallery_products, float(t), k=k).summary()
                         for t in thresholds}).T.rename_axis("threshold")
