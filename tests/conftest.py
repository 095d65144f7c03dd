"""Fixtures for the module tests: seeded, CPU-only, Agg plots, small catalogs on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

# Plots render off screen. Set on matplotlib itself, not through MPLBACKEND: the environment of this
# process is inherited by the Jupyter kernels that `pytest --nbval` starts in the same run, and those
# must keep their inline backend.
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same global seeds, whatever ran before it."""
    np.random.seed(0)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(0)


def write_image(path: Path, color: tuple[int, int, int], size: int = 32, mode: str = "RGB") -> Path:
    """Write a small solid-colour image with a dark square, in any Pillow mode."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (size, size), color)
    ImageDraw.Draw(img).rectangle([size // 4, size // 4, size // 2, size // 2], fill=(10, 10, 10))
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path)
    return path


@pytest.fixture
def tiny_catalog(tmp_path: Path):
    """A 6-product catalog (3 categories × 2 colours) with 2 shop + 2 street images each, files on disk."""
    from fashionsim.data import Catalog

    palette = {"red": (200, 30, 30), "blue": (30, 30, 200)}
    products, images, interactions = [], [], []
    splits = ["train", "train", "train", "val", "test", "test"]
    n = 0
    for cat in ("dress", "shirt", "shoe"):
        for color, rgb in palette.items():
            pid = f"p{n}"
            products.append(dict(product_id=pid, category=cat, color=color, gender="women",
                                 description=f"A {color} cotton {cat} with long sleeves.", split=splits[n]))
            for k, source in enumerate(["shop", "shop", "street", "street"]):
                rel = f"images/{pid}_{k}.png"
                write_image(tmp_path / rel, rgb)
                images.append(dict(image_id=f"{pid}_{k}", product_id=pid, path=rel, source=source))
            n += 1
    for u in range(4):
        for j, split in enumerate(["train", "train", "val", "test"]):
            interactions.append(dict(user_id=f"u{u}", product_id=f"p{(u + j) % 6}", split=split))
    return Catalog(pd.DataFrame(products), pd.DataFrame(images), pd.DataFrame(interactions), root=tmp_path)
