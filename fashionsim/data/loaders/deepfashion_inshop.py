"""DeepFashion In-shop Clothes Retrieval (``list_eval_partition.txt`` + optional descriptions) -> Catalog.

Part of :mod:`fashionsim.data.loaders`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._random import Seed
from fashionsim.data.catalog import Catalog, CatalogError
from fashionsim.data.loaders.common import format_lines, normalise_gender, require_dir, split_products, validated_catalog
from fashionsim.data.loaders.deepfashion_partition import (
    PARTITION_NAMES,
    check_image_paths,
    check_item_splits,
    check_status,
    find_file,
    path_parts,
    read_partition,
    resolve_image_root,
)

__all__ = ["from_deepfashion_inshop"]


def _inshop_descriptions(path: Path) -> pd.DataFrame:
    """``list_description_inshop.json`` (a list of {item, color, description}) as item -> color, description."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) and "item" in r for r in records):
        raise CatalogError(f"{path}: expected a JSON list of objects with an 'item' key")
    frame = pd.DataFrame({
        "product_id": [str(r["item"]) for r in records],
        "color": [str(r.get("color") or "").strip().lower() for r in records],
        "description": [
            " ".join(d.strip() for d in r["description"]) if isinstance(r.get("description"), list)
            else str(r.get("description") or "").strip()
            for r in records
        ],
    })
    return frame.drop_duplicates("product_id").set_index("product_id")


@renamed(split_seed="seed")
def from_deepfashion_inshop(
    root: str | os.PathLike,
    *,
    partition_file: str | os.PathLike | None = None,
    image_root: str | os.PathLike | None = None,
    description_file: str | os.PathLike | None = None,
    val_fraction: float = 0.0,
    seed: Seed = 0,
    check_files: bool = True,
) -> Catalog:
    """DeepFashion In-shop Clothes Retrieval: ``list_eval_partition.txt`` -> Catalog.

    The partition file (``root/list_eval_partition.txt`` or
    ``root/Eval/list_eval_partition.txt``): line 1 the row count, line 2 the
    header ``image_name item_id evaluation_status``, then one row per image,
    status ``train``, ``query`` or ``gallery``. Image names
    (``img/WOMEN/Dresses/id_00000002/02_1_front.jpg``) are relative to
    ``image_root`` (default ``root/Img`` when it exists, else ``root``).

    Mapping: product = ``item_id``; gender from ``WOMEN``/``MEN``, category
    from the next folder (lower-cased: ``dresses``); colour and description
    from ``Anno/list_description_inshop.json`` when present (else
    ``unknown`` / empty). In-shop has no consumer photos: ``query`` images
    become ``street`` (the query side of street-to-shop retrieval), ``train``
    and ``gallery`` images ``shop``. Splits: ``train`` -> train (a seeded
    ``val_fraction`` of those products -> val), ``query``/``gallery`` ->
    test. Items never span splits; a file where one does is an error.
    """
    root = require_dir(root, "DeepFashion In-shop folder")
    path = find_file(root, partition_file, PARTITION_NAMES,
                      "list_eval_partition.txt")
    rows = read_partition(path, ("image_name", "item_id", "evaluation_status"))
    image_dir = resolve_image_root(root, image_root)
    frame = pd.DataFrame(rows, columns=["path", "product_id", "status"])
    frame["path"] = frame["path"].str.replace("\\", "/", regex=False)
    check_status(path, frame["status"], ("train", "query", "gallery"))
    duplicated = frame["path"].duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise CatalogError(f"{path}: the same image is listed twice at {format_lines(duplicated, frame['path'], 3)}")
    group = frame["status"].where(frame["status"] == "train", "test")
    check_item_splits(path, frame["product_id"], group)
    check_image_paths(path, frame["path"], image_dir, check_files)

    per_item = pd.DataFrame({"product_id": frame["product_id"], "split": group,
                             "gender": normalise_gender(path_parts(frame["path"], 1)),
                             "category": path_parts(frame["path"], 2).str.lower()})
    products = per_item.drop_duplicates("product_id").reset_index(drop=True)
    if val_fraction:
        train = products["split"] == "train"
        fractions = (1.0 - float(val_fraction), float(val_fraction), 0.0)
        products.loc[train, "split"] = split_products(products.loc[train, "product_id"], fractions, seed)
    products["color"], products["description"] = "unknown", ""
    desc_path = description_file
    if desc_path is None:
        desc_path = next((root / n for n in ("Anno/list_description_inshop.json", "list_description_inshop.json")
                          if (root / n).is_file()), None)
    elif not Path(desc_path).expanduser().is_file():
        raise FileNotFoundError(f"description file not found: {desc_path}")
    if desc_path is not None:
        described = _inshop_descriptions(Path(desc_path).expanduser())
        color = products["product_id"].map(described["color"])
        products["color"] = color.where(color.notna() & (color != ""), "unknown")
        products["description"] = products["product_id"].map(described["description"]).fillna("")
    images = pd.DataFrame({
        "image_id": frame["path"], "product_id": frame["product_id"], "path": frame["path"],
        "source": np.where(frame["status"] == "query", "street", "shop"), "status": frame["status"],
    })
    return validated_catalog(products, images, None, image_dir, str(path), check_files)
