"""A folder per product: ``root/<product_id>/*.jpg`` (and ``shop/``, ``street/`` sub-folders).

Part of :mod:`fashionsim.data.loaders`; the CLI reads such a folder with ``--catalog-format folders``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from fashionsim._compat import renamed
from fashionsim._random import Seed
from fashionsim.data.catalog import PRODUCT_COLUMNS, SOURCES, SPLITS, Catalog, CatalogError
from fashionsim.data.loaders.common import (
    DEFAULT_FRACTIONS,
    IMAGE_EXTENSIONS,
    MAX_LISTED,
    format_lines,
    normalise_gender,
    read_text_csv,
    require_dir,
    split_products,
    validated_catalog,
)

__all__ = ["from_folders"]


def _image_names(folder: Path) -> tuple[list[str], list[str]]:
    """(image file names, sub-folder names) of ``folder``, sorted; hidden entries are left out."""
    files, folders = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                folders.append(entry.name)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                files.append(entry.name)
    return sorted(files), sorted(folders)


def _read_metadata(metadata: pd.DataFrame | str | os.PathLike) -> tuple[pd.DataFrame, str]:
    if isinstance(metadata, pd.DataFrame):
        return metadata.reset_index(drop=True).copy(), "metadata"
    path = Path(metadata).expanduser()
    frame = read_text_csv(path, None)
    return frame, str(path)


@renamed(split_seed="seed")
def from_folders(
    root: str | os.PathLike,
    *,
    source: str = "shop",
    metadata: pd.DataFrame | str | os.PathLike | None = None,
    split_fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: Seed = 0,
    check_files: bool = True,
) -> Catalog:
    """A folder per product: ``root/<product_id>/*.jpg|*.jpeg|*.png``.

    Images directly in a product folder get ``source`` (``shop`` unless
    told); images in its ``shop/`` and ``street/`` sub-folders get that
    source. Any other sub-folder inside a product folder is an error (so no
    image is left out unnoticed); files other than images and hidden entries
    are not read. ``metadata`` (a DataFrame or CSV with ``product_id`` and any
    of ``category, color, gender, description, split``) fills product
    columns; the rest are ``unknown`` / empty, and the split is seeded by
    product.

    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("red-dress/front.jpg", "red-dress/street/worn.jpg", "blue-shirt/front.jpg"):
    ...     (root / name).parent.mkdir(parents=True, exist_ok=True)
    ...     Image.new("RGB", (8, 8)).save(root / name)
    >>> cat = from_folders(root, metadata=pd.DataFrame({"product_id": ["red-dress"], "color": ["red"]}), seed=0)
    >>> cat.images[["product_id", "source"]].to_numpy().tolist()
    [['blue-shirt', 'shop'], ['red-dress', 'shop'], ['red-dress', 'street']]
    >>> cat.products["color"].tolist()
    ['unknown', 'red']
    """
    root = require_dir(root, "catalog root")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, got {source!r}")
    _, product_dirs = _image_names(root)
    if not product_dirs:
        raise CatalogError(f"{root}: the catalog is empty (no product folders)")
    rows: list[tuple[str, str, str]] = []
    for product in product_dirs:
        files, subfolders = _image_names(root / product)
        unexpected = [f for f in subfolders if f not in SOURCES]
        if unexpected:
            raise CatalogError(
                f"{root / product}: unexpected sub-folder(s) {unexpected}; a product folder holds images and "
                f"optionally {list(SOURCES)} sub-folders"
            )
        rows.extend((product, f"{product}/{name}", source) for name in files)
        for sub in subfolders:
            sub_files, nested = _image_names(root / product / sub)
            if nested:
                raise CatalogError(f"{root / product / sub}: unexpected sub-folder(s) {nested}")
            rows.extend((product, f"{product}/{sub}/{name}", sub) for name in sub_files)
    images = pd.DataFrame(rows, columns=["product_id", "path", "source"])
    images["image_id"] = images["path"]
    with_images = set(images["product_id"])
    without = [p for p in product_dirs if p not in with_images]
    if without:
        raise CatalogError(
            f"{root}: product folder(s) with no image (.jpg/.jpeg/.png): {without[:MAX_LISTED]}"
            + (f" and {len(without) - MAX_LISTED} more" if len(without) > MAX_LISTED else "")
        )
    products = pd.DataFrame({
        "product_id": product_dirs, "category": "unknown", "color": "unknown", "gender": "unknown",
        "description": "",
    })
    products["split"] = split_products(products["product_id"], split_fractions, seed)
    if metadata is not None:
        meta, where = _read_metadata(metadata)
        if "product_id" not in meta.columns:
            raise CatalogError(f"{where}: missing column ['product_id']; it has {list(meta.columns)}")
        meta["product_id"] = meta["product_id"].astype(str)
        first, label = (2, "line") if where != "metadata" else (0, "row")
        duplicated = meta["product_id"].duplicated(keep=False).to_numpy()
        if duplicated.any():
            raise CatalogError(
                f"{where}: duplicate product_id at {format_lines(duplicated, meta['product_id'], first, label=label)}"
            )
        unknown = ~meta["product_id"].isin(products["product_id"]).to_numpy()
        if unknown.any():
            raise CatalogError(
                f"{where}: product_id without a folder under {root} at "
                f"{format_lines(unknown, meta['product_id'], first, label=label)}"
            )
        columns = [c for c in PRODUCT_COLUMNS[1:] if c in meta.columns]
        if "split" in columns:
            bad = ~meta["split"].isin(SPLITS).to_numpy()
            if bad.any():
                raise CatalogError(
                    f"{where}: split must be one of {list(SPLITS)}; found "
                    f"{format_lines(bad, meta['split'], first, label=label)}"
                )
        indexed = meta.set_index("product_id")
        for column in columns:
            values = products["product_id"].map(indexed[column])
            products[column] = values.where(values.notna(), products[column])
        if "gender" in columns:
            products["gender"] = normalise_gender(products["gender"])
    return validated_catalog(products, images, None, root, str(root), check_files)
