"""A catalog as a folder of CSV files: ``products.csv``, ``images.csv``, ``interactions.csv``.

This is the on-disk form of the demo catalog and the simplest way to bring
your own: write the three tables (``interactions.csv`` optional) beside the
images and point any notebook or command at the folder.

>>> import tempfile
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp())
>>> Image.new("RGB", (8, 8)).save(folder / "p0.png")
>>> pd.DataFrame({"product_id": ["p0"], "category": ["dress"], "color": ["red"], "gender": ["women"],
...               "description": ["A red dress."], "split": ["train"]}).to_csv(folder / "products.csv", index=False)
>>> pd.DataFrame({"image_id": ["i0"], "product_id": ["p0"], "path": ["p0.png"],
...               "source": ["shop"]}).to_csv(folder / "images.csv", index=False)
>>> cat = read_catalog(folder)
>>> cat.products[["product_id", "color"]].to_numpy().tolist()
[['p0', 'red']]
>>> write_catalog(cat, folder) == folder
True
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._io import atomic_path
from fashionsim.data.catalog import Catalog, CatalogError

_ID_COLUMNS = {"product_id": str, "image_id": str, "user_id": str}
TABLES = ("products", "images", "interactions")
#: Columns every row of a table must fill (an empty cell there is an error naming file, column and line).
REQUIRED = {"products": ("product_id", "split"), "images": ("image_id", "product_id", "path", "source"),
            "interactions": ("user_id", "product_id", "split")}
# Where an empty cell is an explicit missing value (counted by Catalog.missing_metadata, never refused).
_MISSING_OK = ("category", "color", "description", "gender")


def _read(path: Path, table: str) -> pd.DataFrame:
    """One table, every cell as text; empty cells become missing values (None) exactly as in memory.

    An empty cell in a required column is an error that names the file, the
    column and the line (the header is line 1).
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise CatalogError(f"{path}: the file is empty (no header, no rows); write the header "
                           f"{','.join(_header(table))} and one row per {table[:-1]}") from None
    except pd.errors.ParserError as exc:
        raise CatalogError(f"{path}: not a readable CSV ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    empty = frame == ""
    for column in REQUIRED[table]:
        if column in frame.columns and empty[column].any():
            lines = np.flatnonzero(empty[column].to_numpy()) + 2
            shown = ", ".join(str(int(n)) for n in lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
            raise CatalogError(f"{path}: column {column} is empty at line {shown}; every row of {path.name} "
                               f"needs a {column} (fill it in or delete the row)")
    frame = frame.mask(empty, None)
    for column in frame.columns:
        if column not in _ID_COLUMNS and column not in REQUIRED[table] and column not in _MISSING_OK:
            frame[column] = _maybe_numeric(frame[column])
    return frame


def _header(table: str) -> tuple[str, ...]:
    from fashionsim.data.catalog import IMAGE_COLUMNS, INTERACTION_COLUMNS, PRODUCT_COLUMNS

    return {"products": PRODUCT_COLUMNS, "images": IMAGE_COLUMNS, "interactions": INTERACTION_COLUMNS}[table]


def _maybe_numeric(values: pd.Series) -> pd.Series:
    """Extra columns as pandas would read them: booleans or numbers when every filled cell is one, else text."""
    filled = values.dropna()
    if len(filled) and filled.isin(["True", "False"]).all() and len(filled) == len(values):
        return values == "True"
    converted = pd.to_numeric(values, errors="coerce")
    return converted if converted.notna().sum() == values.notna().sum() else values


def read_catalog(folder: str | os.PathLike, *, check_files: bool = True) -> Catalog:
    """Read ``products.csv``, ``images.csv`` and (if present) ``interactions.csv`` from ``folder``.

    Image paths are relative to ``folder``. Ids are read as strings. With
    ``check_files`` every image file must exist.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"catalog folder not found: {folder}")
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        if path.is_file():
            tables[name] = _read(path, name)
        elif name != "interactions":
            raise FileNotFoundError(f"catalog folder {folder} has no {name}.csv")
    cat = Catalog(tables["products"], tables["images"], tables.get("interactions"), root=folder,
                  source=str(folder))
    return cat.validate(check_files=check_files)


def write_catalog(cat: Catalog, folder: str | os.PathLike) -> Path:
    """Write the three tables of ``cat`` as CSV into ``folder`` (each file atomically).

    Image files are not copied: image paths stay relative to ``cat.root``, so
    write into the catalog's own root or copy the images yourself.
    """
    folder = Path(folder)
    for name in TABLES:
        with atomic_path(folder / f"{name}.csv") as tmp:
            getattr(cat, name).to_csv(tmp, index=False, lineterminator="\n")
    return folder
