"""Image grids read only the images they show and mark results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

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
