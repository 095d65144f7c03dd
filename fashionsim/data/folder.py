"""A catalog as a folder of CSV files: ``products.csv``, ``images.csv``, ``interactions.csv``.

This is the on-disk form of the demo catalog and the simplest way to bring
your own: write the three tables (``interactions.csv`` optional) beside the
images and point any notebook or command at the folder.

>>> cat = read_catalog("my_catalog/")          # doctest: +SKIP
>>> write_catalog(cat, "copy/")                # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from fashionsim._io import atomic_path
from fashionsim.data.catalog import Catalog, CatalogError

_ID_COLUMNS = {"product_id": str, "image_id": str, "user_id": str}
TABLES = ("products", "images", "interactions")


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=_ID_COLUMNS, keep_default_na=False, na_values={"": None})
    except pd.errors.ParserError as exc:
        raise CatalogError(f"{path}: not a readable CSV ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc})") from exc


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
            tables[name] = _read(path)
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
