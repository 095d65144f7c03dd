"""What every loader shares: the seeded split by product, error lines, file checks, the final validation.

>>> split_products(["a", "b", "c", "d", "a"], (0.5, 0.25, 0.25), seed=0)
array(['train', 'val', 'train', 'test', 'train'], dtype='<U5')
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._random import Seed, as_generator
from fashionsim.data.catalog import IMAGE_COLUMNS, PRODUCT_COLUMNS, Catalog, CatalogError

__all__ = ["IMAGE_EXTENSIONS", "DEFAULT_FRACTIONS", "split_products"]

#: File name endings read as images (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
#: The (train, val, test) fractions of a seeded split by product, when the source has no split.
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
#: How many offending rows an error message lists before "and N more".
MAX_LISTED = 5
_GENDERS = {
    "f": "women", "w": "women", "female": "women", "woman": "women", "women": "women",
    "m": "men", "male": "men", "man": "men", "men": "men",
    "u": "unisex", "unisex": "unisex", "": "unknown",
}


def split_products(
    product_ids: Sequence[object],
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: Seed = 0,
) -> np.ndarray:
    """A seeded train/val/test split by product: an array of split names, one per entry of ``product_ids``.

    Repeated ids get the same split. ``fractions`` (train, val, test) must be
    non-negative and sum to 1; counts are rounded, test takes the rest.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be 3 non-negative numbers summing to 1, got {fractions}")
    codes, uniques = pd.factorize(pd.Series(list(product_ids), dtype=object))
    n = len(uniques)
    n_train = int(round(fractions[0] * n))
    n_val = min(int(round(fractions[1] * n)), n - n_train)
    order = as_generator(seed, name="seed").permutation(n)
    labels = np.empty(n, dtype="<U5")
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    return labels[codes]


def format_lines(mask: np.ndarray, values: Sequence[object] | pd.Series, first_line: int = 2, *,
                 label: str = "line", numbers: Sequence[int] | np.ndarray | None = None) -> str:
    """``line 4 ('x'), line 9 ('y') and 3 more`` for the rows where ``mask`` is true.

    Row ``i`` is reported as ``first_line + i``, or as ``numbers[i]`` when given.
    """
    positions = np.flatnonzero(mask)
    values = list(values) if not isinstance(values, pd.Series) else values.tolist()
    at = (lambda i: int(numbers[i])) if numbers is not None else (lambda i: int(i) + first_line)
    shown = ", ".join(f"{label} {at(i)} ({values[i]!r})" for i in positions[:MAX_LISTED])
    more = f" and {len(positions) - MAX_LISTED} more" if len(positions) > MAX_LISTED else ""
    return shown + more


def is_image_name(names: pd.Series) -> np.ndarray:
    """True where a file name ends in one of :data:`IMAGE_EXTENSIONS` (vectorised)."""
    return names.str.lower().str.endswith(IMAGE_EXTENSIONS).to_numpy(dtype=bool)


def normalise_gender(values: pd.Series) -> pd.Series:
    """``f``/``w``/``female``... -> ``women``, ``m``/``male``... -> ``men``, empty -> ``unknown``; others as given."""
    lowered = values.astype(str).str.strip().str.lower()
    return lowered.map(_GENDERS).fillna(lowered)


def validated_catalog(products: pd.DataFrame, images: pd.DataFrame, interactions: pd.DataFrame | None,
                      root: Path, source: str, check_files: bool) -> Catalog:
    """The loader's tables as a :class:`Catalog` (contract columns first), validated."""
    cat = Catalog(products[list(PRODUCT_COLUMNS) + [c for c in products.columns if c not in PRODUCT_COLUMNS]],
                  images[list(IMAGE_COLUMNS) + [c for c in images.columns if c not in IMAGE_COLUMNS]],
                  interactions, root=root, source=source)
    return cat.validate(check_files=check_files)


def check_missing_files(root: Path, rel_paths: pd.Series, where: str, first_line: int, check_files: bool,
                        numbers: np.ndarray | None = None) -> None:
    """With ``check_files``, a :class:`CatalogError` naming the lines whose image file is not under ``root``."""
    if not check_files:
        return
    exists = np.fromiter((os.path.isfile(root / p) for p in rel_paths), dtype=bool, count=len(rel_paths))
    if not exists.all():
        raise CatalogError(
            f"{where}: image file not found under {root} at "
            f"{format_lines(~exists, rel_paths, first_line, numbers=numbers)}"
        )


def require_dir(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path when it is an existing folder, else an error that names ``what`` and the path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_dir():
        raise NotADirectoryError(f"{what} is not a folder: {path}")
    return path


def read_text_csv(path: Path, sep: str | None) -> pd.DataFrame:
    """A CSV (or, when the header holds a tab and ``sep`` is None, a TSV) with every cell as stripped text."""
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


def source_stamp(paths: Sequence[Path]) -> list[dict[str, object]]:
    """Name and size of each source file: what a cache folder's manifest records to be reused."""
    return [{"name": p.name, "bytes": p.stat().st_size} for p in paths]


def cache_is_complete(folder: Path, stamp: list[dict[str, object]], count: int) -> bool:
    """True when ``folder/manifest.json`` records the same source files and image count."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        saved = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return saved.get("sources") == stamp and saved.get("count") == count
