"""The catalog: the one data contract every notebook and function shares.

A :class:`Catalog` holds three pandas tables and a root folder:

* ``products``: ``product_id, category, color, gender, description, split``
* ``images``: ``image_id, product_id, path, source`` (``path`` relative to
  ``root`` and never escaping it; ``source`` is ``shop`` or ``street``)
* ``interactions`` (optional): ``user_id, product_id, split``

Constructing a Catalog checks columns, ids, references and paths at once
(vectorised, no file I/O); :meth:`Catalog.validate` with ``check_files=True``
also checks that every image file exists. Every error names the table, the
column and the offending rows. Taught in every notebook (first in 01).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

PRODUCT_COLUMNS = ("product_id", "category", "color", "gender", "description", "split")
IMAGE_COLUMNS = ("image_id", "product_id", "path", "source")
INTERACTION_COLUMNS = ("user_id", "product_id", "split")
SPLITS = ("train", "val", "test")
SOURCES = ("shop", "street")

_MAX_LISTED = 5


class CatalogError(ValueError):
    """A catalog table or file breaks the data contract; the message says where."""


def _rows(frame: pd.DataFrame, mask: np.ndarray, column: str) -> str:
    """Describe the first offending rows of ``frame`` as ``row 3 ('x'), row 9 ('y')``."""
    positions = np.flatnonzero(mask)
    shown = ", ".join(f"row {int(i)} ({frame[column].iloc[i]!r})" for i in positions[:_MAX_LISTED])
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    return shown + more


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str, source: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise CatalogError(f"{source}: {table} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CatalogError(
            f"{source}: {table} table is missing column(s) {missing}; it has {list(frame.columns)}"
        )


def _empty(values: pd.Series) -> np.ndarray:
    """True where a cell is missing: NaN / None / pd.NA, or a string of only spaces (an empty CSV cell)."""
    mask = values.isna().to_numpy(copy=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values[~mask]
        is_str = text.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if is_str.any():
            blank = text[is_str].str.strip() == ""
            mask[np.flatnonzero(~mask)[is_str]] = blank.to_numpy(dtype=bool)
    return mask


def _require_no_nulls(frame: pd.DataFrame, columns: Sequence[str], table: str, source: str) -> None:
    for column in columns:
        mask = _empty(frame[column])
        if mask.any():
            raise CatalogError(
                f"{source}: {table}.{column} is empty at {_rows(frame, mask, column)}; every {table} row needs a "
                f"{column} (fill it in or drop the row)"
            )


def _require_unique(frame: pd.DataFrame, column: str, table: str, source: str) -> None:
    mask = frame[column].duplicated(keep=False).to_numpy()
    if mask.any():
        raise CatalogError(f"{source}: duplicate {column} in {table} at {_rows(frame, mask, column)}")


def _require_values(frame: pd.DataFrame, column: str, allowed: Sequence[str], table: str, source: str) -> None:
    mask = ~frame[column].isin(allowed).to_numpy()
    if mask.any():
        raise CatalogError(
            f"{source}: {table}.{column} must be one of {list(allowed)}; found {_rows(frame, mask, column)}"
        )


def unsafe_paths(paths: pd.Series) -> np.ndarray:
    """True where a relative path is empty, absolute, or escapes its root once normalised (vectorised)."""
    p = paths.astype(str).str.replace("\\", "/", regex=False)
    unsafe = (p.str.startswith("/") | p.str.match(r"^[A-Za-z]:") | p.str.fullmatch(r"[./]*")).to_numpy(copy=True)
    dotted = p.str.contains("..", regex=False).to_numpy() & ~unsafe
    if dotted.any():
        # Walk the components of paths with "..": depth -1 on "..", +1 on a name; escaping = depth < 0 anywhere
        # or a path that ends at the root itself.
        parts = p[dotted].str.split("/").explode()
        step = np.where(parts.isin(["", "."]), 0, np.where(parts == "..", -1, 1))
        depth = pd.Series(step, index=parts.index).groupby(level=0)
        cum = depth.cumsum()
        escapes = (cum < 0).groupby(level=0).any() | (cum.groupby(level=0).last() <= 0)
        unsafe[np.flatnonzero(dotted)] = escapes.reindex(p.index[dotted]).to_numpy()
    return unsafe


def _type_hint(known: pd.Series, given: pd.Series, unknown: np.ndarray, table: str) -> str:
    """A hint when the unknown ids would match as text: the two tables hold ids of different types."""
    known_text = set(known.astype(str))
    if not given[unknown].astype(str).isin(known_text).all():
        return ""
    kinds = lambda s: sorted({type(v).__name__ for v in s.head(1000)})  # noqa: E731
    return (f"; the ids match as text, but products.product_id holds {'/'.join(kinds(known))} and "
            f"{table}.product_id holds {'/'.join(kinds(given))}: use one type in both, e.g. "
            f"df['product_id'] = df['product_id'].astype(str)")


class Catalog:
    """Products, their images and user interactions, with a root folder.

    >>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": ["dress", "shoe"],
    ...                          "color": ["red", None], "gender": "women", "description": ["A red dress.", ""],
    ...                          "split": "train"})
    >>> images = pd.DataFrame({"image_id": ["i0", "i1", "i2"], "product_id": ["p0", "p0", "p1"],
    ...                        "path": ["p0/shop.png", "p0/street.png", "p1/shop.png"],
    ...                        "source": ["shop", "street", "shop"]})
    >>> cat = Catalog(products, images, root="/photos")
    >>> str(cat.image_path("i1"))
    '/photos/p0/street.png'
    >>> cat.missing_metadata()
    {'category': 0, 'color': 1, 'description': 1}

    The tables are copied and re-indexed from 0; ``source`` names the origin
    (a file, a loader) in error messages.
    """

    def __init__(
        self,
        products: pd.DataFrame,
        images: pd.DataFrame,
        interactions: pd.DataFrame | None = None,
        root: str | os.PathLike = ".",
        *,
        source: str = "catalog",
    ) -> None:
        self.source = source
        self.root = Path(root).resolve()
        _require_columns(products, PRODUCT_COLUMNS, "products", source)
        _require_columns(images, IMAGE_COLUMNS, "images", source)
        self.products = products.reset_index(drop=True).copy()
        self.images = images.reset_index(drop=True).copy()
        if interactions is None:
            interactions = pd.DataFrame({c: pd.Series(dtype=object) for c in INTERACTION_COLUMNS})
        _require_columns(interactions, INTERACTION_COLUMNS, "interactions", source)
        self.interactions = interactions.reset_index(drop=True).copy()
        self._check()
        self._image_pos = pd.Index(self.images["image_id"])

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        src, products, images, inter = self.source, self.products, self.images, self.interactions
        if len(products) == 0:
            raise CatalogError(f"{src}: the catalog is empty (no products)")
        if len(images) == 0:
            raise CatalogError(f"{src}: the catalog has products but no images")
        _require_no_nulls(products, ("product_id", "split"), "products", src)
        # (an empty path string is reported below, with the other paths that leave the root)
        _require_no_nulls(images, [c for c in IMAGE_COLUMNS if c != "path"], "images", src)
        if images["path"].isna().any():
            _require_no_nulls(images, ("path",), "images", src)
        _require_no_nulls(inter, INTERACTION_COLUMNS, "interactions", src)
        # Partial metadata is a value the catalog understands (DESIGN.md "Real catalogs"): a missing category
        # or colour is an explicit missing value (None), a missing description the empty string; the
        # samplers leave them out of the rules that need the field; missing_metadata() counts them.
        for column in ("category", "color"):
            empty = _empty(products[column])
            if empty.any():
                products[column] = products[column].astype(object).where(~empty, None)
        products["description"] = products["description"].where(~_empty(products["description"]), "").astype(str)
        products["gender"] = products["gender"].where(~_empty(products["gender"]), "unknown")
        _require_unique(products, "product_id", "products", src)
        _require_unique(images, "image_id", "images", src)
        _require_values(products, "split", SPLITS, "products", src)
        _require_values(images, "source", SOURCES, "images", src)
        _require_values(inter, "split", SPLITS, "interactions", src)

        known = pd.Index(products["product_id"])
        unknown = ~images["product_id"].isin(known).to_numpy()
        if unknown.any():
            raise CatalogError(f"{src}: images name unknown product_id at {_rows(images, unknown, 'product_id')}"
                               + _type_hint(products["product_id"], images["product_id"], unknown, "images"))
        unknown = ~inter["product_id"].isin(known).to_numpy()
        if unknown.any():
            raise CatalogError(
                f"{src}: interactions name unknown product_id at {_rows(inter, unknown, 'product_id')}"
                + _type_hint(products["product_id"], inter["product_id"], unknown, "interactions")
            )
        without = ~products["product_id"].isin(pd.Index(images["product_id"])).to_numpy()
        if without.any():
            raise CatalogError(f"{src}: product(s) with no image at {_rows(products, without, 'product_id')}")
        unsafe = unsafe_paths(images["path"])
        if unsafe.any():
            raise CatalogError(
                f"{src}: image path must be relative and stay inside the root {self.root}; "
                f"found {_rows(images, unsafe, 'path')}"
            )

    def validate(self, check_files: bool = True) -> Catalog:
        """Re-check the tables; with ``check_files`` also that every image file exists.

        Symlinks that lead outside the root are refused too. Returns ``self``.
        """
        self._check()
        if check_files:
            root = self.root
            paths = self.images["path"].astype(str)
            exists = np.fromiter((os.path.isfile(root / p) for p in paths), dtype=bool, count=len(paths))
            if not exists.all():
                raise CatalogError(
                    f"{self.source}: image file not found under {root} at {_rows(self.images, ~exists, 'path')}"
                )
            inside = np.fromiter(
                ((root / p).resolve().is_relative_to(root) for p in paths), dtype=bool, count=len(paths)
            )
            if not inside.all():
                raise CatalogError(
                    f"{self.source}: image path resolves outside the root {root} (symlink) at "
                    f"{_rows(self.images, ~inside, 'path')}"
                )
        return self

    # ----------------------------------------------------------------- access
    def image_path(self, image_id: object) -> Path:
        """Absolute path of one image, guaranteed to lie inside ``root``."""
        try:
            pos = self._image_pos.get_loc(image_id)
        except KeyError:
            raise KeyError(f"{self.source}: unknown image_id {image_id!r}") from None
        path = (self.root / str(self.images["path"].iat[pos])).resolve()
        if not path.is_relative_to(self.root):
            raise CatalogError(f"{self.source}: image {image_id!r} resolves outside the root {self.root}")
        return path

    def image_paths(self, image_ids: Iterable[object] | None = None) -> list[str]:
        """Absolute paths (as strings) of ``image_ids`` (default: every image, in table order)."""
        if image_ids is None:
            rel = self.images["path"].astype(str)
        else:
            ids = list(image_ids)
            pos = self._image_pos.get_indexer(ids)
            if (pos < 0).any():
                bad = [ids[i] for i in np.flatnonzero(pos < 0)[:_MAX_LISTED]]
                raise KeyError(f"{self.source}: unknown image_id(s) {bad}")
            rel = self.images["path"].astype(str).iloc[pos]
        root = str(self.root)
        return [os.path.join(root, p) for p in rel]

    def image_table(self) -> pd.DataFrame:
        """Images joined with their product's columns (one row per image)."""
        return self.images.merge(self.products, on="product_id", how="left", validate="many_to_one")

    def missing_metadata(self) -> dict[str, int]:
        """How many products lack a category, a colour or a description (explicit missing values; see the example
        of :class:`Catalog`)."""
        p = self.products
        return {"category": int(p["category"].isna().sum()), "color": int(p["color"].isna().sum()),
                "description": int((p["description"].fillna("").astype(str).str.strip() == "").sum())}

    def subset(self, product_ids: Iterable[object]) -> Catalog:
        """A catalog with only ``product_ids``, their images and their interactions."""
        keep = pd.Index(list(product_ids))
        products = self.products[self.products["product_id"].isin(keep)]
        if len(products) == 0:
            raise CatalogError(f"{self.source}: the catalog is empty: none of the {len(keep)} product id(s) asked "
                               f"for is in it (e.g. {list(keep[:3])}); it has {len(self.products)} products")
        return Catalog(
            products,
            self.images[self.images["product_id"].isin(keep)],
            self.interactions[self.interactions["product_id"].isin(keep)],
            root=self.root,
            source=self.source,
        )

    def split(self, name: str) -> Catalog:
        """The products of one split (``train``, ``val`` or ``test``) as a catalog."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {name!r}")
        counts = self.products["split"].value_counts()
        if counts.get(name, 0) == 0:
            present = {k: int(v) for k, v in counts.items()}
            raise CatalogError(
                f"{self.source}: no product is in split {name!r} (products per split: {present}); give some "
                f"products split={name!r} in the products table, or re-split them with "
                "fashionsim.data.split_products"
            )
        return self.subset(self.products.loc[self.products["split"] == name, "product_id"])

    def __len__(self) -> int:
        return len(self.products)

    def __repr__(self) -> str:
        users = self.interactions["user_id"].nunique()
        return (
            f"Catalog({len(self.products)} products, {len(self.images)} images, "
            f"{users} users, {len(self.interactions)} interactions, root={str(self.root)!r})"
        )
