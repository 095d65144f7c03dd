"""The DVBPR Amazon ``.npy`` files: pickles, so loading them needs an explicit opt-in.

Part of :mod:`fashionsim.data.loaders`; notebook 04 names it for a real dataset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._io import atomic_dir
from fashionsim._progress import progress as _progress
from fashionsim._random import Seed
from fashionsim.data.catalog import INTERACTION_COLUMNS, Catalog, CatalogError
from fashionsim.data.loaders.common import (
    DEFAULT_FRACTIONS,
    cache_is_complete,
    source_stamp,
    split_products,
    validated_catalog,
)

__all__ = ["from_dvbpr_npy"]


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
    """The file suffix the image bytes' magic number calls for (``.img`` when unknown)."""
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


@renamed(split_seed="seed")
def from_dvbpr_npy(
    path: str | os.PathLike,
    *,
    allow_pickle: bool = False,
    cache_dir: str | os.PathLike | None = None,
    split_fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: Seed = 0,
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
    stamp = source_stamp([path])
    if not cache_is_complete(folder, stamp, itemnum):
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
        "description": "", "split": split_products(item_index, split_fractions, seed),
    })
    if any(asins):
        products["asin"] = asins
    images = pd.DataFrame({"image_id": item_index, "product_id": item_index, "path": rel_paths, "source": "shop"})
    return validated_catalog(products, images, interactions[list(INTERACTION_COLUMNS)], folder, str(path), check_files)
