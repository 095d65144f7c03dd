"""The scale benchmark at its --quick size: every row, the merged index is one index of every record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashionsim.bench import runner, scale
from fashionsim.shards import check_shards

pytestmark = pytest.mark.bench


def test_scale_is_a_bench_area():
    assert "scale" in runner.AREAS


def test_quick_scale_rows():
    rows = scale.run(quick=True)
    assert all(row.ours_s > 0 for row in rows)

    def named(start: str, category: bool = False):
        found = [r for r in rows if start in r.name and ("one category" in r.name) == category]
        assert len(found) == 1, [r.name for r in rows]
        return found[0]

    build = named("(fashionsim index, in memory")
    assert build.peak_mib > build.extra["baseline_rss_mib"] > 0
    assert build.extra["index_mib"] > 20_000 * 128 * 4 / 2**20          # at least the vectors themselves
    assert named("(fashionsim index --on-disk)").extra["on_disk"] is True
    for category in (False, True):
        query = named("scale: Annoy query", category)
        assert query.extra["recall_at_10"] >= 0.95 and query.ratio > 1      # faster than exact search
        grid = query.extra["grid"]
        assert grid[-1]["recall_at_10"] >= 0.95 and all(g["recall_at_10"] < 0.95 for g in grid[:-1])
    assert named("scale: Annoy query", True).extra["n"] == named("scale: Annoy query").extra["n"] // 10
    embed = named("scale: embedding per core")
    assert embed.extra["cpus"] == 1 and embed.extra["dim"] == 128 and embed.extra["images_per_s_per_core"] > 1


def test_shards_are_the_embed_format_and_exact_search_is_exact(tmp_path):
    files = scale.write_shards(tmp_path, 3_000, 3)
    merged = check_shards(files)
    assert merged.n == 3_000 and merged.fingerprint == scale.FINGERPRINT and len(merged.products) == 3_000
    meta = json.loads(files[1].with_suffix(".json").read_text())
    assert meta["shard"] == "2/3" and meta["n_total"] == 3_000 and meta["image_size"] == scale.IMAGE_SIZE
    vectors = np.concatenate([np.load(f) for f in files])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    queries = vectors[:20] + 0.01
    brute = np.argsort(-(queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ vectors.T, axis=1)[:, :10]
    np.testing.assert_array_equal(scale.exact_top_k(merged, queries, block_rows=700), brute)
