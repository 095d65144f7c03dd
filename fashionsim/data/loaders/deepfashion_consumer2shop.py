"""DeepFashion Consumer-to-shop Clothes Retrieval (``list_eval_partition.txt`` of image pairs) -> Catalog.

Part of :mod:`fashionsim.data.loaders`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from fashionsim.data.catalog import SPLITS, Catalog, CatalogError
from fashionsim.data.loaders.common import format_lines, require_dir, validated_catalog
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

__all__ = ["from_deepfashion_consumer2shop"]


def from_deepfashion_consumer2shop(
    root: str | os.PathLike,
    *,
    partition_file: str | os.PathLike | None = None,
    image_root: str | os.PathLike | None = None,
    check_files: bool = True,
) -> Catalog:
    """DeepFashion Consumer-to-shop Clothes Retrieval: ``list_eval_partition.txt`` -> Catalog.

    The partition file (``root/list_eval_partition.txt`` or
    ``root/Eval/list_eval_partition.txt``): line 1 the row count, line 2 the
    header ``image_pair_name_1 image_pair_name_2 item_id evaluation_status``,
    then one row per (consumer image, shop image) pair, status ``train``,
    ``val`` or ``test``. Image names
    (``img/CLOTHING/Blouse/id_00000001/comsumer_01.jpg``) are relative to
    ``image_root`` (default ``root/Img`` when it exists, else ``root``).

    Mapping: the first image of a pair is ``street`` (consumer photo), the
    second ``shop``; an image in several pairs is listed once; pairs are the
    (street, shop) images of one product. Product = ``item_id``, category
    from the path (lower-cased: ``blouse``), gender and colour ``unknown``;
    splits train/val/test as in the file (items never span splits).
    """
    root = require_dir(root, "DeepFashion Consumer-to-shop folder")
    path = find_file(root, partition_file, PARTITION_NAMES,
                      "list_eval_partition.txt")
    rows = read_partition(path, ("image_pair_name_1", "image_pair_name_2", "item_id", "evaluation_status"))
    image_dir = resolve_image_root(root, image_root)
    pairs = pd.DataFrame(rows, columns=["consumer", "shop", "product_id", "status"])
    check_status(path, pairs["status"], SPLITS)
    check_item_splits(path, pairs["product_id"], pairs["status"])
    n = len(pairs)
    line = np.concatenate([np.arange(n), np.arange(n)])
    images = pd.DataFrame({
        "path": pd.concat([pairs["consumer"], pairs["shop"]], ignore_index=True).str.replace("\\", "/", regex=False),
        "product_id": pd.concat([pairs["product_id"]] * 2, ignore_index=True),
        "source": np.repeat(["street", "shop"], n),
        "line": line,
    })
    for attribute in ("source", "product_id"):
        clash = (images.groupby("path", sort=False)[attribute].transform("nunique") > 1).to_numpy()
        if clash.any():
            what = "as both a consumer and a shop image" if attribute == "source" else "under two item_ids"
            raise CatalogError(
                f"{path}: an image is listed {what} at {format_lines(clash, images['path'], numbers=images['line'] + 3)}"
            )
    images = images.drop_duplicates("path").reset_index(drop=True)
    check_image_paths(path, images["path"], image_dir, check_files, numbers=images["line"].to_numpy() + 3)
    images["image_id"] = images["path"]
    images = images.drop(columns="line")
    products = pd.DataFrame({"product_id": pairs["product_id"], "split": pairs["status"],
                             "category": path_parts(pairs["shop"].str.replace("\\", "/", regex=False), 2).str.lower()})
    products = products.drop_duplicates("product_id").reset_index(drop=True)
    products["color"], products["gender"], products["description"] = "unknown", "unknown", ""
    return validated_catalog(products, images, None, image_dir, str(path), check_files)
