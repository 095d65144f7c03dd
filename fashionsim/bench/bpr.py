"""Benchmark: BPR triple sampling and AUC over all items, fashionsim against the reference approaches.

* Sampling one epoch of BPR triples (as many as training interactions):
  :class:`fashionsim.recommend.BPRSampler` (bulk, exact, one ``searchsorted``)
  against the reference notebook's sampler, re-implemented faithfully below —
  a Python loop per triple, ``random.randrange`` draws, and a rejection loop
  that rebuilds the user's item list (``[item[b'productid'] for item in
  user_train[u]]``) on every draw. Sizes: the demo's (320 users × 360 items)
  and 100,000 users × 50,000 items.
* AUC over all items: :func:`fashionsim.metrics.auc` (chunks of users, scores
  computed per chunk from user and item vectors, bounded memory) against a
  per-user Python loop calling ``sklearn.metrics.roc_auc_score``. Sizes: the
  demo's and 10,000 users × 50,000 items (there the loop runs on a subset of
  users and its time is scaled to all users: said in the row's note).

>>> rows = run(quick=True)        # doctest: +SKIP
"""

from __future__ import annotations

import random

import numpy as np
import scipy.sparse as sp

from fashionsim.bench._core import BenchRow, median_time, peak_memory_mib

DEMO = (320, 360)


def synthetic_train(n_users: int, n_items: int, seed: int = 0, mean_degree: float = 12.0) -> sp.csr_matrix:
    """Users with 5–40 items each (log-normal counts around ``mean_degree``), items by a Zipf-like popularity."""
    rng = np.random.default_rng(seed)
    degree = np.clip(np.round(np.exp(rng.normal(np.log(mean_degree), 0.6, n_users))), 5, min(40, n_items - 1))
    degree = degree.astype(np.int64)
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.8
    rows = np.repeat(np.arange(n_users), degree)
    cols = rng.choice(n_items, size=int(degree.sum()), p=weights / weights.sum())
    train = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    train.sum_duplicates()
    train.data[:] = 1.0
    return train


# ------------------------------------------------------------------------------------------ reference
def reference_user_train(train: sp.csr_matrix) -> dict[int, list[dict[bytes, int]]]:
    """The reference's data layout: per user a list of review dicts ``{b'productid': item}``."""
    return {u: [{b"productid": int(i)} for i in train.indices[train.indptr[u]:train.indptr[u + 1]]]
            for u in range(train.shape[0])}


def reference_sample(user_train: dict, n_items: int, n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """REFERENCE APPROACH (re-implemented faithfully, as slow as it is): one triple per loop iteration.

    A random user, a random item of theirs, then j drawn and re-drawn while it is
    in the list comprehension of the user's items, rebuilt on every test.
    """
    rnd = random.Random(seed)
    users = [u for u in user_train if user_train[u]]
    triples = []
    for _ in range(n):
        u = users[rnd.randrange(len(users))]
        i = user_train[u][rnd.randrange(len(user_train[u]))][b"productid"]
        j = rnd.randrange(n_items)
        while j in [item[b"productid"] for item in user_train[u]]:
            j = rnd.randrange(n_items)
        triples.append((u, i, j))
    return triples


def reference_auc(user_vectors: np.ndarray, item_vectors: np.ndarray, positives: np.ndarray,
                  exclude: sp.csr_matrix, users: np.ndarray) -> float:
    """REFERENCE APPROACH: a Python loop over users, each scored and passed to ``roc_auc_score``."""
    from sklearn.metrics import roc_auc_score

    values = []
    n_items = len(item_vectors)
    for u in users:
        scores = item_vectors @ user_vectors[u]
        keep = np.ones(n_items, dtype=bool)
        keep[exclude.indices[exclude.indptr[u]:exclude.indptr[u + 1]]] = False
        keep[positives[u]] = True
        labels = np.zeros(n_items, dtype=bool)
        labels[positives[u]] = True
        values.append(roc_auc_score(labels[keep], scores[keep]))
    return float(np.mean(values))


# ------------------------------------------------------------------------------------------ rows
def _sampler_row(n_users: int, n_items: int, repeat: int, ref_triples: int | None = None,
                 epochs: int = 1, epoch_size: int | None = None) -> BenchRow:
    from fashionsim.recommend import BPRSampler

    train = synthetic_train(n_users, n_items)
    n = train.nnz if epoch_size is None else int(epoch_size)
    total = n * epochs
    sampler = BPRSampler(train)

    def ours_epochs():  # one call per epoch, seeded per epoch, as train_dvbpr draws them
        for epoch in range(epochs):
            sampler.sample(n, seed=np.random.default_rng([1, epoch]))

    ours = median_time(ours_epochs, repeat=repeat, warmup=1)
    peak = peak_memory_mib(lambda: sampler.sample(n, seed=1))
    user_train = reference_user_train(train)
    ref_n = total if ref_triples is None else min(total, ref_triples)
    ref = median_time(lambda: reference_sample(user_train, n_items, ref_n, seed=1), repeat=max(1, repeat // 2))
    note = ("epoch = as many triples as training interactions" if epoch_size is None else
            f"epoch = {n:,} triples (train_dvbpr's default on the demo: ≥ 8 batches of 2,048)")
    note += f", {epochs} epoch(s), one sampler call each; sampler index built once, not timed"
    if ref_n < total:
        ref *= total / ref_n
        note += f"; reference ran {ref_n:,} triples, its time scaled ×{total / ref_n:.1f}"
    return BenchRow("BPR sampling: bulk exact sampler vs rejection loop", f"{n_users:,} users × {n_items:,} items, "
                    f"{epochs} × {n:,} triples", ours, ref, peak, note)


def _auc_row(n_users: int, n_items: int, repeat: int, ref_users: int | None = None, dim: int = 50) -> BenchRow:
    from fashionsim.metrics import auc
    from fashionsim.recommend import FactorScores

    rng = np.random.default_rng(0)
    train = synthetic_train(n_users, n_items, seed=1)
    user_vectors = rng.normal(size=(n_users, dim)).astype(np.float32)
    item_vectors = rng.normal(size=(n_items, dim)).astype(np.float32)
    from fashionsim.recommend import BPRSampler

    positives = BPRSampler(train).negatives(np.arange(n_users), rng)  # a held-out (non-training) item per user
    scores = FactorScores(user_vectors, item_vectors)
    chunk = max(1, (1 << 22) // n_items)
    ours = median_time(lambda: auc(scores, positives, train, chunk_size=chunk), repeat=repeat)
    peak = peak_memory_mib(lambda: auc(scores, positives, train, chunk_size=chunk))
    users = np.arange(n_users) if ref_users is None else np.arange(min(n_users, ref_users))
    ref = median_time(lambda: reference_auc(user_vectors, item_vectors, positives, train, users),
                      repeat=max(1, repeat // 2))
    check = users[:200]
    same = abs(reference_auc(user_vectors, item_vectors, positives, train, check)
               - auc(FactorScores(user_vectors[check], item_vectors), positives[check], train[check]))
    note = f"scores computed per chunk of {chunk:,} users (never the full matrix); |ours − sklearn| = {same:.1e}"
    if len(users) < n_users:
        ref *= n_users / len(users)
        note += f"; reference ran {len(users):,} users, its time scaled ×{n_users / len(users):.0f}"
    return BenchRow("AUC over all items: chunked vectorised vs per-user sklearn loop",
                    f"{n_users:,} users × {n_items:,} items", ours, ref, peak, note)


def run(quick: bool = False) -> list[BenchRow]:
    """The BPR rows: demo size and the large sizes (``quick``: small sizes, seconds in all)."""
    if quick:
        return [_sampler_row(*DEMO, repeat=3, epochs=3, epoch_size=16_384),
                _sampler_row(5_000, 5_000, repeat=1, ref_triples=20_000),
                _auc_row(*DEMO, repeat=1, ref_users=100), _auc_row(1_000, 5_000, repeat=1, ref_users=50)]
    return [
        _sampler_row(*DEMO, repeat=5, epochs=40, epoch_size=16_384),
        _sampler_row(100_000, 50_000, repeat=3, ref_triples=200_000),
        _auc_row(*DEMO, repeat=5),
        _auc_row(10_000, 50_000, repeat=1, ref_users=500),
    ]


if __name__ == "__main__":  # python -m fashionsim.bench.bpr [--quick]
    import sys

    for row in run(quick="--quick" in sys.argv):
        ratio = f"{row.ratio:,.0f}×" if row.ratio else "-"
        print(f"{row.name} | {row.size} | ours {row.ours_s:.4f} s | reference {row.reference_s:.3f} s | "
              f"{ratio} | peak {row.peak_mib:.1f} MiB | {row.note}")
