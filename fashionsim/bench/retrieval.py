"""Benchmark: Annoy against exact NumPy search, and recall@K evaluation against the reference's loop.

Data: clustered synthetic embeddings shaped like the siamese model's output
(128-d, L2-normalised, 100 points per cluster on average), seeded; the
queries are fresh points of the same clusters. Metric: euclidean, as the
reference notebook (reference/semihard_siamese_inceptionv3_notebook.txt)
indexed its seller images.

* Annoy (:class:`fashionsim.index.EmbeddingIndex`, seeded, one build thread):
  build time and index size for 10 and 50 trees, then queries/s and recall@10
  against exact search for three (n_trees, search_k) settings. Annoy's recall
  depends strongly on the data, so it is reported with every Annoy time.
* Exact search (:class:`fashionsim.index.ExactIndex`): batched matrix product,
  the comparison column of the Annoy query rows.
* recall@K evaluation: :func:`fashionsim.metrics.recall_at_k` against the
  REFERENCE APPROACH re-implemented in :mod:`fashionsim.bench.references`
  (:func:`~fashionsim.bench.references.reference_recall_at_k`, re-exported here:
  per query and per K, a set intersection, as the reference's ``recall`` helper).

Both searches run with one BLAS thread (Annoy answers one query per call on
one core). Peak MiB: Python/NumPy allocations traced by tracemalloc; Annoy's
C++ memory is reported as the saved index size and the process RSS growth.

``run(quick=True)`` gives the rows in seconds. Both recall@K computations agree:

>>> retrieved = [["a", "b", "c"], ["c", "a", "b"]]
>>> relevant = [{"b"}, {"d"}]
>>> reference_recall_at_k(retrieved, relevant, ks=(1, 2)) == recall_at_k(np.array(retrieved), relevant, (1, 2))
True
>>> recall_at_k(np.array(retrieved), relevant, (1, 2))
{1: 0.0, 2: 0.5}
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from fashionsim.bench._core import BenchRow, median_time, peak_memory_mib
from fashionsim.bench.references import REFERENCE_KS, reference_recall_at_k
from fashionsim.index import EmbeddingIndex, ExactIndex, annoy_recall
from fashionsim.metrics.retrieval import recall_at_k

__all__ = ["clustered_embeddings", "reference_recall_at_k", "run"]

KS = REFERENCE_KS


def clustered_embeddings(n: int, n_queries: int, dim: int = 128, *, per_cluster: int = 100, spread: float = 0.6,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(items (n, dim), queries (n_queries, dim)) float32 unit vectors around n/per_cluster Gaussian centres."""
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // per_cluster)
    centres = rng.normal(size=(n_clusters, dim)) / np.sqrt(dim)
    labels = rng.integers(n_clusters, size=n + n_queries)
    points = centres[labels] + spread / np.sqrt(dim) * rng.normal(size=(n + n_queries, dim))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    points = points.astype(np.float32)
    return points[:n], points[n:]


def _rss_mib() -> float | None:
    """Resident memory of this process in MiB (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import resource

    return pages * resource.getpagesize() / 2**20


def run(quick: bool = False) -> list[BenchRow]:
    """Annoy vs exact search at 100,000 x 128 (quick: 5,000 x 128), and recall@K evaluation speed."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _run(quick)


def _run(quick: bool) -> list[BenchRow]:
    n, n_queries = (5_000, 200) if quick else (100_000, 1_000)
    repeat = 1 if quick else 3
    k = 10
    items, queries = clustered_embeddings(n, n_queries, seed=0)
    ids = np.arange(n)
    size = f"{n:,} x 128, {n_queries} queries"
    rows: list[BenchRow] = []

    exact = ExactIndex.build(items, ids, metric="euclidean")
    exact_s = median_time(lambda: exact.search(queries, k), repeat=repeat, warmup=1)
    exact_peak = peak_memory_mib(lambda: exact.search(queries, k))
    rows.append(BenchRow(
        name="exact search (chunked matrix product)", size=size, ours_s=exact_s, peak_mib=exact_peak,
        note=f"{n_queries / exact_s:,.0f} queries/s, k={k}, 1 BLAS thread",
        extra={"queries_per_s": n_queries / exact_s, "n": n, "n_queries": n_queries},
    ))

    settings = [(10, -1), (50, -1), (50, 50 * k * 10)]
    forests: dict[int, EmbeddingIndex] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n_trees in sorted({t for t, _ in settings}):
            rss_before = _rss_mib()
            start = time.perf_counter()
            forest = EmbeddingIndex.build(items, ids, metric="euclidean", n_trees=n_trees, seed=0)
            build_s = time.perf_counter() - start
            rss_after = _rss_mib()
            file_mib = forest.save(Path(tmp) / f"bench_{n_trees}.ann").stat().st_size / 2**20
            rss_growth = None if rss_before is None else rss_after - rss_before
            forests[n_trees] = forest
            rows.append(BenchRow(
                name=f"annoy build n_trees={n_trees}", size=f"{n:,} x 128", ours_s=build_s,
                note=f"index {file_mib:.0f} MiB on disk"
                     + (f", RSS +{rss_growth:.0f} MiB while building" if rss_growth is not None else "")
                     + ", seeded, 1 thread",
                extra={"index_mib": file_mib, "rss_growth_mib": rss_growth, "n_trees": n_trees},
            ))
        for n_trees, search_k in settings:
            forest = forests[n_trees]
            query_s = median_time(lambda f=forest, s=search_k: f.search(queries, k, search_k=s),
                                  repeat=repeat, warmup=1)
            recall = annoy_recall(forest, exact, queries, k, search_k=search_k)
            shown_k = "default (n_trees*k)" if search_k == -1 else str(search_k)
            rows.append(BenchRow(
                name=f"annoy query n_trees={n_trees} search_k={shown_k}", size=size, ours_s=query_s,
                reference_s=exact_s,
                note=f"{n_queries / query_s:,.0f} queries/s, recall@{k} vs exact {recall:.3f}; "
                     "reference column = exact search",
                extra={"queries_per_s": n_queries / query_s, "recall_at_10": recall, "n_trees": n_trees,
                       "search_k": search_k},
            ))
        forests.clear()

    # recall@K evaluation over the reference's K, from a top-100 ranking (string ids, as catalogs have)
    n_eval = 2_000 if quick else 20_000
    rng = np.random.default_rng(1)
    retrieved = rng.integers(0, 50_000, size=(n_eval, 100))
    relevant_int = [set(r) for r in rng.integers(0, 50_000, size=(n_eval, 2)).tolist()]
    ours = median_time(lambda: recall_at_k(retrieved, relevant_int, KS), repeat=repeat)
    as_lists = retrieved.tolist()
    reference = median_time(lambda: reference_recall_at_k(as_lists, relevant_int, KS), repeat=1)
    same = recall_at_k(retrieved, relevant_int, KS) == reference_recall_at_k(as_lists, relevant_int, KS)
    rows.append(BenchRow(
        name="recall@K, K in 1..100 (vectorised vs reference loop)", size=f"{n_eval:,} queries x 100 int ids",
        ours_s=ours, reference_s=reference, peak_mib=peak_memory_mib(lambda: recall_at_k(retrieved, relevant_int, KS)),
        note="same values" if same else "VALUES DIFFER", extra={"same": same},
    ))
    str_retrieved = np.char.add("img", retrieved.astype(str)).astype(object)
    relevant_str = [{f"img{x}" for x in r} for r in relevant_int]
    ours_str = median_time(lambda: recall_at_k(str_retrieved, relevant_str, KS), repeat=repeat)
    str_lists = str_retrieved.tolist()
    reference_str = median_time(lambda: reference_recall_at_k(str_lists, relevant_str, KS), repeat=1)
    rows.append(BenchRow(
        name="recall@K, K in 1..100 (vectorised vs reference loop)", size=f"{n_eval:,} queries x 100 str ids",
        ours_s=ours_str, reference_s=reference_str,
        note="string ids: one hash per retrieved id", extra={},
    ))
    return rows


if __name__ == "__main__":  # pragma: no cover
    for row in run(quick=False):
        print(row.as_dict())
