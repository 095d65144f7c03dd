"""Image grids read only the images they show and mark results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fashionsim import plots  # noqa: E402


def test_image_grid_rows_marks_and_titles(tiny_catalog):
    ids = list(tiny_catalog.images.image_id[:5])
    ax = plots.image_grid(tiny_catalog, [ids[:1], ids[1:5]], marks=[[None], [True, False, None, True]],
                          titles=[["query"], ["a", "b", "c", "d"]], row_labels=["q", "top-4"], tile=24, border=2)
    canvas = ax.images[0].get_array()
    band = 12  # the title strip under each tile
    assert canvas.shape == (2 * (28 + band), 4 * 28, 3)
    # the frame of row 1, column 0 is green (a correct result), column 1 red
    np.testing.assert_allclose(canvas[28 + band, 0], (0.10, 0.65, 0.20))
    np.testing.assert_allclose(canvas[28 + band, 28], (0.85, 0.15, 0.15))
    np.testing.assert_allclose(canvas[28 + band // 2, 5], (1, 1, 1))   # the title strip is white
    assert [t.get_text() for t in ax.texts] == ["query", "a", "b", "c", "d"]


def test_history_curves_plots_every_key():
    ax = plots.history_curves({"loss": [3, 2, 1], "val_auc": [0.5, 0.6, 0.7]})
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


# ---------------------------------------------------------------- figures moved here from evaluation, tags, data
def _report(cat, noise: float = 0.5):
    from fashionsim import evaluation

    rng = np.random.default_rng(0)
    codes = cat.images["product_id"].factorize()[0]
    vectors = np.eye(len(cat.products))[codes] + noise * rng.normal(size=(len(codes), len(cat.products)))
    ids = cat.images["image_id"].to_numpy()
    return vectors, evaluation.evaluate_representation(vectors, ids, cat, split=None, ks=(1, 3))


def test_recall_curves_one_line_per_representation_and_chance():
    report = {"retrieval": {"recall": {1: 0.2, 3: 0.5, 10: 0.9}, "chance": {1: 0.01, 3: 0.03, 10: 0.1}}}
    ax = plots.recall_curves({"a": report, "b": report})
    assert [line.get_label() for line in ax.lines] == ["a", "b", "chance"]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "K" and ax.get_ylabel() == "recall@K"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 3, 10])
    assert len(plots.recall_curves({"a": report}, chance=False).lines) == 1


def test_val_far_marks_the_threshold():
    distances = np.array([0.1, 0.9, 0.8, 0.2])
    same = np.array([True, False, False, True])
    report = {"pairs": {"distances": distances, "same": same},
              "verification": {"far_bound": 0.2, "threshold": 0.5, "val": 1.0, "far": 0.0}}
    ax = plots.val_far(report, n_thresholds=11)
    assert len(ax.lines) == 4   # VAL, FAR, the FAR bound, the threshold
    val, far = ax.lines[0].get_ydata(), ax.lines[1].get_ydata()
    assert val[0] == 0 and val[-1] == 1 and far[-1] == 1 and (np.diff(val) >= 0).all()
    assert ax.get_xlabel() == "distance threshold" and ax.get_ylabel() == "fraction of pairs"
    assert "threshold 0.50: VAL 1.00, FAR 0.00" in [line.get_label() for line in ax.lines]


def test_projection_dots_crosses_and_links(tiny_catalog):
    table = tiny_catalog.image_table()
    codes = table["product_id"].factorize()[0]
    vectors = np.eye(6)[codes] + 0.1 * np.random.default_rng(0).normal(size=(len(codes), 6))
    ax = plots.projection(vectors, table["category"], sources=table["source"])
    assert len(ax.collections) == 6   # 3 categories × (shop dots, street crosses)
    assert ax.get_xlabel().startswith("principal component 1 (") and ax.get_ylabel().startswith("principal")
    linked = plots.projection(vectors, table["category"], sources=table["source"], groups=table["product_id"])
    assert len(linked.collections) == 7   # plus one collection of street -> shop lines
    assert len(linked.collections[0].get_segments()) == int((table["source"] == "street").sum())


def test_worst_queries_and_matching_grids(tiny_catalog):
    _, report = _report(tiny_catalog)
    ax = plots.worst_queries(report, tiny_catalog, n=2, k=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 2 and all(t.startswith(("rank ", "not in top ")) for t in labels)
    assert [t.get_text() for t in ax.texts[:5]] == ["street query", "its product", "found 1", "found 2", "found 3"]
    ax = plots.matching(report, tiny_catalog, [0, 1])
    assert "street query" in [t.get_text() for t in ax.texts]
    captions = [t.get_text() for t in ax.texts if t.get_text().startswith(("query", "d = "))]
    assert captions.count("query") == 2 and any(c.startswith("d = ") for c in captions)
    assert ax.get_title().startswith("matching test at threshold")


def test_tag_frequencies_bars_sorted_and_coloured():
    import pandas as pd

    table = pd.DataFrame({"tag": ["dress", "red", "shirt"], "pos": ["noun", "adjective", "noun"],
                          "n_items": [12, 5, 7]})
    ax = plots.tag_frequencies(table, title="tags")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["red", "shirt", "dress"]   # fewest at the bottom
    assert [p.get_width() for p in ax.patches] == [5, 7, 12]
    assert ax.get_title() == "tags" and ax.get_xlabel() == "items with the tag among their top words"
    with pytest.raises(ValueError, match="n_items"):
        plots.tag_frequencies(table.drop(columns="n_items"))


def test_contact_sheet_and_save_figure(tiny_catalog, tmp_path):
    from matplotlib.figure import Figure
    from PIL import Image

    fig = plots.contact_sheet(tiny_catalog, tmp_path / "sheet.png", n=3, seed=1)
    assert isinstance(fig, Figure) and fig.get_suptitle() == "catalog: shop | street images per product"
    assert len([ax for ax in fig.axes if ax.images]) == 3 * 4   # 2 shop + 2 street photos each
    with Image.open(tmp_path / "sheet.png") as im:
        assert im.size[0] > 100
    chosen = plots.contact_sheet(tiny_catalog, product_ids=["p0", "p1"], per_row=1)
    assert len([ax for ax in chosen.axes if ax.images]) == 8
    with pytest.raises(KeyError, match="nope"):
        plots.contact_sheet(tiny_catalog, product_ids=["nope"])
    out = plots.save_figure(fig, tmp_path / "again" / "sheet.pdf", dpi=40)
    assert out == (tmp_path / "again" / "sheet.pdf").resolve() and out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in out.parent.iterdir()] == ["sheet.pdf"]   # no temporary file left behind


def test_plots_do_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, matplotlib; matplotlib.use('Agg'); from fashionsim import plots; "
            "import numpy as np; plots.history_curves({'loss': [1, 2]}); "
            "plots.projection(np.eye(4), ['a', 'b', 'a', 'b']); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_contact_sheet_of_the_demo_says_generated(tmp_path):
    from fashionsim.data import make_demo

    demo = make_demo(tmp_path / "demo", n_products=10, n_users=3, image_size=32)
    fig = plots.contact_sheet(demo, n=2)
    assert "GENERATED" in fig.get_suptitle()
