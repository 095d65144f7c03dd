"""The reference article's catalog CSV (``_category, _color, _id, _gender, _name``, one row per image).

Part of :mod:`fashionsim.data.loaders`; taught in notebook 01 (bring your own catalog).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._random import Seed
from fashionsim.data.catalog import SOURCES, SPLITS, Catalog, CatalogError, unsafe_paths
from fashionsim.data.loaders.common import (
    DEFAULT_FRACTIONS,
    IMAGE_EXTENSIONS,
    check_missing_files,
    format_lines,
    is_image_name,
    normalise_gender,
    read_text_csv,
    require_dir,
    split_products,
    validated_catalog,
)

__all__ = ["from_article_csv"]


def _pick_column(frame: pd.DataFrame, given: str | None, candidates: Sequence[str], path: Path,
                 what: str) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise CatalogError(f"{path}: the {what} column {given!r} is missing; it has {list(frame.columns)}")
        return given
    return next((c for c in candidates if c in frame.columns), None)


def _images_by_id(image_root: Path, product_ids: np.ndarray) -> pd.DataFrame:
    """Find ``<root>/<id>.<ext>`` files and every image in ``<root>/<id>/`` for each product id (one scan of root)."""
    wanted = set(product_ids.tolist())
    rows: list[tuple[str, str]] = []
    folders = []
    with os.scandir(image_root) as entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            if entry.is_file() and ext.lower() in IMAGE_EXTENSIONS and stem in wanted:
                rows.append((stem, entry.name))
            elif entry.is_dir() and entry.name in wanted:
                folders.append(entry.name)
    for folder in folders:
        with os.scandir(image_root / folder) as entries:
            names = sorted(e.name for e in entries
                           if e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS)
        rows.extend((folder, f"{folder}/{name}") for name in names)
    found = pd.DataFrame(rows, columns=["product_id", "path"])
    return found.sort_values(["product_id", "path"], kind="stable").reset_index(drop=True)


@renamed(split_seed="seed")
def from_article_csv(
    csv_path: str | os.PathLike,
    image_root: str | os.PathLike,
    *,
    image_column: str | None = None,
    description_column: str | None = None,
    split_column: str | None = None,
    source_column: str | None = None,
    sep: str | None = None,
    split_fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: Seed = 0,
    check_files: bool = True,
) -> Catalog:
    """Read a catalog CSV in the reference article's layout (one row per image).

    Columns: ``_id`` (product), ``_category``, ``_color`` (required),
    ``_gender`` (optional; ``f``/``m`` become ``women``/``men``) and ``_name``.
    The separator is a tab when the header holds one (the article's file is
    tab-separated), else a comma; ``sep`` overrides.

    Images, relative to ``image_root``:

    * ``image_column`` names the column with each row's image path; by default
      ``_name`` when every value of it ends in .jpg/.jpeg/.png (the article's
      ``dress-material-menu/1915297_Green_0.jpg``);
    * otherwise images are looked up by product id: ``<image_root>/<_id>.jpg``
      (or .jpeg/.png) and every image inside a folder ``<image_root>/<_id>/``.

    Optional columns: description (``description_column``, default
    ``_description`` or ``description``), split (``split_column``, default
    ``split`` or ``_split``; without one a seeded split by product from
    ``split_fractions`` / ``seed``), source (``source_column``,
    default ``source`` or ``_source``; else every image is ``shop``). Rows of
    one product must agree on its attributes. Errors name the file and the
    line (the header is line 1).

    >>> import tempfile
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("dress/11_Red_0.jpg", "dress/12_Blue_0.jpg"):
    ...     (folder / name).parent.mkdir(exist_ok=True)
    ...     Image.new("RGB", (8, 8)).save(folder / name)
    >>> pd.DataFrame({"_id": ["11", "12"], "_category": "dress", "_color": ["red", "blue"], "_gender": "f",
    ...               "_name": ["dress/11_Red_0.jpg", "dress/12_Blue_0.jpg"]}).to_csv(folder / "sample.csv", index=False)
    >>> cat = from_article_csv(folder / "sample.csv", folder, seed=0)
    >>> cat.products[["product_id", "color", "gender"]].to_numpy().tolist()
    [['11', 'red', 'women'], ['12', 'blue', 'women']]
    """
    path = Path(csv_path).expanduser()
    root = require_dir(image_root, "image root")
    frame = read_text_csv(path, sep)
    missing = [c for c in ("_id", "_category", "_color") if c not in frame.columns]
    if missing:
        raise CatalogError(f"{path}: missing column(s) {missing}; it has {list(frame.columns)}")
    if len(frame) == 0:
        raise CatalogError(f"{path}: the catalog is empty (a header but no rows)")
    for column in ("_id", "_category", "_color"):
        empty = (frame[column] == "").to_numpy()
        if empty.any():
            raise CatalogError(f"{path}: column {column} is empty at {format_lines(empty, frame['_id'])}")

    table = pd.DataFrame({
        "product_id": frame["_id"],
        "category": frame["_category"],
        "color": frame["_color"],
        "gender": normalise_gender(frame["_gender"]) if "_gender" in frame.columns else "unknown",
    })
    column = _pick_column(frame, description_column, ("_description", "description"), path, "description")
    table["description"] = frame[column] if column else ""
    column = _pick_column(frame, split_column, ("split", "_split"), path, "split")
    if column:
        bad = ~frame[column].isin(SPLITS).to_numpy()
        if bad.any():
            raise CatalogError(f"{path}: {column} must be one of {list(SPLITS)}; found {format_lines(bad, frame[column])}")
        table["split"] = frame[column]
    else:
        table["split"] = split_products(table["product_id"], split_fractions, seed)
    source_col = _pick_column(frame, source_column, ("source", "_source"), path, "source")
    if source_col:
        bad = ~frame[source_col].isin(SOURCES).to_numpy()
        if bad.any():
            raise CatalogError(
                f"{path}: {source_col} must be one of {list(SOURCES)}; found {format_lines(bad, frame[source_col])}"
            )
    sources = frame[source_col] if source_col else pd.Series("shop", index=frame.index)

    for attribute in ("category", "color", "gender", "description", "split"):
        clash = (table.groupby("product_id", sort=False)[attribute].transform("nunique") > 1).to_numpy()
        if clash.any():
            raise CatalogError(
                f"{path}: rows of one product disagree on {attribute} at {format_lines(clash, table['product_id'])}"
            )
    products = table.drop_duplicates("product_id").reset_index(drop=True)

    if image_column is None and "_name" in frame.columns:
        looks_like_image = is_image_name(frame["_name"])
        if looks_like_image.all():
            image_column = "_name"
        elif looks_like_image.any():
            raise CatalogError(
                f"{path}: _name holds image paths on some rows but not at "
                f"{format_lines(~looks_like_image, frame['_name'])}; pass image_column= to say which column holds them"
            )
    if image_column is not None:
        if image_column not in frame.columns:
            raise CatalogError(f"{path}: the image column {image_column!r} is missing; it has {list(frame.columns)}")
        rel = frame[image_column].str.replace("\\", "/", regex=False)
        empty = (rel == "").to_numpy()
        if empty.any():
            raise CatalogError(f"{path}: {image_column} (image path) is empty at {format_lines(empty, frame['_id'])}")
        unsafe = unsafe_paths(rel)
        if unsafe.any():
            raise CatalogError(
                f"{path}: image paths must be relative and stay inside {root}; found {format_lines(unsafe, rel)}"
            )
        rel = rel.map(posixpath.normpath)
        duplicated = rel.duplicated(keep=False).to_numpy()
        if duplicated.any():
            raise CatalogError(f"{path}: the same image is listed twice at {format_lines(duplicated, rel)}")
        check_missing_files(root, rel, str(path), 2, check_files)
        images = pd.DataFrame({"image_id": rel, "product_id": table["product_id"], "path": rel, "source": sources})
    else:
        if source_col:
            raise CatalogError(f"{path}: a source column needs one image per row; pass image_column=")
        found = _images_by_id(root, products["product_id"].to_numpy())
        without = ~products["product_id"].isin(found["product_id"]).to_numpy()
        if without.any():
            first_line = frame.drop_duplicates("_id").index.to_numpy() + 2
            raise CatalogError(
                f"{path}: no image found for product(s) at "
                f"{format_lines(without, products['product_id'], numbers=first_line)}: looked for "
                f"<image_root>/<_id>.jpg|.jpeg|.png and <image_root>/<_id>/*.jpg|.jpeg|.png under {root}"
            )
        images = found.assign(image_id=found["path"], source="shop")
    return validated_catalog(products, images, None, root, str(path), check_files)
