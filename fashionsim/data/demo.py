"""The generated demo catalog: a small, deterministic stand-in for DeepFashion / Street2Shop.

GENERATED DATA, NOT REAL PHOTOS. Garments are drawn from category
silhouettes (t-shirt, shirt, dress, skirt, trousers, shorts, jacket, shoe,
bag, hat) in 13 named colours, 6 patterns and 14 materials, each product
photographed twice in a clean ``shop`` setting and twice as a distorted
``street`` photo (busy background, a person, crop, rotation, light, blur,
noise, sometimes an occluder). Descriptions are English text whose nouns and
adjectives describe what is drawn; users interact with products following
hidden tastes over colour, pattern and category plus item popularity.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp()) / "demo"
>>> cat = make_demo(root, seed=0, n_products=10, n_users=3, image_size=32)
>>> len(cat.products), len(cat.images), cat.images["source"].value_counts().to_dict()
(10, 40, {'shop': 20, 'street': 20})
>>> verify_demo(root)
[]

``load_demo()`` returns the default demo (360 products, 96 px) from :func:`default_demo_root`,
generating it on first use (about 10 s).

Same seed and parameters give byte-identical files (on the same Pillow/zlib).
Used by every notebook; its contact sheet (:func:`fashionsim.plots.contact_sheet`) is shown in
notebook 01 and by ``make demo``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionsim._io import atomic_dir
from fashionsim._progress import progress as _progress
from fashionsim.data._demo_sampling import MIN_INTERACTIONS, sample_interactions, sample_products, split_by_product
from fashionsim.data._descriptions import describe
from fashionsim.data._garment_photos import shop_view, street_view
from fashionsim.data._garment_render import render_product
from fashionsim.data.catalog import Catalog, CatalogError
from fashionsim.data.csv_folder import read_catalog

__all__ = [
    "DEMO_VERSION", "DEMO_DEFAULTS", "make_demo", "load_demo", "read_demo", "verify_demo",
    "default_demo_root", "is_demo",
]

#: Bump when the generator changes what it writes: cached folders are then regenerated.
DEMO_VERSION = 2
DEMO_DEFAULTS: dict[str, int] = {"n_products": 360, "n_users": 320, "image_size": 96, "n_shop": 2, "n_street": 2}
MANIFEST = "manifest.json"
#: Probability that a street photo has an occluder (an arm, an object, a pole).
OCCLUSION_P = 0.35


# ------------------------------------------------------------------ helpers
def default_demo_root() -> Path:
    """Where the demo catalog lives: ``$FASHIONSIM_DATA_DIR/demo``, else ``<user cache dir>/fashionsim/demo``.

    The user cache dir is the platform's (``platformdirs.user_cache_dir``):
    ``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on
    macOS, ``%LOCALAPPDATA%`` on Windows. ``make demo``, the command line and
    the notebooks all resolve it here, so they share one copy.
    """
    given = os.environ.get("FASHIONSIM_DATA_DIR")
    if given:
        return Path(given).expanduser() / "demo"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("fashionsim", appauthor=False)) / "demo"


def _check_params(n_products: int, n_users: int, image_size: int, n_shop: int, n_street: int) -> dict[str, int]:
    params = {"n_products": n_products, "n_users": n_users, "image_size": image_size, "n_shop": n_shop,
              "n_street": n_street}
    lows = {"n_products": MIN_INTERACTIONS + 5, "n_users": 1, "image_size": 32, "n_shop": 1, "n_street": 1}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < lows[name]:
            raise ValueError(f"{name} must be >= {lows[name]}, got {value}")
    if n_shop > 10 or n_street > 10:
        raise ValueError(f"n_shop and n_street must be <= 10, got {n_shop} and {n_street}")
    return {k: int(v) for k, v in params.items()}


# ------------------------------------------------------------------ writing
def _png_bytes(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)  # Pillow writes no time stamp or text chunk
    return buf.getvalue()


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_demo(folder: Path, seed: int, params: dict[str, int], progress: bool) -> None:
    """Generate every file of the demo catalog into the (empty) ``folder``."""
    n, size = params["n_products"], params["image_size"]
    n_shop, n_street = params["n_shop"], params["n_street"]
    rng = np.random.default_rng(seed)
    attrs, specs = sample_products(n, rng)
    width = max(4, len(str(n - 1)))
    pids = np.array([f"p{i:0{width}d}" for i in range(n)], dtype=object)
    split = split_by_product(attrs["category"].to_numpy(), rng)
    occluded = rng.random((n, n_street)) < OCCLUSION_P
    all_occluded = np.flatnonzero(occluded.all(axis=1))  # keep at least one clean street photo per product
    occluded[all_occluded, rng.integers(n_street, size=len(all_occluded))] = False
    shop_u = rng.random((n, n_shop, 6))
    interactions = sample_interactions(attrs, params["n_users"], rng)
    interactions["product_id"] = pids[interactions["product_id"].to_numpy()]

    descriptions = [describe(spec, np.random.default_rng([seed, 1, i])) for i, spec in enumerate(specs)]
    products = pd.DataFrame({
        "product_id": pids, "category": attrs["category"], "color": attrs["color"], "gender": attrs["gender"],
        "description": descriptions, "split": split, "pattern": attrs["pattern"], "material": attrs["material"],
        "fit": attrs["fit"],
    })

    folder.chmod(0o755)  # the temporary folder is private (0700); a cache folder is readable like any other
    hashes: dict[str, str] = {}
    image_dir = folder / "images"
    image_dir.mkdir()
    rows: list[tuple[str, str, str, str, bool]] = []
    render = 2 * size
    for i in _progress(range(n), enabled=progress, total=n, desc="drawing demo products"):
        spec, pid = specs[i], pids[i]
        sprite, anchors = render_product(spec, render, np.random.default_rng([seed, 2, i]))
        views = [(f"{pid}_shop{k}", "shop", True, shop_view(sprite, size, shop_u[i, k])) for k in range(n_shop)]
        views += [
            (f"{pid}_street{k}", "street", not occluded[i, k],
             street_view(sprite, anchors, spec, size, np.random.default_rng([seed, 3, i, k]), occlude=bool(occluded[i, k])))
            for k in range(n_street)
        ]
        for image_id, source, clean, img in views:
            rel = f"images/{image_id}.png"
            payload = _png_bytes(img)
            (folder / rel).write_bytes(payload)
            hashes[rel] = _sha256(payload)
            rows.append((image_id, pid, rel, source, clean))
    images = pd.DataFrame(rows, columns=["image_id", "product_id", "path", "source", "clean"])

    for name, frame in (("products.csv", products), ("images.csv", images), ("interactions.csv", interactions)):
        payload = _csv_bytes(frame)
        (folder / name).write_bytes(payload)
        hashes[name] = _sha256(payload)
    manifest = {
        "name": "fashionsim demo catalog",
        "note": "GENERATED synthetic data: drawn garments, not real photos",
        "generator": "fashionsim.data.demo",
        "version": DEMO_VERSION,
        "seed": seed,
        "params": params,
        "counts": {
            "products": len(products), "images": len(images), "shop_images": int((images["source"] == "shop").sum()),
            "street_images": int((images["source"] == "street").sum()),
            "users": int(interactions["user_id"].nunique()), "interactions": len(interactions),
        },
        "files": dict(sorted(hashes.items())),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None


_DEMO_ENTRIES = frozenset({"products.csv", "images.csv", "interactions.csv", "images", MANIFEST})


def _refuse_foreign(folder: Path, caller: str) -> None:
    """Raise unless ``folder`` is absent, empty, or holds nothing but demo-catalog entries."""
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{caller}: {folder} exists and is not a folder")
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in _DEMO_ENTRIES)
        if foreign:
            raise FileExistsError(
                f"{caller}: {folder} holds files that are not part of a demo catalog ({foreign[:5]}); "
                "refusing to replace it - pass an empty or new folder"
            )


def _matches(manifest: dict[str, Any] | None, seed: int, params: dict[str, int]) -> bool:
    return (
        manifest is not None and manifest.get("generator") == "fashionsim.data.demo"
        and manifest.get("version") == DEMO_VERSION and manifest.get("seed") == seed and manifest.get("params") == params
    )


def make_demo(
    out_dir: str | os.PathLike,
    seed: int = 0,
    *,
    n_products: int = 360,
    n_users: int = 320,
    image_size: int = 96,
    n_shop: int = 2,
    n_street: int = 2,
    progress: bool = False,
) -> Catalog:
    """Generate the demo catalog into ``out_dir`` and return it (validated, files checked).

    Writes ``products.csv``, ``images.csv``, ``interactions.csv``,
    ``images/<image_id>.png`` (``image_size`` px RGB) and ``manifest.json``
    (version, seed, parameters, sha256 of every file). The folder is built
    beside ``out_dir`` and moved into place when complete, replacing an older
    demo folder; a non-empty folder that is not a demo catalog is refused.
    Same seed and parameters -> byte-identical files.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    params = _check_params(n_products, n_users, image_size, n_shop, n_street)
    out = Path(out_dir).expanduser()
    _refuse_foreign(out, "make_demo")
    with atomic_dir(out) as tmp:
        _write_demo(tmp, int(seed), params, progress)
    return read_demo(out)


def read_demo(root: str | os.PathLike) -> Catalog:
    """Load an existing demo folder (no generation) and validate it, image files included."""
    root = Path(root).expanduser()
    for name in ("products", "images", "interactions"):
        if not (root / f"{name}.csv").is_file():
            raise FileNotFoundError(f"demo catalog: {root / name}.csv not found (generate it with fashionsim.data.make_demo)")
    cat = read_catalog(root, check_files=True)
    if cat.images["clean"].dtype != bool:
        raise CatalogError(f"{root / 'images.csv'}: column clean must hold only True or False")
    return cat


def verify_demo(root: str | os.PathLike) -> list[str]:
    """Files of a demo folder that are missing or whose sha256 differs from the manifest (empty = intact)."""
    root = Path(root).expanduser()
    manifest = _read_manifest(root)
    if manifest is None or not isinstance(manifest.get("files"), dict):
        raise FileNotFoundError(f"demo catalog: {root / MANIFEST} is missing or unreadable")
    bad = []
    for rel, digest in manifest["files"].items():
        path = root / rel
        if not path.is_file() or _sha256(path.read_bytes()) != digest:
            bad.append(rel)
    return bad


class _AlreadyThere(Exception):
    """Another process finished the same demo folder while this one was generating."""


def load_demo(root: str | os.PathLike | None = None, *, seed: int = 0, verify: bool = False,
              progress: bool = False, **params: int) -> Catalog:
    """The demo catalog at ``root`` (default :func:`default_demo_root`), generated on first use.

    The folder is (re)generated when it or its manifest is missing, or when the
    manifest's version, seed or parameters differ from the ones asked for
    (``params``: ``n_products``, ``n_users``, ``image_size``, ``n_shop``,
    ``n_street``; defaults :data:`DEMO_DEFAULTS`). With ``verify`` every
    file's sha256 is checked too and a damaged folder is regenerated. Two
    processes may race to generate it: each builds in its own temporary folder
    and the folder that lands first is kept.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / "demo"
    >>> cat = load_demo(root, n_products=10, n_users=3, image_size=32)   # generated: the folder was empty
    >>> cat.products.columns[:6].tolist()
    ['product_id', 'category', 'color', 'gender', 'description', 'split']
    >>> load_demo(root, n_products=10, n_users=3, image_size=32).products.equals(cat.products)   # read back
    True
    """
    unknown = set(params) - set(DEMO_DEFAULTS)
    if unknown:
        raise TypeError(f"load_demo got unknown parameter(s) {sorted(unknown)}; known: {sorted(DEMO_DEFAULTS)}")
    wanted = _check_params(**{**DEMO_DEFAULTS, **params})
    root = default_demo_root() if root is None else Path(root).expanduser()
    manifest = _read_manifest(root)
    fresh = _matches(manifest, seed, wanted) and not (verify and verify_demo(root))
    if not fresh:
        _refuse_foreign(root, "load_demo")
        try:
            with atomic_dir(root) as tmp:
                _write_demo(tmp, int(seed), wanted, progress)
                if _matches(_read_manifest(root), seed, wanted) and not verify_demo(root):
                    raise _AlreadyThere
        except _AlreadyThere:
            pass
        except OSError:  # the other process's folder landed between our check and our move
            if not _matches(_read_manifest(root), seed, wanted):
                raise
    return read_demo(root)


# ------------------------------------------------------------------ pictures
def is_demo(cat: Catalog) -> bool:
    """True when ``cat`` was read from a folder the demo generator wrote (its figures say "generated")."""
    manifest = _read_manifest(cat.root)
    return manifest is not None and manifest.get("generator") == "fashionsim.data.demo"

