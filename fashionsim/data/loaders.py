"""Loaders: real datasets, in their own on-disk formats, turned into a validated :class:`Catalog`.

Every loader reads the dataset's files as they are distributed, builds the
three tables, validates them (and, with ``check_files``, that every image
file exists inside the root) and says exactly what is wrong: the file, the
line and the offending value.

=================================  =========================================================
loader                             reads
=================================  =========================================================
:func:`from_article_csv`           a CSV with the columns ``_category,_color,_id,_gender,_name``
:func:`from_folders`               ``root/<product_id>/*.jpg|*.jpeg|*.png`` (+ ``shop/``, ``street/``)
:func:`from_deepfashion_inshop`    DeepFashion In-shop ``list_eval_partition.txt``
:func:`from_deepfashion_consumer2shop`  DeepFashion Consumer-to-shop ``list_eval_partition.txt``
:func:`from_fashion_mnist`         Fashion-MNIST idx files (gzip or raw), written once as PNG
:func:`from_dvbpr_npy`             the DVBPR Amazon ``.npy`` pickles (explicit opt-in only)
=================================  =========================================================

Products without a split in the source get a seeded split by product
(:func:`split_products`). Taught in notebook 01 (bring your own catalog).

>>> cat = from_folders("shop_photos/")          # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._io import atomic_dir
from fashionsim._progress import progress as _progress
from fashionsim._random import RandomState, as_generator
from fashionsim.data.catalog import (
    IMAGE_COLUMNS,
    INTERACTION_COLUMNS,
    PRODUCT_COLUMNS,
    SOURCES,
    SPLITS,
    Catalog,
    CatalogError,
    _unsafe_paths,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "FASHION_MNIST_CLASSES",
    "split_products",
    "read_idx",
    "from_article_csv",
    "from_folders",
    "from_deepfashion_inshop",
    "from_deepfashion_consumer2shop",
    "from_fashion_mnist",
    "from_dvbpr_npy",
]

#: File name endings read as images (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
#: Fashion-MNIST label -> category name (the dataset's own class names, lower-cased).
FASHION_MNIST_CLASSES = (
    "t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot",
)
_GENDERS = {
    "f": "women", "w": "women", "female": "women", "woman": "women", "women": "women",
    "m": "men", "male": "men", "man": "men", "men": "men",
    "u": "unisex", "unisex": "unisex", "": "unknown",
}
_MAX_LISTED = 5
_DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


# ---------------------------------------------------------------------------------------------- helpers
def _lines(mask: np.ndarray, values: Sequence[object] | pd.Series, first_line: int = 2, *,
           label: str = "line", numbers: Sequence[int] | np.ndarray | None = None) -> str:
    """``line 4 ('x'), line 9 ('y') and 3 more`` for the rows where ``mask`` is true.

    Row ``i`` is reported as ``first_line + i``, or as ``numbers[i]`` when given.
    """
    positions = np.flatnonzero(mask)
    values = list(values) if not isinstance(values, pd.Series) else values.tolist()
    at = (lambda i: int(numbers[i])) if numbers is not None else (lambda i: int(i) + first_line)
    shown = ", ".join(f"{label} {at(i)} ({values[i]!r})" for i in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    return shown + more


def _is_image_name(names: pd.Series) -> np.ndarray:
    return names.str.lower().str.endswith(IMAGE_EXTENSIONS).to_numpy(dtype=bool)


def split_products(
    product_ids: Sequence[object],
    fractions: tuple[float, float, float] = _DEFAULT_FRACTIONS,
    seed: RandomState = 0,
) -> np.ndarray:
    """A seeded train/val/test split by product: an array of split names, one per entry of ``product_ids``.

    Repeated ids get the same split. ``fractions`` (train, val, test) must be
    non-negative and sum to 1; counts are rounded, test takes the rest.

    >>> split_products(["a", "b", "c", "d"], (0.5, 0.25, 0.25), seed=0)   # doctest: +SKIP
    array(['train', 'test', 'val', 'train'], dtype='<U5')
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be 3 non-negative numbers summing to 1, got {fractions}")
    codes, uniques = pd.factorize(pd.Series(list(product_ids), dtype=object))
    n = len(uniques)
    n_train = int(round(fractions[0] * n))
    n_val = min(int(round(fractions[1] * n)), n - n_train)
    order = as_generator(seed, name="split_seed").permutation(n)
    labels = np.empty(n, dtype="<U5")
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    return labels[codes]


def _normalise_gender(values: pd.Series) -> pd.Series:
    lowered = values.astype(str).str.strip().str.lower()
    return lowered.map(_GENDERS).fillna(lowered)


def _finish(products: pd.DataFrame, images: pd.DataFrame, interactions: pd.DataFrame | None,
            root: Path, source: str, check_files: bool) -> Catalog:
    cat = Catalog(products[list(PRODUCT_COLUMNS) + [c for c in products.columns if c not in PRODUCT_COLUMNS]],
                  images[list(IMAGE_COLUMNS) + [c for c in images.columns if c not in IMAGE_COLUMNS]],
                  interactions, root=root, source=source)
    return cat.validate(check_files=check_files)


def _check_missing_files(root: Path, rel_paths: pd.Series, where: str, first_line: int, check_files: bool,
                         numbers: np.ndarray | None = None) -> None:
    if not check_files:
        return
    exists = np.fromiter((os.path.isfile(root / p) for p in rel_paths), dtype=bool, count=len(rel_paths))
    if not exists.all():
        raise CatalogError(
            f"{where}: image file not found under {root} at {_lines(~exists, rel_paths, first_line, numbers=numbers)}"
        )


def _require_dir(path: str | os.PathLike, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_dir():
        raise NotADirectoryError(f"{what} is not a folder: {path}")
    return path


# ---------------------------------------------------------------------------------------------- article CSV
def _read_csv(path: Path, sep: str | None) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    if sep is None:
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        sep = "\t" if "\t" in header else ","
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise CatalogError(f"{path}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        raise CatalogError(f"{path}: not a readable CSV ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


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


def from_article_csv(
    csv_path: str | os.PathLike,
    image_root: str | os.PathLike,
    *,
    image_column: str | None = None,
    description_column: str | None = None,
    split_column: str | None = None,
    source_column: str | None = None,
    sep: str | None = None,
    split_fractions: tuple[float, float, float] = _DEFAULT_FRACTIONS,
    split_seed: RandomState = 0,
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
    ``split_fractions`` / ``split_seed``), source (``source_column``,
    default ``source`` or ``_source``; else every image is ``shop``). Rows of
    one product must agree on its attributes. Errors name the file and the
    line (the header is line 1).

    >>> cat = from_article_csv("csv/sample_set.csv", "images/")   # doctest: +SKIP
    """
    path = Path(csv_path).expanduser()
    root = _require_dir(image_root, "image root")
    frame = _read_csv(path, sep)
    missing = [c for c in ("_id", "_category", "_color") if c not in frame.columns]
    if missing:
        raise CatalogError(f"{path}: missing column(s) {missing}; it has {list(frame.columns)}")
    if len(frame) == 0:
        raise CatalogError(f"{path}: the catalog is empty (a header but no rows)")
    for column in ("_id", "_category", "_color"):
        empty = (frame[column] == "").to_numpy()
        if empty.any():
            raise CatalogError(f"{path}: column {column} is empty at {_lines(empty, frame['_id'])}")

    table = pd.DataFrame({
        "product_id": frame["_id"],
        "category": frame["_category"],
        "color": frame["_color"],
        "gender": _normalise_gender(frame["_gender"]) if "_gender" in frame.columns else "unknown",
    })
    column = _pick_column(frame, description_column, ("_description", "description"), path, "description")
    table["description"] = frame[column] if column else ""
    column = _pick_column(frame, split_column, ("split", "_split"), path, "split")
    if column:
        bad = ~frame[column].isin(SPLITS).to_numpy()
        if bad.any():
            raise CatalogError(f"{path}: {column} must be one of {list(SPLITS)}; found {_lines(bad, frame[column])}")
        table["split"] = frame[column]
    else:
        table["split"] = split_products(table["product_id"], split_fractions, split_seed)
    source_col = _pick_column(frame, source_column, ("source", "_source"), path, "source")
    if source_col:
        bad = ~frame[source_col].isin(SOURCES).to_numpy()
        if bad.any():
            raise CatalogError(
                f"{path}: {source_col} must be one of {list(SOURCES)}; found {_lines(bad, frame[source_col])}"
            )
    sources = frame[source_col] if source_col else pd.Series("shop", index=frame.index)

    for attribute in ("category", "color", "gender", "description", "split"):
        clash = (table.groupby("product_id", sort=False)[attribute].transform("nunique") > 1).to_numpy()
        if clash.any():
            raise CatalogError(
                f"{path}: rows of one product disagree on {attribute} at {_lines(clash, table['product_id'])}"
            )
    products = table.drop_duplicates("product_id").reset_index(drop=True)

    if image_column is None and "_name" in frame.columns:
        looks_like_image = _is_image_name(frame["_name"])
        if looks_like_image.all():
            image_column = "_name"
        elif looks_like_image.any():
            raise CatalogError(
                f"{path}: _name holds image paths on some rows but not at "
                f"{_lines(~looks_like_image, frame['_name'])}; pass image_column= to say which column holds them"
            )
    if image_column is not None:
        if image_column not in frame.columns:
            raise CatalogError(f"{path}: the image column {image_column!r} is missing; it has {list(frame.columns)}")
        rel = frame[image_column].str.replace("\\", "/", regex=False)
        empty = (rel == "").to_numpy()
        if empty.any():
            raise CatalogError(f"{path}: {image_column} (image path) is empty at {_lines(empty, frame['_id'])}")
        unsafe = _unsafe_paths(rel)
        if unsafe.any():
            raise CatalogError(
                f"{path}: image paths must be relative and stay inside {root}; found {_lines(unsafe, rel)}"
            )
        rel = rel.map(posixpath.normpath)
        duplicated = rel.duplicated(keep=False).to_numpy()
        if duplicated.any():
            raise CatalogError(f"{path}: the same image is listed twice at {_lines(duplicated, rel)}")
        _check_missing_files(root, rel, str(path), 2, check_files)
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
                f"{_lines(without, products['product_id'], numbers=first_line)}: looked for "
                f"<image_root>/<_id>.jpg|.jpeg|.png and <image_root>/<_id>/*.jpg|.jpeg|.png under {root}"
            )
        images = found.assign(image_id=found["path"], source="shop")
    return _finish(products, images, None, root, str(path), check_files)


# ---------------------------------------------------------------------------------------------- folders
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
    frame = _read_csv(path, None)
    return frame, str(path)


def from_folders(
    root: str | os.PathLike,
    *,
    source: str = "shop",
    metadata: pd.DataFrame | str | os.PathLike | None = None,
    split_fractions: tuple[float, float, float] = _DEFAULT_FRACTIONS,
    split_seed: RandomState = 0,
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

    >>> cat = from_folders("photos/", source="shop", split_seed=0)   # doctest: +SKIP
    """
    root = _require_dir(root, "catalog root")
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
            f"{root}: product folder(s) with no image (.jpg/.jpeg/.png): {without[:_MAX_LISTED]}"
            + (f" and {len(without) - _MAX_LISTED} more" if len(without) > _MAX_LISTED else "")
        )
    products = pd.DataFrame({
        "product_id": product_dirs, "category": "unknown", "color": "unknown", "gender": "unknown",
        "description": "",
    })
    products["split"] = split_products(products["product_id"], split_fractions, split_seed)
    if metadata is not None:
        meta, where = _read_metadata(metadata)
        if "product_id" not in meta.columns:
            raise CatalogError(f"{where}: missing column ['product_id']; it has {list(meta.columns)}")
        meta["product_id"] = meta["product_id"].astype(str)
        first, label = (2, "line") if where != "metadata" else (0, "row")
        duplicated = meta["product_id"].duplicated(keep=False).to_numpy()
        if duplicated.any():
            raise CatalogError(
                f"{where}: duplicate product_id at {_lines(duplicated, meta['product_id'], first, label=label)}"
            )
        unknown = ~meta["product_id"].isin(products["product_id"]).to_numpy()
        if unknown.any():
            raise CatalogError(
                f"{where}: product_id without a folder under {root} at "
                f"{_lines(unknown, meta['product_id'], first, label=label)}"
            )
        columns = [c for c in PRODUCT_COLUMNS[1:] if c in meta.columns]
        if "split" in columns:
            bad = ~meta["split"].isin(SPLITS).to_numpy()
            if bad.any():
                raise CatalogError(
                    f"{where}: split must be one of {list(SPLITS)}; found "
                    f"{_lines(bad, meta['split'], first, label=label)}"
                )
        indexed = meta.set_index("product_id")
        for column in columns:
            values = products["product_id"].map(indexed[column])
            products[column] = values.where(values.notna(), products[column])
        if "gender" in columns:
            products["gender"] = _normalise_gender(products["gender"])
    return _finish(products, images, None, root, str(root), check_files)


# ---------------------------------------------------------------------------------------------- DeepFashion
def _find_file(root: Path, given: str | os.PathLike | None, names: Sequence[str], what: str) -> Path:
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{what} not found: {path}")
        return path
    for name in names:
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{what} not found: looked for {[str(root / n) for n in names]}")


def _read_partition(path: Path, header: Sequence[str]) -> np.ndarray:
    """Rows (n, len(header)) of a DeepFashion list file: count line, header line, whitespace-separated rows."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc})") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2:
        raise CatalogError(f"{path}: expected a count on line 1 and the header {list(header)} on line 2")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise CatalogError(f"{path}: line 1 must be the number of rows, got {lines[0].strip()!r}") from None
    found = lines[1].split()
    if found != list(header):
        raise CatalogError(f"{path}: line 2 must be the header {list(header)}, got {found}")
    fields = [line.split() for line in lines[2:]]
    widths = np.fromiter((len(f) for f in fields), dtype=np.int64, count=len(fields))
    bad = widths != len(header)
    if bad.any():
        raise CatalogError(
            f"{path}: expected {len(header)} fields ({' '.join(header)}) at "
            + _lines(bad, [" ".join(f) for f in fields], first_line=3)
        )
    if count != len(fields):
        raise CatalogError(f"{path}: line 1 announces {count} rows but the file has {len(fields)}")
    if not fields:
        raise CatalogError(f"{path}: the catalog is empty (no rows)")
    return np.array(fields, dtype=object)


def _path_parts(paths: pd.Series, index: int) -> pd.Series:
    parts = paths.str.split("/")
    return parts.map(lambda p: p[index] if len(p) > index + 1 else "unknown")


def _check_item_splits(path: Path, items: pd.Series, groups: pd.Series) -> None:
    clash = (groups.groupby(items, sort=False).transform("nunique") > 1).to_numpy()
    if clash.any():
        raise CatalogError(f"{path}: an item appears in more than one split at {_lines(clash, items, first_line=3)}")


def _check_status(path: Path, status: pd.Series, allowed: Sequence[str]) -> None:
    bad = ~status.isin(allowed).to_numpy()
    if bad.any():
        raise CatalogError(f"{path}: evaluation_status must be one of {list(allowed)}; found {_lines(bad, status, 3)}")


def _check_image_paths(path: Path, rel: pd.Series, root: Path, check_files: bool,
                       numbers: np.ndarray | None = None) -> None:
    """Paths must stay inside ``root`` and (with ``check_files``) exist; rows are file lines from 3 on."""
    unsafe = _unsafe_paths(rel)
    if unsafe.any():
        raise CatalogError(
            f"{path}: image paths must be relative and stay inside {root}; found "
            f"{_lines(unsafe, rel, 3, numbers=numbers)}"
        )
    _check_missing_files(root, rel, str(path), 3, check_files, numbers=numbers)


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


def from_deepfashion_inshop(
    root: str | os.PathLike,
    *,
    partition_file: str | os.PathLike | None = None,
    image_root: str | os.PathLike | None = None,
    description_file: str | os.PathLike | None = None,
    val_fraction: float = 0.0,
    split_seed: RandomState = 0,
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
    root = _require_dir(root, "DeepFashion In-shop folder")
    path = _find_file(root, partition_file, ("list_eval_partition.txt", "Eval/list_eval_partition.txt"),
                      "list_eval_partition.txt")
    rows = _read_partition(path, ("image_name", "item_id", "evaluation_status"))
    image_dir = _resolve_image_root(root, image_root)
    frame = pd.DataFrame(rows, columns=["path", "product_id", "status"])
    frame["path"] = frame["path"].str.replace("\\", "/", regex=False)
    _check_status(path, frame["status"], ("train", "query", "gallery"))
    duplicated = frame["path"].duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise CatalogError(f"{path}: the same image is listed twice at {_lines(duplicated, frame['path'], 3)}")
    group = frame["status"].where(frame["status"] == "train", "test")
    _check_item_splits(path, frame["product_id"], group)
    _check_image_paths(path, frame["path"], image_dir, check_files)

    per_item = pd.DataFrame({"product_id": frame["product_id"], "split": group,
                             "gender": _normalise_gender(_path_parts(frame["path"], 1)),
                             "category": _path_parts(frame["path"], 2).str.lower()})
    products = per_item.drop_duplicates("product_id").reset_index(drop=True)
    if val_fraction:
        train = products["split"] == "train"
        fractions = (1.0 - float(val_fraction), float(val_fraction), 0.0)
        products.loc[train, "split"] = split_products(products.loc[train, "product_id"], fractions, split_seed)
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
    return _finish(products, images, None, image_dir, str(path), check_files)


def _resolve_image_root(root: Path, image_root: str | os.PathLike | None) -> Path:
    if image_root is not None:
        return _require_dir(image_root, "image root")
    return root / "Img" if (root / "Img").is_dir() else root


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
    root = _require_dir(root, "DeepFashion Consumer-to-shop folder")
    path = _find_file(root, partition_file, ("list_eval_partition.txt", "Eval/list_eval_partition.txt"),
                      "list_eval_partition.txt")
    rows = _read_partition(path, ("image_pair_name_1", "image_pair_name_2", "item_id", "evaluation_status"))
    image_dir = _resolve_image_root(root, image_root)
    pairs = pd.DataFrame(rows, columns=["consumer", "shop", "product_id", "status"])
    _check_status(path, pairs["status"], SPLITS)
    _check_item_splits(path, pairs["product_id"], pairs["status"])
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
                f"{path}: an image is listed {what} at {_lines(clash, images['path'], numbers=images['line'] + 3)}"
            )
    images = images.drop_duplicates("path").reset_index(drop=True)
    _check_image_paths(path, images["path"], image_dir, check_files, numbers=images["line"].to_numpy() + 3)
    images["image_id"] = images["path"]
    images = images.drop(columns="line")
    products = pd.DataFrame({"product_id": pairs["product_id"], "split": pairs["status"],
                             "category": _path_parts(pairs["shop"].str.replace("\\", "/", regex=False), 2).str.lower()})
    products = products.drop_duplicates("product_id").reset_index(drop=True)
    products["color"], products["gender"], products["description"] = "unknown", "unknown", ""
    return _finish(products, images, None, image_dir, str(path), check_files)


# ---------------------------------------------------------------------------------------------- Fashion-MNIST
_IDX_MAGIC = {2049: 1, 2051: 3}  # labels: 1 dimension, images: 3 dimensions (unsigned byte data)


def _open_maybe_gzip(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading, through gzip when it starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _idx_header(handle: io.BufferedIOBase, path: Path) -> tuple[int, ...]:
    head = handle.read(4)
    if len(head) < 4:
        raise CatalogError(f"{path}: too short for an idx file (no magic number)")
    magic = struct.unpack(">I", head)[0]
    if magic not in _IDX_MAGIC:
        raise CatalogError(
            f"{path}: magic number {magic:#010x} is not an idx file of unsigned bytes "
            "(expected 0x00000801 for labels or 0x00000803 for images)"
        )
    dims_raw = handle.read(4 * _IDX_MAGIC[magic])
    if len(dims_raw) < 4 * _IDX_MAGIC[magic]:
        raise CatalogError(f"{path}: idx header is truncated")
    return struct.unpack(f">{_IDX_MAGIC[magic]}I", dims_raw)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file of unsigned bytes (gzip or raw): labels (n,) or images (n, rows, cols), uint8.

    The magic number and the size announced by the header are checked; the
    error names the file.

    >>> read_idx("train-labels-idx1-ubyte.gz")[:3]     # doctest: +SKIP
    array([9, 0, 0], dtype=uint8)
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"idx file not found: {path}")
    try:
        with _open_maybe_gzip(path) as handle:
            dims = _idx_header(handle, path)
            expected = int(np.prod(dims))
            payload = handle.read(expected + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CatalogError(f"{path}: cannot read ({exc})") from exc
    if len(payload) != expected:
        raise CatalogError(
            f"{path}: header announces {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"the file has {'more' if len(payload) > expected else len(payload)}"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def _fashion_mnist_files(path_or_dir: Path, kind: str) -> tuple[Path, Path]:
    if path_or_dir.is_dir():
        found = []
        for what, dims in (("images", 3), ("labels", 1)):
            stem = f"{kind}-{what}-idx{dims}-ubyte"
            candidates = [path_or_dir / stem, path_or_dir / f"{stem}.gz"]
            hit = next((c for c in candidates if c.is_file()), None)
            if hit is None:
                raise FileNotFoundError(f"Fashion-MNIST {what} not found: looked for {[str(c) for c in candidates]}")
            found.append(hit)
        return found[0], found[1]
    if not path_or_dir.is_file():
        raise FileNotFoundError(f"Fashion-MNIST file or folder not found: {path_or_dir}")
    name = path_or_dir.name
    if "images-idx3" not in name:
        raise ValueError(f"{path_or_dir}: pass the images file (*-images-idx3-ubyte[.gz]) or its folder")
    labels = path_or_dir.with_name(name.replace("images-idx3", "labels-idx1"))
    if not labels.is_file():
        raise FileNotFoundError(f"Fashion-MNIST labels not found beside the images: {labels}")
    return path_or_dir, labels


def _source_stamp(paths: Sequence[Path]) -> list[dict[str, object]]:
    return [{"name": p.name, "bytes": p.stat().st_size} for p in paths]


def _cache_is_complete(folder: Path, stamp: list[dict[str, object]], count: int) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        saved = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return saved.get("sources") == stamp and saved.get("count") == count


def from_fashion_mnist(
    path_or_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    kind: str = "train",
    split_fractions: tuple[float, float, float] = (0.9, 0.1, 0.0),
    split_seed: RandomState = 0,
    progress: bool = True,
    check_files: bool = True,
) -> Catalog:
    """Fashion-MNIST idx files (gzip or raw) -> Catalog with one product per image.

    ``path_or_dir``: the folder holding ``{kind}-images-idx3-ubyte[.gz]`` and
    ``{kind}-labels-idx1-ubyte[.gz]``, or the images file itself. The 28x28
    grey images are written once as PNG under
    ``cache_dir/fashion-mnist-{kind}/images/`` (the folder appears complete
    or not at all; a later call with the same source files reuses it).
    Labels become the 10 class names (:data:`FASHION_MNIST_CLASSES`).

    Fashion-MNIST has no product identity beyond the picture, so every image
    is its own product (``{kind}-00000``...), ``shop`` source, colour and
    gender ``unknown``. Splits: ``t10k`` -> test; ``train`` -> a seeded
    split by ``split_fractions`` (default 90 % train, 10 % val). For the
    arrays themselves use :func:`read_idx`.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    images_path, labels_path = _fashion_mnist_files(Path(path_or_dir).expanduser(), kind)
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise CatalogError(f"{labels_path}: expected a labels file (1 dimension), got shape {labels.shape}")
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        bad = labels >= len(FASHION_MNIST_CLASSES)
        first = int(np.flatnonzero(bad)[0])
        raise CatalogError(f"{labels_path}: labels must be 0-9; found {int(labels[first])} at item {first}")
    folder = Path(cache_dir).expanduser() / f"fashion-mnist-{kind}"
    stamp = _source_stamp([images_path, labels_path])
    n = len(labels)
    if n == 0:
        raise CatalogError(f"{labels_path}: the catalog is empty (0 labels)")
    if not _cache_is_complete(folder, stamp, n):
        _write_idx_pngs(images_path, n, folder, stamp, progress)
    ids = np.char.add(f"{kind}-", np.char.zfill(np.arange(n).astype(str), 5))
    products = pd.DataFrame({
        "product_id": ids,
        "category": np.asarray(FASHION_MNIST_CLASSES, dtype=object)[labels],
        "color": "unknown", "gender": "unknown", "description": "",
        "split": "test" if kind == "t10k" else split_products(ids, split_fractions, split_seed),
        "label": labels.astype(np.int64),
    })
    paths = np.char.add(np.char.add("images/", ids), ".png")
    images = pd.DataFrame({"image_id": ids, "product_id": ids, "path": paths, "source": "shop"})
    return _finish(products, images, None, folder, str(images_path), check_files)


def _read_block(handle: io.BufferedIOBase, size: int, path: Path) -> bytes:
    try:
        return handle.read(size)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError; a cut gzip stream an EOFError
        raise CatalogError(f"{path}: cannot read ({exc})") from exc


def _write_idx_pngs(images_path: Path, n: int, folder: Path, stamp: list[dict[str, object]], progress: bool) -> None:
    """Stream the images idx file into ``folder/images/{kind}-NNNNN.png``, atomically as a whole folder."""
    from PIL import Image

    kind = folder.name.removeprefix("fashion-mnist-")
    chunk = 1000
    with _open_maybe_gzip(images_path) as handle:
        try:
            dims = _idx_header(handle, images_path)
        except (OSError, EOFError) as exc:
            raise CatalogError(f"{images_path}: cannot read ({exc})") from exc
        if len(dims) != 3:
            raise CatalogError(f"{images_path}: expected an images file (3 dimensions), got {len(dims)}")
        count, rows, cols = dims
        if count != n:
            raise CatalogError(f"{images_path}: {count} images but the labels file has {n} labels")
        per_image = rows * cols
        with atomic_dir(folder) as tmp:
            (tmp / "images").mkdir()
            for start in _progress(range(0, count, chunk), enabled=progress, total=-(-count // chunk),
                                   desc="writing Fashion-MNIST PNGs"):
                size = min(chunk, count - start) * per_image
                block = _read_block(handle, size, images_path)
                if len(block) != size:
                    raise CatalogError(
                        f"{images_path}: header announces {count} images of {rows}x{cols}, "
                        f"the data ends inside image {start + len(block) // per_image}"
                    )
                pixels = np.frombuffer(block, dtype=np.uint8).reshape(-1, rows, cols)
                for k, image in enumerate(pixels):
                    Image.fromarray(image, "L").save(tmp / "images" / f"{kind}-{start + k:05d}.png", compress_level=1)
            if _read_block(handle, 1, images_path):
                raise CatalogError(f"{images_path}: more data than the header's {count} images of {rows}x{cols}")
            (tmp / "manifest.json").write_text(json.dumps({"sources": stamp, "count": n}), encoding="utf-8")


# ---------------------------------------------------------------------------------------------- DVBPR
def _key(record: Mapping, name: str) -> object:
    """``record[name]`` whether the pickle kept str keys or (Python 2) bytes keys."""
    if name in record:
        return record[name]
    raw = name.encode()
    if raw in record:
        return record[raw]
    raise KeyError(name)


def _entries(container: object) -> list[tuple[int, object]]:
    """(index, value) pairs of a dict keyed by int or a list."""
    if isinstance(container, Mapping):
        return sorted(((int(k), v) for k, v in container.items()), key=lambda kv: kv[0])
    return list(enumerate(container))  # type: ignore[arg-type]


def _image_suffix(payload: bytes) -> str:
    if payload[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if payload[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if payload[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif"
    if payload[:4] == b"RIFF" and payload[8:12] == b"WEBP":
        return ".webp"
    return ".img"


def _refuse_pickle(path: Path) -> None:
    raise ValueError(
        f"{path} is a pickled NumPy object array: loading it runs Python's pickle, which can execute arbitrary "
        "code from the file. Only load a file you trust, with allow_pickle=True."
    )


def from_dvbpr_npy(
    path: str | os.PathLike,
    *,
    allow_pickle: bool = False,
    cache_dir: str | os.PathLike | None = None,
    split_fractions: tuple[float, float, float] = _DEFAULT_FRACTIONS,
    split_seed: RandomState = 0,
    progress: bool = True,
    check_files: bool = True,
) -> Catalog:
    """The DVBPR Amazon datasets (``AmazonFashion6ImgPartitioned.npy``, ``AmazonMenWithImgPartitioned.npy``...).

    These files are pickles: a list ``[user_train, user_validation,
    user_test, Item, usernum, itemnum]`` saved by NumPy, where
    ``user_*[u]`` lists the user's records (``productid`` = item index) and
    ``Item[i]['imgs']`` holds the item's JPEG bytes. Unpickling can run
    arbitrary code, so without ``allow_pickle=True`` this refuses with a
    ``ValueError`` that says so (before reading more than the .npy header).

    With the opt-in, the image bytes are written once, unchanged, under
    ``cache_dir/dvbpr-<file stem>/images/<item>.jpg`` (default ``cache_dir``
    the file's folder; the folder appears complete or not at all and is
    reused when the source file is the same). Products are the items
    (``product_id`` = item index, ``asin`` kept when present; category and
    colour ``unknown``; a seeded split by product for image-only tasks);
    interactions carry the file's own per-user train / validation / test
    split. The pickle is held in memory while loading, as NumPy must.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"DVBPR .npy file not found: {path}")
    fmt = np.lib.format
    try:
        with open(path, "rb") as handle:
            version = fmt.read_magic(handle)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            _, _, dtype = read_header(handle)
    except ValueError as exc:
        raise CatalogError(f"{path}: not a NumPy .npy file ({exc})") from exc
    if not dtype.hasobject:
        raise CatalogError(f"{path}: holds a plain {dtype} array, not the DVBPR pickled list")
    if not allow_pickle:
        _refuse_pickle(path)
    try:
        loaded = np.load(path, allow_pickle=True, encoding="bytes")
    except (OSError, ValueError, EOFError, ImportError, AttributeError) as exc:
        raise CatalogError(f"{path}: cannot unpickle ({exc})") from exc
    parts = list(loaded.tolist() if isinstance(loaded, np.ndarray) and loaded.ndim else loaded.item())
    if len(parts) != 6:
        raise CatalogError(
            f"{path}: expected [user_train, user_validation, user_test, Item, usernum, itemnum], "
            f"got {len(parts)} entries"
        )
    user_splits, items, usernum, itemnum = parts[:3], parts[3], int(parts[4]), int(parts[5])

    entries = _entries(items)
    if len(entries) != itemnum:
        raise CatalogError(f"{path}: itemnum is {itemnum} but Item holds {len(entries)} items")
    payloads, asins = [], []
    for index, record in entries:
        try:
            payload = _key(record, "imgs")
        except (KeyError, TypeError):
            raise CatalogError(f"{path}: Item[{index}] has no 'imgs' entry") from None
        if not isinstance(payload, (bytes, bytearray)) or not payload:
            raise CatalogError(f"{path}: Item[{index}]['imgs'] is not image bytes ({type(payload).__name__})")
        payloads.append(bytes(payload))
        try:
            asin = _key(record, "asin")
            asins.append(asin.decode() if isinstance(asin, bytes) else str(asin))
        except KeyError:
            asins.append("")
    item_index = np.array([i for i, _ in entries], dtype=np.int64)
    rel_paths = [f"images/{i}{_image_suffix(p)}" for i, p in zip(item_index, payloads)]

    folder = Path(cache_dir).expanduser() if cache_dir is not None else path.parent
    folder = folder / f"dvbpr-{path.stem}"
    stamp = _source_stamp([path])
    if not _cache_is_complete(folder, stamp, itemnum):
        with atomic_dir(folder) as tmp:
            (tmp / "images").mkdir()
            for rel, payload in _progress(zip(rel_paths, payloads), enabled=progress, total=itemnum,
                                          desc="writing DVBPR images"):
                (tmp / rel).write_bytes(payload)
            (tmp / "manifest.json").write_text(json.dumps({"sources": stamp, "count": itemnum}), encoding="utf-8")
    del payloads

    frames = []
    for split, users in zip(("train", "val", "test"), user_splits):
        user_ids, product_ids = [], []
        for user, records in _entries(users):
            for record in records:
                pid = _key(record, "productid") if isinstance(record, Mapping) else record
                user_ids.append(user)
                product_ids.append(int(pid))  # type: ignore[arg-type]
        frames.append(pd.DataFrame({"user_id": np.asarray(user_ids, dtype=np.int64),
                                    "product_id": np.asarray(product_ids, dtype=np.int64), "split": split}))
    interactions = pd.concat(frames, ignore_index=True)
    if len(interactions) and (interactions["user_id"].max() >= usernum or interactions["user_id"].min() < 0):
        raise CatalogError(f"{path}: a user index is outside 0..usernum-1 = 0..{usernum - 1}")

    products = pd.DataFrame({
        "product_id": item_index, "category": "unknown", "color": "unknown", "gender": "unknown",
        "description": "", "split": split_products(item_index, split_fractions, split_seed),
    })
    if any(asins):
        products["asin"] = asins
    images = pd.DataFrame({"image_id": item_index, "product_id": item_index, "path": rel_paths, "source": "shop"})
    return _finish(products, images, interactions[list(INTERACTION_COLUMNS)], folder, str(path), check_files)
