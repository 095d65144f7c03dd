"""Helpers shared by the subcommands: catalog and model arguments, output."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

from fashionsim.embed import model_input_size  # noqa: F401 - re-exported for the subcommands


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


def add_catalog_argument(parser: argparse.ArgumentParser) -> None:
    from fashionsim.commands._catalogs import FORMATS

    parser.add_argument("--catalog", default="demo",
                        help="'demo' for the generated demo catalog (default), or your own: a folder of "
                             "products.csv + images.csv (+ interactions.csv), a folder per product "
                             "(<product_id>/*.jpg, optional metadata.csv), an article-style CSV, or a "
                             "DeepFashion root")
    parser.add_argument("--catalog-format", choices=FORMATS, default="auto",
                        help="how to read --catalog (default: auto, detected from what is on disk)")
    parser.add_argument("--image-root", default=None,
                        help="article-style CSV only: the folder its image paths are relative to "
                             "(default: the CSV's folder)")


def load_catalog(spec: str, fmt: str = "auto", image_root: str | None = None):
    """``demo`` → the demo catalog; anything else → any catalog the loaders know (see ``_catalogs``)."""
    from fashionsim.commands._catalogs import open_catalog

    return open_catalog(spec, fmt, image_root=image_root)


def catalog_from_args(args: argparse.Namespace):
    """The catalog named by ``--catalog``, ``--catalog-format`` and ``--image-root``."""
    return load_catalog(args.catalog, getattr(args, "catalog_format", "auto"), getattr(args, "image_root", None))


def strict_json(value):
    """``value`` with every NaN or ±Infinity float replaced by None, NumPy scalars made plain: valid JSON."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(payload) -> str:
    """Strict JSON (no NaN, no ±Infinity), indented."""
    return json.dumps(strict_json(payload), indent=2, default=str, allow_nan=False)


def emit(payload, as_json: bool, text: Callable[[object], str]) -> None:
    """Print ``payload`` as strict JSON or through ``text``."""
    print(dumps(payload) if as_json else text(payload))


def image_files(items: list[str]) -> list[Path]:
    """Expand files and folders (their .jpg/.jpeg/.png/.webp, sorted) into a list of image files."""
    exts = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in exts)
            if not found:
                raise UsageError(f"no image files (.jpg, .png, ...) in folder {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"image not found: {path}")
    return files


def require_positive(value: int, option: str, example: int) -> int:
    """``value`` if it is >= 1, else a UsageError that names the option and shows a valid call."""
    if value is None or value < 1:
        raise UsageError(f"{option} must be a positive number, got {value} (e.g. {option} {example})")
    return value
