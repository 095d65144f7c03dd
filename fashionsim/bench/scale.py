"""Benchmark at scale: 1,000,000 generated image records as shard files, merged into one Annoy index.

What is measured is the file formats, the merge, the index and the queries,
not the CNN: the vectors are synthetic (128-d unit vectors around 10,000
Gaussian centres, 100 images a centre on average, seeded), written as
N shard files in exactly the format ``fashionsim embed --shard K/N`` writes
(:func:`fashionsim.shards.write_embeddings`). Quick: 20,000 records.

Rows:

* writing the N shard files (ids, products, shard keys in the sidecars);
* checking them (:func:`fashionsim.shards.check_shards`: one model, disjoint,
  complete, the id digest);
* merge + build: ``fashionsim index shard1.npy ... --out idx.ann`` in a child
  process, in memory and ``--on-disk``: wall time, peak resident memory of
  that process (its VmHWM), index size on disk; the CLI's own baseline RSS on
  a 1,000-vector file is in the note;
* exact search (NumPy, blocks of 16,384 rows streamed from the shard files, 1
  thread) as ground truth and reference column;
* Annoy queries/s at the smallest ``n_trees`` in (10, 25, 50, 100) and, on it,
  the smallest ``search_k`` in ``n_trees * 10 * (1, 2, 4, ..., 64)`` that give
  recall@10 >= 0.95 against exact search (on 500 queries; throughput on 2,000);
* the same build and query rows for one category of ten: 100,000 records of
  the same density (1,000 centres), what a category-sharded index (one
  index per category, the query routed to its category) would search;
* embedding throughput per core on real decodes: the siamese embedding network
  (InceptionV3 avg pool -> 512 -> 128, random weights: same arithmetic as
  ImageNet's) over 384 generated JPEG and PNG files at 96 px, in a child
  process pinned to one CPU with one TensorFlow thread (median of 3 passes).

The load average of the machine is reported with the rows (``extra["load"]``).
Run alone: ``python -m fashionsim.bench.scale [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fashionsim.bench._core import BenchRow, median_time
from fashionsim.shards import check_shards, ids_digest, iter_blocks, shard_bounds, write_embeddings

__all__ = ["clustered_block", "exact_top_k", "run", "write_shards"]

FULL = {"n": 1_000_000, "shards": 4, "recall_queries": 500, "speed_queries": 2_000, "images": 384}
QUICK = {"n": 20_000, "shards": 3, "recall_queries": 100, "speed_queries": 200, "images": 32}
DIM, K, PER_CLUSTER, SPREAD = 128, 10, 100, 0.6
N_TREES = (10, 25, 50, 100)
SEARCH_K_FACTORS = (1, 2, 4, 8, 16, 32, 64)
FINGERPRINT = "0123456789abcdef"      # 16 hex digits like a model's; the vectors are generated
IMAGE_SIZE = 96
_BLOCK = 65_536


# ------------------------------------------------------------------ data
def _centres(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng([seed, 0])
    return rng.normal(size=(max(1, n // PER_CLUSTER), DIM)) / np.sqrt(DIM)


def clustered_block(centres: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` float32 unit vectors, each a random centre plus Gaussian noise (seeded by ``seed``)."""
    rng = np.random.default_rng(seed)
    points = centres[rng.integers(len(centres), size=n)]
    points = points + SPREAD / np.sqrt(DIM) * rng.normal(size=points.shape)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def write_shards(folder: Path, n: int, n_shards: int, seed: int = 0) -> list[Path]:
    """Write ``n`` generated records as ``n_shards`` files in the format of ``embed --shard K/N``."""
    centres = _centres(n, seed)
    ids = np.char.add("img", np.char.zfill(np.arange(n).astype(str), 7)).tolist()
    products = np.char.add("p", np.char.zfill((np.arange(n) // 4).astype(str), 6)).tolist()
    digest = ids_digest(ids)
    paths = []
    for k in range(1, n_shards + 1):
        start, stop = shard_bounds(n, k, n_shards)
        blocks = (clustered_block(centres, min(_BLOCK, stop - s), seed=(seed, 1, s))
                  for s in range(start, stop, _BLOCK))
        paths.append(write_embeddings(
            folder / f"shard{k}.npy", blocks, ids[start:stop], dim=DIM, fingerprint=FINGERPRINT,
            extra={"products": products[start:stop], "shard": f"{k}/{n_shards}", "first_row": start,
                   "n_total": n, "ids_digest": digest, "image_size": IMAGE_SIZE, "generated": True}))
    return paths


def exact_top_k(shard_set, queries: np.ndarray, k: int = K, *, block_rows: int = 16_384) -> np.ndarray:
    """Row positions (n_queries, k) of the exact nearest (largest cosine) vectors, streamed block by block."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_p = np.zeros((len(q), k), dtype=np.int64)
    offset = 0
    for block, _ in iter_blocks(shard_set, rows=block_rows):
        scores = q @ (block / np.linalg.norm(block, axis=1, keepdims=True)).T
        top = np.argpartition(-scores, min(k, len(block)) - 1, axis=1)[:, :k]
        all_s = np.hstack([best_s, np.take_along_axis(scores, top, 1)])
        all_p = np.hstack([best_p, top + offset])
        keep = np.argpartition(-all_s, k - 1, axis=1)[:, :k]
        best_s, best_p = np.take_along_axis(all_s, keep, 1), np.take_along_axis(all_p, keep, 1)
        offset += len(block)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_p, order, 1)


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([np.isin(e, a).mean() for e, a in zip(exact, approx[:, :exact.shape[1]])]))


# ------------------------------------------------------------------ the CLI in a child process
# The child reports its own high-water mark (VmHWM belongs to the address space made at exec), not
# wait4's ru_maxrss: that one also counts the forked copy of this (large) parent before exec. It also
# samples RssAnon (memory that is not a mapped file page the kernel may drop) every 20 ms.
_CHILD = """
import sys, threading
from fashionsim.cli import main

def status(key):
    return int(next(l for l in open('/proc/self/status') if l.startswith(key)).split()[1])

peak_anon, done = [0], threading.Event()
def sample():
    while not done.wait(0.02):
        peak_anon[0] = max(peak_anon[0], status('RssAnon:'))
threading.Thread(target=sample, daemon=True).start()
code = main(sys.argv[1:])
done.set()
sys.stderr.write(f"\\nPEAK_KIB {status('VmHWM:')} {max(peak_anon[0], status('RssAnon:'))}\\n")
sys.exit(code)
"""


def _index_cli(files: list[Path], out: Path, n_trees: int, on_disk: bool = False
               ) -> tuple[float, float, float, dict]:
    """Run ``fashionsim index`` on ``files``: (wall seconds, peak RSS MiB, peak anonymous RSS MiB, its JSON)."""
    argv = [sys.executable, "-c", _CHILD, "index", *map(str, files), "--out", str(out), "--n-trees",
            str(n_trees), "--seed", "0", "--json"] + (["--on-disk"] if on_disk else [])
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"`fashionsim index` failed ({result.returncode}): {result.stderr[-2000:]}")
    peak = [line.split() for line in result.stderr.splitlines() if line.startswith("PEAK_KIB ")][-1]
    return seconds, int(peak[1]) / 1024, int(peak[2]) / 1024, json.loads(result.stdout)


def _embed_worker(n: int, image_size: int) -> dict:
    """In a fresh process: pin to one CPU, one TensorFlow thread; embed ``n`` generated JPEG/PNG files."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import keras
    import tensorflow as tf
    from PIL import Image

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from fashionsim import images
    from fashionsim.embed import embed_images
    from fashionsim.models.embedding import build_embedding_model

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="fashionsim-bench-scale-") as tmp:
        paths = []
        for i in range(n):
            small = Image.fromarray(rng.integers(0, 255, size=(8, 8, 3), dtype=np.uint8))
            picture = small.resize((160, 160), Image.BILINEAR)
            path = Path(tmp) / (f"{i:04d}.jpg" if i % 2 else f"{i:04d}.png")
            picture.save(path, **({"quality": 90} if i % 2 else {}))
            paths.append(str(path))
        keras.utils.set_random_seed(0)
        model = build_embedding_model(backbone="inception_v3", weights=None, image_size=image_size)
        embed_images(model, paths[:32], image_size, batch_size=32, progress=False)      # build, trace, warm up
        decode_s = median_time(lambda: [None for _ in images.dataset(paths, image_size, 32)], repeat=3)
        embed_s = median_time(lambda: embed_images(model, paths, image_size, batch_size=32, progress=False),
                              repeat=3)
        dim = int(model.output_shape[-1])
    return {"n": n, "embed_s": embed_s, "decode_s": decode_s, "dim": dim, "cpus": len(os.sched_getaffinity(0)),
            "repeat": 3}


def _embedding_row(n: int) -> BenchRow:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1", "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([sys.executable, "-m", "fashionsim.bench.scale", "--embed-worker", str(n)],
                            capture_output=True, text=True, env=env, timeout=1800, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"embedding worker failed: {result.stderr[-2000:]}")
    r = json.loads(result.stdout.strip().splitlines()[-1])
    return BenchRow(
        name="scale: embedding per core (siamese net, InceptionV3 avg pool -> 512 -> 128, real decodes)",
        size=f"{n} generated JPEG+PNG @ {IMAGE_SIZE} px, 1 core", ours_s=r["embed_s"],
        note=f"{n / r['embed_s']:.1f} images/s on one core (decode + resize + model; median of 3); decoding "
             f"alone {n / r['decode_s']:.0f} images/s",
        extra={"images_per_s_per_core": n / r["embed_s"], "decode_images_per_s": n / r["decode_s"], **r})


# ------------------------------------------------------------------ the run
def run(quick: bool = False) -> list[BenchRow]:
    """Every row, on files in a temporary folder removed afterwards."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), tempfile.TemporaryDirectory(prefix="fashionsim-bench-scale-") as tmp:
        return _run(Path(tmp), QUICK if quick else FULL)


def _run(tmp: Path, cfg: dict) -> list[BenchRow]:
    load = {"start": os.getloadavg()}
    tiny = write_embeddings(tmp / "tiny.npy", [clustered_block(_centres(1000), 1000, 0)],
                            [f"t{i}" for i in range(1000)], dim=DIM, fingerprint=FINGERPRINT)
    baseline_mib = _index_cli([tiny], tmp / "tiny.ann", 10)[1]
    rows = _catalog_rows(tmp / "all", cfg["n"], cfg["shards"], cfg, baseline_mib, label="")
    rows += _catalog_rows(tmp / "category", cfg["n"] // 10, 1, cfg, baseline_mib,
                          label=", one category of ten")
    rows.append(_embedding_row(cfg["images"]))
    load["end"] = os.getloadavg()
    for row in rows:
        row.extra["load"] = load
    return rows


def _catalog_rows(tmp: Path, n: int, n_shards: int, cfg: dict, baseline_mib: float, *, label: str
                  ) -> list[BenchRow]:
    """Write, check, search exactly, then find the smallest forest reaching recall@10 >= 0.95 and time it.

    ``label`` non-empty: a category-sized index (the same data density, n/10 records), the rows that
    say whether a category-sharded index beats one big one; only its build and query rows are kept.
    """
    tmp.mkdir()
    size = f"{n:,} x {DIM}" + (f" in {n_shards} shards" if n_shards > 1 else "")
    rows: list[BenchRow] = []
    start = time.perf_counter()
    files = write_shards(tmp, n, n_shards)
    write_s = time.perf_counter() - start
    shard_mib = sum(f.stat().st_size + f.with_suffix(".json").stat().st_size for f in files) / 2**20
    rows.append(BenchRow(name="scale: write shard files (embed --shard format)", size=size, ours_s=write_s,
                         note=f"{shard_mib:,.0f} MiB on disk (.npy + .json sidecars), {n / write_s:,.0f} records/s"))
    start = time.perf_counter()
    shard_set = check_shards(files)
    rows.append(BenchRow(name="scale: check shards (one model, disjoint, complete, id digest)", size=size,
                         ours_s=time.perf_counter() - start))

    queries = clustered_block(_centres(n), cfg["speed_queries"], seed=(0, 2))
    recall_q = queries[:cfg["recall_queries"]]
    start = time.perf_counter()
    exact = exact_top_k(shard_set, recall_q)
    exact_s = time.perf_counter() - start
    rows.append(BenchRow(name="scale: exact search (NumPy blocks streamed from the shards, 1 thread)",
                         size=f"{n:,} x {DIM}, {len(recall_q)} queries", ours_s=exact_s,
                         note=f"{len(recall_q) / exact_s:,.1f} queries/s, k={K}: the ground truth",
                         extra={"queries_per_s": len(recall_q) / exact_s}))

    n_trees, search_k, recall, grid, (build_s, peak_mib, anon_mib, _), index, out = _smallest_forest(
        tmp, files, recall_q, exact)
    index_bytes = out.stat().st_size
    meta_mib = sum(p.stat().st_size for p in tmp.glob(f"{out.name}.*")) / 2**20
    rows.append(BenchRow(
        name=f"scale: merge + Annoy build, n_trees={n_trees} (fashionsim index, in memory{label})", size=size,
        ours_s=build_s, peak_mib=peak_mib,
        note=f"peak RSS of the process ({anon_mib:,.0f} MiB anonymous; the CLI alone: {baseline_mib:.0f} MiB); "
             f"index {index_bytes / 2**20:,.0f} MiB on disk ({index_bytes / n:.0f} bytes/item) + {meta_mib:,.0f} MiB "
             "ids/products JSON; seeded, 1 thread",
        extra={"n": n, "index_mib": index_bytes / 2**20, "metadata_mib": meta_mib, "bytes_per_item": index_bytes / n,
               "baseline_rss_mib": baseline_mib, "peak_anon_mib": anon_mib, "n_trees": n_trees}))
    if not label:
        disk_s, disk_peak, disk_anon, payload = _index_cli(files, tmp / "disk.ann", n_trees, on_disk=True)
        rows.append(BenchRow(
            name=f"scale: merge + Annoy build, n_trees={n_trees} (fashionsim index --on-disk)", size=size,
            ours_s=disk_s, peak_mib=disk_peak,
            note=f"forest built in a file beside the index: {disk_anon:,.0f} MiB of the peak RSS is anonymous "
                 "memory, the rest mapped file pages the kernel can drop",
            extra={"n": n, "on_disk": payload["on_disk"], "peak_anon_mib": disk_anon,
                   "baseline_rss_mib": baseline_mib}))
        (tmp / "disk.ann").unlink()

    query_s = median_time(lambda: index.search(queries, K, search_k=search_k), repeat=3, warmup=1)
    rows.append(BenchRow(
        name=f"scale: Annoy query at recall@10 >= 0.95 (n_trees={n_trees}, search_k={search_k}{label})",
        size=f"{n:,} x {DIM}, {len(queries):,} queries", ours_s=query_s,
        reference_s=exact_s * len(queries) / len(recall_q),
        note=f"{len(queries) / query_s:,.0f} queries/s, recall@10 {recall:.3f} on {len(recall_q)} queries; "
             "reference column = exact search scaled to these queries",
        extra={"n": n, "queries_per_s": len(queries) / query_s, "recall_at_10": recall, "n_trees": n_trees,
               "search_k": search_k, "grid": grid}))
    return rows[-2:] if label else rows


def _smallest_forest(tmp: Path, files: list[Path], queries: np.ndarray, exact: np.ndarray):
    """The first (n_trees, search_k) of the grid with recall@10 >= 0.95: the index, its build figures, the grid."""
    from fashionsim.index import EmbeddingIndex

    grid = []
    for n_trees in N_TREES:
        out = tmp / f"idx{n_trees}.ann"
        built = _index_cli(files, out, n_trees)
        index = EmbeddingIndex.load(out)
        for factor in SEARCH_K_FACTORS:
            search_k = n_trees * K * factor
            recall = _recall(index.search(queries, K, search_k=search_k).positions, exact)
            grid.append({"n_trees": n_trees, "search_k": search_k, "recall_at_10": recall, "build_s": built[0],
                         "index_bytes": out.stat().st_size})
            if recall >= 0.95:
                return n_trees, search_k, recall, grid, built, index, out
        del index
        out.unlink()
    raise RuntimeError(f"no setting reached recall@10 >= 0.95: {grid}")


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) > 1 and sys.argv[1] == "--embed-worker":
        print(json.dumps(_embed_worker(int(sys.argv[2]), IMAGE_SIZE)))
    else:
        for row in run(quick="--quick" in sys.argv):
            print(json.dumps(row.as_dict(), default=str))
