"""Fashion-MNIST: its idx files (gzip or raw) read as arrays, or written once as PNG and loaded as a Catalog.

Part of :mod:`fashionsim.data.loaders`.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim._compat import renamed
from fashionsim._io import atomic_dir
from fashionsim._progress import progress as _progress
from fashionsim._random import Seed
from fashionsim.data.catalog import Catalog, CatalogError
from fashionsim.data.loaders.common import cache_is_complete, source_stamp, split_products, validated_catalog

__all__ = ["FASHION_MNIST_CLASSES", "read_idx", "from_fashion_mnist"]

#: Fashion-MNIST label -> category name (the dataset's own class names, lower-cased).
FASHION_MNIST_CLASSES = (
    "t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot",
)
_IDX_MAGIC = {2049: 1, 2051: 3}  # labels: 1 dimension, images: 3 dimensions (unsigned byte data)


def _open_maybe_gzip(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading, through gzip when it starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _idx_header(handle: io.BufferedIOBase, path: Path) -> tuple[int, ...]:
    """The dimensions an idx header announces, after checking its magic number."""
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

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "train-labels-idx1-ubyte.gz"
    >>> with gzip.open(path, "wb") as handle:
    ...     _ = handle.write(struct.pack(">II", 2049, 3) + bytes([9, 0, 0]))
    >>> read_idx(path)
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


@renamed(split_seed="seed")
def from_fashion_mnist(
    path_or_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    kind: str = "train",
    split_fractions: tuple[float, float, float] = (0.9, 0.1, 0.0),
    seed: Seed = 0,
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
    stamp = source_stamp([images_path, labels_path])
    n = len(labels)
    if n == 0:
        raise CatalogError(f"{labels_path}: the catalog is empty (0 labels)")
    if not cache_is_complete(folder, stamp, n):
        _write_idx_pngs(images_path, n, folder, stamp, progress)
    ids = np.char.add(f"{kind}-", np.char.zfill(np.arange(n).astype(str), 5))
    products = pd.DataFrame({
        "product_id": ids,
        "category": np.asarray(FASHION_MNIST_CLASSES, dtype=object)[labels],
        "color": "unknown", "gender": "unknown", "description": "",
        "split": "test" if kind == "t10k" else split_products(ids, split_fractions, seed),
        "label": labels.astype(np.int64),
    })
    paths = np.char.add(np.char.add("images/", ids), ".png")
    images = pd.DataFrame({"image_id": ids, "product_id": ids, "path": paths, "source": "shop"})
    return validated_catalog(products, images, None, folder, str(images_path), check_files)


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
