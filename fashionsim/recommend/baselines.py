"""Baselines without images: popularity. (BPR-MF, the other baseline, is ``models.build_bpr_mf`` +
``training.train_bpr_mf``.) Taught in notebook 04.

>>> train = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], dtype=np.float32))
>>> scores = popularity_scores(train)          # (n_users, n_items) view, no copy
>>> scores.tolist(), scores.base is not None
([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]], True)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fashionsim.recommend.interactions import popularity


def popularity_scores(train: sp.spmatrix, n_users: int | None = None) -> np.ndarray:
    """Every user scores an item by its number of training interactions: a read-only (n_users, n_items) view.

    ``np.broadcast_to`` repeats one row without copying it, so the "matrix" costs
    n_items floats whatever the number of users.
    """
    counts = popularity(train)
    return np.broadcast_to(counts, (train.shape[0] if n_users is None else int(n_users), len(counts)))
