"""``--catalog`` for every subcommand: any catalog the loaders know, detected or named.

=====================  =====================================================================
``--catalog-format``   ``--catalog`` is
=====================  =====================================================================
``demo``               the word ``demo``: the generated demo catalog (the default)
``csv``                a folder of ``products.csv``, ``images.csv`` (+ ``interactions.csv``)
``folders``            a folder per product, ``root/<product_id>/*.jpg`` (``shop/``, ``street/``
                       sub-folders allowed), with an optional ``root/metadata.csv``
                       (``product_id`` + any of category, color, gender, description, split)
``article``            a CSV in the Deep Ranking article's columns (``_id, _category, _color``...);
                       images relative to ``--image-root`` (default: the CSV's folder)
``deepfashion-inshop``  a DeepFashion In-shop root (``list_eval_partition.txt``)
``deepfashion-c2s``    a DeepFashion Consumer-to-shop root (``list_eval_partition.txt``)
=====================  =====================================================================

``auto`` (the default) picks the format from what is on disk, in that order.

>>> import tempfile
>>> from PIL import Image
>>> photos = Path(tempfile.mkdtemp())
>>> for name in ("red-dress/front.jpg", "blue-shirt/front.jpg"):
...     (photos / name).parent.mkdir()
...     Image.new("RGB", (8, 8)).save(photos / name)
>>> detect_format(photos), len(open_catalog(photos).products)        # a folder per product
('folders', 2)
"""

from __future__ import annotations

import os
from pathlib import Path

FORMATS = ("auto", "demo", "csv", "folders", "article", "deepfashion-inshop", "deepfashion-c2s")
METADATA_NAMES = ("metadata.csv", "metadata.tsv")
_PARTITION = ("list_eval_partition.txt", "Eval/list_eval_partition.txt")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _partition_file(root: Path) -> Path | None:
    return next((root / name for name in _PARTITION if (root / name).is_file()), None)


def _has_product_folders(root: Path) -> bool:
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir() and not entry.name.startswith("."):
                with os.scandir(entry.path) as inner:
                    if any(e.name.lower().endswith(_IMAGE_EXTENSIONS) or e.name in ("shop", "street") for e in inner):
                        return True
    return False


def detect_format(spec: str | os.PathLike) -> str:
    """The catalog format of ``spec`` (see the module docstring); a clear error when none fits."""
    if str(spec) == "demo":
        return "demo"
    path = Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"catalog not found: {path} (give a folder, an article-style CSV, or 'demo')")
    if path.is_file():
        if path.suffix.lower() in (".csv", ".tsv", ".txt"):
            return "article"
        raise ValueError(f"{path}: a catalog file must be an article-style CSV (.csv or .tsv)")
    if (path / "products.csv").is_file() and (path / "images.csv").is_file():
        return "csv"
    partition = _partition_file(path)
    if partition is not None:
        with open(partition, encoding="utf-8", errors="replace") as handle:
            handle.readline()
            header = handle.readline().split()
        return "deepfashion-c2s" if header[:1] == ["image_pair_name_1"] else "deepfashion-inshop"
    if _has_product_folders(path):
        return "folders"
    found = sorted(p.name for p in path.iterdir())[:8]
    raise ValueError(
        f"{path}: not a catalog fashionsim knows. Expected products.csv + images.csv, a folder per product "
        f"(<product_id>/*.jpg), or a DeepFashion list_eval_partition.txt; found {found}. "
        f"Name the format with --catalog-format ({', '.join(FORMATS[1:])})"
    )


def open_catalog(spec: str | os.PathLike = "demo", fmt: str = "auto", *, image_root: str | os.PathLike | None = None,
                 metadata: str | os.PathLike | None = None, check_files: bool = True):
    """Load ``spec`` as a validated :class:`~fashionsim.data.Catalog` in format ``fmt`` (``auto`` detects it)."""
    from fashionsim import data

    if fmt not in FORMATS:
        raise ValueError(f"--catalog-format must be one of {list(FORMATS)}, got {fmt!r}")
    if fmt == "auto":
        fmt = detect_format(spec)
    if fmt == "demo":
        if str(spec) != "demo":
            raise ValueError(f"--catalog-format demo takes --catalog demo, got {str(spec)!r}")
        return data.load_demo()
    path = Path(spec).expanduser()
    if fmt == "csv":
        return data.read_catalog(path, check_files=check_files)
    if fmt == "folders":
        if metadata is None:
            metadata = next((path / n for n in METADATA_NAMES if (path / n).is_file()), None)
        return data.from_folders(path, metadata=metadata, check_files=check_files)
    if fmt == "article":
        root = Path(image_root).expanduser() if image_root is not None else path.parent
        return data.from_article_csv(path, root, check_files=check_files)
    if fmt == "deepfashion-inshop":
        return data.from_deepfashion_inshop(path, check_files=check_files)
    return data.from_deepfashion_consumer2shop(path, check_files=check_files)

