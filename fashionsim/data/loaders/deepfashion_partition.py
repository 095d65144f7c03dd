"""DeepFashion's list files (``list_eval_partition.txt``: a count line, a header line, one row per line).

Shared by :mod:`~fashionsim.data.loaders.deepfashion_inshop` and
:mod:`~fashionsim.data.loaders.deepfashion_consumer2shop`; every error names the file and the line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim.data.catalog import CatalogError, unsafe_paths
from fashionsim.data.loaders.common import check_missing_files, format_lines, require_dir

#: Where the partition file sits inside a DeepFashion root, in the order looked for.
PARTITION_NAMES = ("list_eval_partition.txt", "Eval/list_eval_partition.txt")


def find_file(root: Path, given: str | os.PathLike | None, names: Sequence[str], what: str) -> Path:
    """``given`` when it is a file, else the first of ``names`` under ``root``; else an error naming them all."""
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{what} not found: {path}")
        return path
    for name in names:
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{what} not found: looked for {[str(root / n) for n in names]}")


def read_partition(path: Path, header: Sequence[str]) -> np.ndarray:
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
            + format_lines(bad, [" ".join(f) for f in fields], first_line=3)
        )
    if count != len(fields):
        raise CatalogError(f"{path}: line 1 announces {count} rows but the file has {len(fields)}")
    if not fields:
        raise CatalogError(f"{path}: the catalog is empty (no rows)")
    return np.array(fields, dtype=object)


def path_parts(paths: pd.Series, index: int) -> pd.Series:
    """Folder ``index`` of each ``/`` path (``img/WOMEN/Dresses/id_1/a.jpg``, 2 -> ``Dresses``), else ``unknown``."""
    parts = paths.str.split("/")
    return parts.map(lambda p: p[index] if len(p) > index + 1 else "unknown")


def check_item_splits(path: Path, items: pd.Series, groups: pd.Series) -> None:
    """A :class:`CatalogError` naming the lines of items listed in more than one split."""
    clash = (groups.groupby(items, sort=False).transform("nunique") > 1).to_numpy()
    if clash.any():
        raise CatalogError(f"{path}: an item appears in more than one split at {format_lines(clash, items, first_line=3)}")


def check_status(path: Path, status: pd.Series, allowed: Sequence[str]) -> None:
    """A :class:`CatalogError` naming the lines whose ``evaluation_status`` is not one of ``allowed``."""
    bad = ~status.isin(allowed).to_numpy()
    if bad.any():
        raise CatalogError(f"{path}: evaluation_status must be one of {list(allowed)}; found {format_lines(bad, status, 3)}")


def check_image_paths(path: Path, rel: pd.Series, root: Path, check_files: bool,
                       numbers: np.ndarray | None = None) -> None:
    """Paths must stay inside ``root`` and (with ``check_files``) exist; rows are file lines from 3 on."""
    unsafe = unsafe_paths(rel)
    if unsafe.any():
        raise CatalogError(
            f"{path}: image paths must be relative and stay inside {root}; found "
            f"{format_lines(unsafe, rel, 3, numbers=numbers)}"
        )
    check_missing_files(root, rel, str(path), 3, check_files, numbers=numbers)


def resolve_image_root(root: Path, image_root: str | os.PathLike | None) -> Path:
    """``image_root`` when given (it must be a folder), else ``root/Img`` when it exists, else ``root``."""
    if image_root is not None:
        return require_dir(image_root, "image root")
    return root / "Img" if (root / "Img").is_dir() else root
