"""Helpers shared by the subcommands: catalog and model arguments, output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from fashionsim.embed import model_input_size  # noqa: F401 - re-exported for the subcommands


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


def add_catalog_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", default="demo",
                        help="a catalog folder (products.csv, images.csv, interactions.csv) or 'demo' "
                             "for the generated demo catalog (default)")


def load_catalog(spec: str):
    """``demo`` → the demo catalog; anything else → a catalog folder of CSV files."""
    from fashionsim import data

    if spec == "demo":
        return data.load_demo()
    return data.read_catalog(Path(spec))


def emit(payload, as_json: bool, text: Callable[[object], str]) -> None:
    """Print ``payload`` as JSON or through ``text``."""
    print(json.dumps(payload, indent=2, default=str) if as_json else text(payload))


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
