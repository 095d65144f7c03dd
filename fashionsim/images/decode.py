"""Decoding: image files become float32 RGB arrays in [0, 1], with Pillow, robustly.

* :func:`load_image` decodes one file: EXIF orientation applied, every Pillow mode turned into RGB
  (alpha composited on white, 16-bit and 32-bit grey scaled, not clipped), a decompression-bomb
  guard, and a clear :class:`~fashionsim.images.errors.ImageDecodeError` naming the file when it is
  truncated or corrupt; ``fit="pad"`` keeps the aspect ratio on a white square.
* :func:`decode_array` is the same decoder before the float conversion, with an optional
  :class:`~fashionsim.images.augment.AugmentPlan` applied inside its one resize: ``images.dataset``
  runs it on every file.
* :func:`open_rgb` (full-size 8-bit RGB for display), :func:`image_size` / :func:`image_size_ok`
  (header only), :func:`check_images` (a pre-check of many files).

>>> import os, tempfile
>>> from PIL import Image
>>> with tempfile.TemporaryDirectory() as folder:
...     path = os.path.join(folder, "red.png")
...     Image.new("RGB", (40, 20), (255, 0, 0)).save(path)
...     x, padded, size = load_image(path, 32), load_image(path, 32, fit="pad"), image_size(path)
>>> x.shape, x.dtype, x[0, 0].tolist(), padded[0, 0].tolist(), size
((32, 32, 3), dtype('float32'), [1.0, 0.0, 0.0], [1.0, 1.0, 1.0], (40, 20))

Taught in notebook 01.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from fashionsim._compat import renamed
from fashionsim.images.errors import DECODE_ERRORS as _DECODE_ERRORS
from fashionsim.images.errors import ImageDecodeError, ImageTooLargeError, SkipReport

if TYPE_CHECKING:  # pragma: no cover
    from fashionsim.images.augment import AugmentPlan

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Fit",
    "check_images",
    "decode_array",
    "image_size",
    "image_size_ok",
    "load_image",
    "open_rgb",
    "to_rgb",
]

#: Refuse images with more pixels than this (about 67 megapixels) unless told otherwise.
DEFAULT_MAX_PIXELS = 64 * 2**20

Fit = Literal["stretch", "pad"]
_FITS = ("stretch", "pad")
_WHITE = (255, 255, 255)

# Modes with an alpha channel (or that carry a transparent colour) are composited on white.
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
# High bit-depth grey modes: decoded to float and scaled by their full range (never clipped at 255).
_HIGH_DEPTH_SCALE = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0, "F": 255.0}


def check_image_size(image_size: int) -> int:
    """``image_size`` as an int, or a ``ValueError`` naming it when it is not a positive int."""
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(f"image_size must be a positive int (pixels per side), got {image_size!r}")
    return int(image_size)


def check_fit(fit: str) -> str:
    """``fit`` itself, or a ``ValueError`` naming it when it is not "stretch" or "pad"."""
    if fit not in _FITS:
        raise ValueError(f"fit must be one of {list(_FITS)}, got {fit!r}")
    return fit


def _pillow_open(name: str):
    """``PIL.Image.open`` with errors that name the file (not found, decompression bomb, undecodable)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Our own ``max_pixels`` is the guard; Pillow's warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(name)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {name}") from None
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: refused as a possible decompression bomb ({exc})") from exc
    except _DECODE_ERRORS as exc:
        raise ImageDecodeError(f"cannot decode image {name}: {exc}") from exc


def _open(path: str | os.PathLike, max_pixels: int | None, draft_size: int | None):
    """Open ``path`` with Pillow, guard its pixel count, load it fully and apply EXIF orientation."""
    from PIL import ImageOps

    name = os.fspath(path)
    img = _pillow_open(name)
    try:
        width, height = img.size
        if max_pixels is not None and width * height > max_pixels:
            raise ImageTooLargeError(
                f"{name}: {width}x{height} = {width * height} pixels exceeds max_pixels={max_pixels} "
                "(decompression-bomb guard; pass a larger max_pixels to accept it)"
            )
        if draft_size is not None and img.format == "JPEG":
            # Let the JPEG decoder shrink by 1/2, 1/4 or 1/8 while keeping both sides >= draft_size.
            img.draft(None, (draft_size, draft_size))
        img.load()
        oriented = ImageOps.exif_transpose(img)
    except ImageDecodeError:
        img.close()
        raise
    except _DECODE_ERRORS as exc:
        img.close()
        raise ImageDecodeError(f"cannot decode image {name}: {exc}") from exc
    if oriented is not img:
        img.close()
    return oriented


def to_rgb(img, background: tuple[int, int, int] = _WHITE):
    """Turn a Pillow image of any mode into an 8-bit ``RGB`` image, or a float32 (H, W) grey array in [0, 1].

    Alpha (and palette or tRNS transparency) is composited on ``background``;
    16-bit grey (``I;16*``) and 32-bit ``I`` are divided by 65535, ``F`` by 255
    (Pillow's own scale for float images), then clipped to [0, 1].
    """
    from PIL import Image

    mode = img.mode
    if mode in _HIGH_DEPTH_SCALE:
        grey = np.asarray(img, dtype=np.float32) / np.float32(_HIGH_DEPTH_SCALE[mode])
        return np.clip(grey, 0.0, 1.0)
    if mode == "RGB" and "transparency" not in img.info:
        return img
    if mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert("RGB")


def open_rgb(path: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS):
    """Decode ``path`` into an upright 8-bit RGB ``PIL.Image`` (full size), for display and plots.

    High bit-depth grey images are scaled to 8 bits. Raises
    :class:`ImageDecodeError` / :class:`ImageTooLargeError` naming the file.
    """
    from PIL import Image

    img = _open(path, max_pixels, None)
    out = to_rgb(img)
    if isinstance(out, np.ndarray):
        out = Image.fromarray(np.round(out * 255.0).astype(np.uint8), "L").convert("RGB")
    return out


def _resize_rgb(img, size: int, fit: str, background: tuple[int, int, int],
                plan: AugmentPlan | None = None) -> np.ndarray:
    """Resize an RGB image to (size, size, 3) uint8: stretched, or padded to a centred square then resized.

    With an augmentation ``plan`` the crop is taken from the full-resolution
    (padded) picture inside the same resampling, the colour matrix is applied
    by Pillow (rounded and clipped once), then the flips and rotations.
    """
    from PIL import Image, ImageStat

    width, height = img.size
    if fit == "pad" and width != height:
        side = max(width, height)
        canvas = Image.new("RGB", (side, side), background)
        canvas.paste(img, ((side - width) // 2, (side - height) // 2))
        img, width, height = canvas, side, side
    box = None if plan is None else plan.crop_box(width, height)
    resized = img.resize((size, size), Image.Resampling.BILINEAR, box=box)
    if plan is not None:
        matrix, bias = plan.colour_matrix(np.asarray(ImageStat.Stat(resized).mean) / 255.0)
        resized = resized.convert("RGB", tuple(v for d in range(3) for v in (*matrix[:, d], 255.0 * bias)))
    return np.asarray(resized) if plan is None else plan.orient(np.asarray(resized))


def _resize_grey(grey: np.ndarray, size: int, fit: str, plan: AugmentPlan | None = None) -> np.ndarray:
    """Resize a float (H, W) grey array in [0, 1] to (size, size, 3) float32 the same way (white padding = 1.0)."""
    from PIL import Image

    height, width = grey.shape
    if fit == "pad" and width != height:
        side = max(width, height)
        square = np.ones((side, side), dtype=np.float32)
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = grey
        grey, width, height = square, side, side
    box = None if plan is None else plan.crop_box(width, height)
    img = Image.fromarray(np.asarray(grey, dtype=np.float32), "F")
    out = np.clip(np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, box=box), np.float32), 0.0, 1.0)
    out = np.repeat(out[:, :, None], 3, axis=2)
    if plan is not None:
        matrix, bias = plan.colour_matrix(out.reshape(-1, 3).mean(axis=0))
        out = np.clip(out @ matrix.astype(np.float32) + np.float32(bias), 0.0, 1.0)
    return out if plan is None else plan.orient(out)


@renamed(size="image_size")
def load_image(
    path: str | os.PathLike,
    image_size: int,
    *,
    fit: Fit = "stretch",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode one image file into a float32 (image_size, image_size, 3) RGB array in [0, 1].

    ``fit="stretch"`` resizes to the square; ``fit="pad"`` keeps the aspect
    ratio and centres the picture on a white square. EXIF orientation is
    applied; every Pillow mode is handled (see :func:`to_rgb`). Raises
    ``FileNotFoundError``, :class:`ImageDecodeError` (truncated, corrupt, not
    an image) or :class:`ImageTooLargeError` (more than ``max_pixels``), each
    naming the file. The parameter was called ``size`` (still accepted, with a ``FutureWarning``).
    """
    size, fit = check_image_size(image_size), check_fit(fit)
    out = decode_array(path, size, fit, max_pixels)
    return out.astype(np.float32) / np.float32(np.iinfo(out.dtype).max)


def decode_array(path: str | os.PathLike, size: int, fit: str, max_pixels: int | None,
                 plan: AugmentPlan | None = None) -> np.ndarray:
    """(size, size, 3) uint8 for 8-bit sources, uint16 for high bit-depth grey ones (full range used).

    The decoder behind :func:`load_image` and ``images.dataset``; with a ``plan`` its augmentation is
    applied within the resize (crop from the full-resolution picture, colour, then flips).
    """
    img = _open(path, max_pixels, size)
    try:
        rgb = to_rgb(img)
        if isinstance(rgb, np.ndarray):
            return np.round(_resize_grey(rgb, size, fit, plan) * 65535.0).astype(np.uint16)
        try:
            return _resize_rgb(rgb, size, fit, _WHITE, plan)
        except _DECODE_ERRORS as exc:  # lazy plugins may fail only now
            raise ImageDecodeError(f"cannot decode image {os.fspath(path)}: {exc}") from exc
    finally:
        img.close()


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image after EXIF orientation, reading only its header."""
    name = os.fspath(path)
    with _pillow_open(name) as img:
        try:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
        except _DECODE_ERRORS as exc:
            raise ImageDecodeError(f"cannot decode image {name}: {exc}") from exc
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def image_size_ok(path: str | os.PathLike, *, min_side: int = 1, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> bool:
    """True when ``path`` is a readable image header with both sides >= ``min_side`` and <= ``max_pixels`` pixels."""
    try:
        width, height = image_size(path)
    except (FileNotFoundError, ImageDecodeError):
        return False
    return min(width, height) >= min_side and (max_pixels is None or width * height <= max_pixels)


def check_images(
    paths: Sequence[str | os.PathLike],
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    progress: bool = True,
) -> SkipReport:
    """Fully decode every file once and report the unreadable ones (a pre-check before long training).

    Returns a :class:`SkipReport` (empty when every file decodes).
    """
    from fashionsim._progress import progress as _progress

    report = SkipReport()
    for path in _progress(paths, enabled=progress, total=len(paths), desc="checking images"):
        try:
            _open(path, max_pixels, None).close()
        except (FileNotFoundError, ImageDecodeError) as exc:
            report.add(os.fspath(path), str(exc))
    return report

