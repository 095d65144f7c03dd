"""Images: robust decoding, the reference augmentations and a streaming ``tf.data`` pipeline.

Every image model in fashionsim takes float32 RGB images in ``[0, 1]``; this
module is where files become such arrays.

* :func:`load_image` decodes one file with Pillow: EXIF orientation applied,
  every Pillow mode turned into RGB (alpha composited on white, 16-bit and
  32-bit grey scaled, not clipped), a decompression-bomb guard, and a clear
  :class:`ImageDecodeError` naming the file when it is truncated or corrupt.
* :func:`dataset` streams paths through ``tf.data``: parallel decode (the same
  Pillow decoder, so a batch equals ``load_image`` exactly), batching,
  optional seeded augmentation, prefetch; never the whole set in memory.
  (Pillow inside ``tf.numpy_function`` rather than ``tf.io``: ``tf.io``
  ignores EXIF orientation, drops alpha instead of compositing it, clips
  16-bit files and fails without naming the file; ``fashionsim.bench.images``
  measures both.)
* :func:`augment_batch` applies the augmentations of the references (random
  crop of up to 5 % per side; with p = 0.5 one of flip left-right, flip
  top-bottom, rotate 90/180/270, transpose; horizontal flip; random
  grayscale; colour jitter) to a batch, with stateless random ops.

>>> x = load_image("shirt.jpg", 96)                  # doctest: +SKIP
>>> ds = dataset(paths, 96, batch_size=32, augment=True, seed=0)  # doctest: +SKIP

Taught in notebooks 01 (loading, augmentations) and 03 (triplet batches).
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageDecodeError",
    "ImageTooLargeError",
    "SkipReport",
    "image_error",
    "load_image",
    "open_rgb",
    "image_size",
    "image_size_ok",
    "check_images",
    "dataset",
    "augment_batch",
    "augment_params",
    "apply_augment_params",
]

#: Refuse images with more pixels than this (about 67 megapixels) unless told otherwise.
DEFAULT_MAX_PIXELS = 64 * 2**20

Fit = Literal["stretch", "pad"]
_FITS = ("stretch", "pad")
_WHITE = (255, 255, 255)

# Everything Pillow raises on a damaged or unsupported file (it has no common base class).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, KeyError)

# Modes with an alpha channel (or that carry a transparent colour) are composited on white.
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
# High bit-depth grey modes: decoded to float and scaled by their full range (never clipped at 255).
_HIGH_DEPTH_SCALE = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0, "F": 255.0}


#: Number of uniform draws per image that :func:`apply_augment_params` consumes.
N_AUGMENT_PARAMS = 11
# Dihedral choices of the reference, as (transpose, flip top-bottom, flip left-right) applied in that order:
# flip left-right, flip top-bottom, rotate 90 (counter-clockwise, as PIL), rotate 180, rotate 270, transpose.
_DIHEDRAL_BITS = np.array(
    [[0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 0, 0]], dtype=bool
)
_GREY_WEIGHTS = (0.299, 0.587, 0.114)
_AUGMENT_DEFAULTS = {"crop": 0.05, "grayscale_p": 0.1, "jitter": 0.1}


class ImageDecodeError(ValueError):
    """An image file is missing its data, truncated, corrupt or not an image; the message names the file."""


class ImageTooLargeError(ImageDecodeError):
    """An image has more pixels than allowed (decompression-bomb guard); the message names the file."""


# ---------------------------------------------------------------------------------------------- decoding
def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int (pixels per side), got {size!r}")
    return int(size)


def _check_fit(fit: str) -> str:
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


def _to_rgb(img, background: tuple[int, int, int] = _WHITE):
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
    out = _to_rgb(img)
    if isinstance(out, np.ndarray):
        out = Image.fromarray(np.round(out * 255.0).astype(np.uint8), "L").convert("RGB")
    return out


class _Plan(NamedTuple):
    """One image's augmentation, read from its row of uniforms (see :func:`apply_augment_params`)."""

    top: float
    left: float
    bottom: float
    right: float
    transpose: bool
    flip_tb: bool
    flip_lr: bool
    params: np.ndarray
    grayscale_p: float
    jitter: float


def _plan(p: np.ndarray, crop: float, grayscale_p: float = 0.1, jitter: float = 0.1) -> _Plan:
    """Read one row of augmentation uniforms exactly as the TensorFlow version does (float32 comparisons)."""
    p = np.asarray(p, dtype=np.float32)
    choice = min(int(p[5] * np.float32(6.0)), 5)
    transpose, flip_tb, flip_lr = (bool(b) and bool(p[4] < 0.5) for b in _DIHEDRAL_BITS[choice])
    return _Plan(*(float(v) * crop for v in p[:4]), transpose, flip_tb, flip_lr != bool(p[6] < 0.5),
                 p, grayscale_p, jitter)


def _colour_matrix(plan: _Plan, mean_rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """NumPy twin of :func:`_colour_matrices` for one image: (3, 3) matrix and grey bias, values in [0, 1]."""
    p = plan.params
    w = np.asarray(_GREY_WEIGHTS, np.float64)
    to_grey = np.outer(w, np.ones(3))
    gate = to_grey if p[7] < np.float32(plan.grayscale_p) else np.eye(3)
    brightness, contrast, saturation = 1.0 + plan.jitter * (2.0 * p[8:11].astype(np.float64) - 1.0)
    matrix = brightness * contrast * gate @ (saturation * np.eye(3) + (1.0 - saturation) * to_grey)
    bias = (1.0 - contrast) * brightness * float(np.asarray(mean_rgb, np.float64) @ gate @ w)
    return matrix, bias


def _apply_dihedral(out: np.ndarray, plan: _Plan | None) -> np.ndarray:
    if plan is None:
        return out
    if plan.transpose:
        out = out.transpose(1, 0, 2)
    if plan.flip_tb:
        out = out[::-1]
    if plan.flip_lr:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _crop_box(width: int, height: int, plan: _Plan) -> tuple[float, float, float, float]:
    return (plan.left * width, plan.top * height, width - plan.right * width, height - plan.bottom * height)


def _resize_rgb(img, size: int, fit: str, background: tuple[int, int, int], plan: _Plan | None = None) -> np.ndarray:
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
    box = None if plan is None else _crop_box(width, height, plan)
    resized = img.resize((size, size), Image.Resampling.BILINEAR, box=box)
    if plan is not None:
        matrix, bias = _colour_matrix(plan, np.asarray(ImageStat.Stat(resized).mean) / 255.0)
        resized = resized.convert("RGB", tuple(v for d in range(3) for v in (*matrix[:, d], 255.0 * bias)))
    return _apply_dihedral(np.asarray(resized), plan)


def _resize_grey(grey: np.ndarray, size: int, fit: str, plan: _Plan | None = None) -> np.ndarray:
    """Resize a float (H, W) grey array in [0, 1] to (size, size, 3) float32 the same way (white padding = 1.0)."""
    from PIL import Image

    height, width = grey.shape
    if fit == "pad" and width != height:
        side = max(width, height)
        square = np.ones((side, side), dtype=np.float32)
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = grey
        grey, width, height = square, side, side
    box = None if plan is None else _crop_box(width, height, plan)
    img = Image.fromarray(np.asarray(grey, dtype=np.float32), "F")
    out = np.clip(np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, box=box), np.float32), 0.0, 1.0)
    out = np.repeat(out[:, :, None], 3, axis=2)
    if plan is not None:
        matrix, bias = _colour_matrix(plan, out.reshape(-1, 3).mean(axis=0))
        out = np.clip(out @ matrix.astype(np.float32) + np.float32(bias), 0.0, 1.0)
    return _apply_dihedral(out, plan)


def load_image(
    path: str | os.PathLike,
    size: int,
    *,
    fit: Fit = "stretch",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode one image file into a float32 (size, size, 3) RGB array in [0, 1].

    ``fit="stretch"`` resizes to the square; ``fit="pad"`` keeps the aspect
    ratio and centres the picture on a white square. EXIF orientation is
    applied; every Pillow mode is handled (see :func:`_to_rgb`). Raises
    ``FileNotFoundError``, :class:`ImageDecodeError` (truncated, corrupt, not
    an image) or :class:`ImageTooLargeError` (more than ``max_pixels``), each
    naming the file.

    >>> load_image("dress.png", 96, fit="pad").shape     # doctest: +SKIP
    (96, 96, 3)
    """
    size, fit = _check_size(size), _check_fit(fit)
    out = _decode(path, size, fit, max_pixels)
    return out.astype(np.float32) / np.float32(np.iinfo(out.dtype).max)


def _decode(path: str | os.PathLike, size: int, fit: str, max_pixels: int | None,
            plan: _Plan | None = None) -> np.ndarray:
    """(size, size, 3) uint8 for 8-bit sources, uint16 for high bit-depth grey ones (full range used)."""
    img = _open(path, max_pixels, size)
    try:
        rgb = _to_rgb(img)
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


# ---------------------------------------------------------------------------------------------- errors
# How a decode error travels out of the tf.data graph: base64 of "<class>|<message>" between markers,
# inside the message of the InvalidArgumentError that iterating raises (TensorFlow escapes plain text).
_ERROR_START, _ERROR_END = "<<fashionsim-image-error:", ":fashionsim-image-error>>"
_ERROR_CLASSES = {"FileNotFoundError": FileNotFoundError, "ImageDecodeError": ImageDecodeError,
                  "ImageTooLargeError": ImageTooLargeError}


def _encode_error(error: BaseException) -> bytes:
    import base64

    kind = type(error).__name__ if type(error).__name__ in _ERROR_CLASSES else "ImageDecodeError"
    payload = base64.urlsafe_b64encode(f"{kind}|{error}".encode("utf-8", errors="replace")).decode("ascii")
    # The plain message first (readable in TensorFlow's own error text), then the exact one, encoded.
    return f"{error} {_ERROR_START}{payload}{_ERROR_END}".encode("utf-8", errors="replace")


def image_error(exc: BaseException) -> ImageDecodeError | FileNotFoundError | None:
    """The image error hidden in a TensorFlow error raised while iterating :func:`dataset`, else None.

    Streaming pipelines report an unreadable file as a ``tf.errors.InvalidArgumentError`` (Keras
    ``fit`` and ``predict`` pass it on); this gives back the :class:`ImageDecodeError` (or
    ``FileNotFoundError``) naming the file, for a one-line message.

    >>> try:                                                     # doctest: +SKIP
    ...     model.predict(dataset(paths, 96, 32))
    ... except Exception as exc:
    ...     raise (image_error(exc) or exc) from None
    """
    import base64
    import binascii

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ImageDecodeError, FileNotFoundError)):
            return exc
        text = str(getattr(exc, "message", None) or exc)
        start = text.find(_ERROR_START)
        end = text.find(_ERROR_END, start + 1)
        if start >= 0 and end > start:
            try:
                decoded = base64.urlsafe_b64decode(text[start + len(_ERROR_START):end]).decode("utf-8")
            except (binascii.Error, ValueError):
                return ImageDecodeError(text)
            kind, _, message = decoded.partition("|")
            return _ERROR_CLASSES.get(kind, ImageDecodeError)(message)
        exc = exc.__cause__ or exc.__context__
    return None


class _DecodeCalls:
    """Counts a pipeline's decodes in flight; :meth:`wait_idle` returns once none ran for a while."""

    def __init__(self, quiet: float = 0.3, limit: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._started = 0
        self.quiet, self.limit = quiet, limit

    def __enter__(self) -> None:
        with self._lock:
            self._active += 1
            self._started += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1

    def wait_idle(self) -> None:
        import time

        deadline = time.monotonic() + self.limit
        seen, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self._lock:
                active, started = self._active, self._started
            now = time.monotonic()
            if active or started != seen:
                seen, quiet_since = started, now
            elif now - quiet_since >= self.quiet:
                return
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------- skip policy
class SkipReport:
    """The files a ``dataset(..., on_error="skip")`` dropped, with the reason for each (thread-safe).

    >>> report = SkipReport()
    >>> ds = dataset(paths, 96, 32, on_error="skip", report=report)   # doctest: +SKIP
    >>> list(ds); report.paths                                         # doctest: +SKIP
    ['/data/broken.jpg']
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reasons: dict[str, str] = {}

    def add(self, path: str, reason: str) -> None:
        with self._lock:
            self._reasons.setdefault(path, reason)

    @property
    def paths(self) -> list[str]:
        """Skipped paths, in the order they were first met."""
        with self._lock:
            return list(self._reasons)

    @property
    def reasons(self) -> dict[str, str]:
        """``{path: error message}`` for every skipped file."""
        with self._lock:
            return dict(self._reasons)

    def __len__(self) -> int:
        with self._lock:
            return len(self._reasons)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        shown = self.paths[:5]
        more = f" and {len(self) - 5} more" if len(self) > 5 else ""
        return f"SkipReport({len(self)} skipped: {shown}{more})"


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


# ---------------------------------------------------------------------------------------------- augmentation
def augment_params(n: int, seed: int | None, keys: Any = None) -> tf.Tensor:
    """Uniform draws (n, N_AUGMENT_PARAMS) in [0, 1): row ``i`` from the stateless seed ``(seed, keys[i])``.

    ``keys`` defaults to ``0..n-1`` (the element index); the same seed and keys
    always give the same draws, whatever the batch they sit in.
    """
    import tensorflow as tf

    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    if keys is None:
        keys = tf.range(n, dtype=tf.int64)
    keys = tf.cast(tf.reshape(keys, [-1]), tf.int64)
    seeds = tf.stack([tf.fill(tf.shape(keys), tf.constant(int(seed), tf.int64)), keys], axis=1)
    @tf.autograph.experimental.do_not_convert
    def draw(seed_pair: tf.Tensor) -> tf.Tensor:
        return tf.random.stateless_uniform([N_AUGMENT_PARAMS], seed=seed_pair)

    return tf.map_fn(draw, seeds, fn_output_signature=tf.float32)


def _colour_matrices(p: tf.Tensor, mean_rgb: tf.Tensor, grayscale_p: float,
                     jitter: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-image (B, 3, 3) matrices and (B, 1, 1, 3) biases for grayscale + brightness/contrast/saturation.

    All four steps are linear in the pixel (row vector) ``x``: grayscale
    ``x @ outer(w, 1)``, brightness ``b x``, contrast ``c x + (1 - c) m`` (``m``
    the image's mean grey after the previous steps), saturation
    ``x @ (s I + (1 - s) outer(w, 1))``; so they fold into one matrix and a
    grey bias, computed from ``mean_rgb`` (B, 3), the images' mean colour.
    """
    import tensorflow as tf

    w = tf.constant(_GREY_WEIGHTS, tf.float32)
    eye = tf.eye(3, batch_shape=[1])
    to_grey = tf.tile(tf.reshape(tf.tensordot(w, tf.ones(3), axes=0), [1, 3, 3]), [tf.shape(p)[0], 1, 1])
    gate = tf.where(tf.reshape(p[:, 7] < grayscale_p, [-1, 1, 1]), to_grey, eye)
    brightness, contrast, saturation = (1.0 + jitter * (2.0 * p[:, k] - 1.0) for k in (8, 9, 10))
    sat = saturation[:, None, None] * eye + (1.0 - saturation)[:, None, None] * to_grey
    matrix = (brightness * contrast)[:, None, None] * tf.linalg.matmul(gate, sat)
    grey_mean = brightness[:, None] * (tf.linalg.matvec(gate, mean_rgb, transpose_a=True) @ w[:, None])
    bias = tf.reshape((1.0 - contrast)[:, None] * grey_mean, [-1, 1, 1, 1]) * tf.ones(3)
    return matrix, bias


def _augment(x: tf.Tensor, p: tf.Tensor, *, scale: float, crop: float, grayscale_p: float, jitter: float) -> tf.Tensor:
    """Augment (B, S, S, 3) images of any real dtype; ``scale`` maps their values to [0, 1]."""
    import tensorflow as tf

    if x.shape.rank != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must have shape (B, H, W, 3), got {x.shape}")
    height, width = x.shape[1], x.shape[2]
    if height is not None and width is not None and height != width:
        raise ValueError(f"augmentations rotate and transpose, so images must be square; got {height}x{width}")
    p = tf.convert_to_tensor(p, dtype=tf.float32)
    batch, side = tf.shape(x)[0], tf.shape(x)[1]

    # Geometry in one resampling: the transposed images are appended to the batch and picked by box
    # index; flips are boxes with swapped corners (crop_and_resize flips when y1 > y2 or x1 > x2).
    choice = tf.minimum(tf.cast(p[:, 5] * 6.0, tf.int32), 5)
    bits = tf.gather(tf.constant(_DIHEDRAL_BITS), choice) & (p[:, 4:5] < 0.5)
    transpose, flip_tb = bits[:, 0], bits[:, 1]
    flip_lr = tf.math.logical_xor(bits[:, 2], p[:, 6] < 0.5)
    moved = tf.reshape(tf.where(transpose), [-1])
    source = tf.concat([x, tf.transpose(tf.gather(x, moved), [0, 2, 1, 3])], axis=0)
    rank = tf.cumsum(tf.cast(transpose, tf.int32), exclusive=True)
    box_index = tf.where(transpose, batch + rank, tf.range(batch))
    top, left = p[:, 0] * crop, p[:, 1] * crop
    bottom, right = 1.0 - p[:, 2] * crop, 1.0 - p[:, 3] * crop
    y1, y2 = tf.where(flip_tb, bottom, top), tf.where(flip_tb, top, bottom)
    x1, x2 = tf.where(flip_lr, right, left), tf.where(flip_lr, left, right)
    boxes = tf.stack([y1, x1, y2, x2], axis=1)
    out = tf.image.crop_and_resize(source, boxes, box_index, tf.stack([side, side]), method="bilinear")

    return _colour(out, p, scale=scale, grayscale_p=grayscale_p, jitter=jitter)


def _colour(x: tf.Tensor, p: tf.Tensor, *, scale: float, grayscale_p: float, jitter: float) -> tf.Tensor:
    """Grayscale, brightness, contrast, saturation as one per-image colour matrix, clipped to [0, 1] once."""
    import tensorflow as tf

    x = tf.cast(x, tf.float32)
    mean_rgb = tf.reduce_mean(x, axis=[1, 2]) * scale
    matrix, bias = _colour_matrices(p, mean_rgb, grayscale_p, jitter)
    flat = tf.reshape(x, [tf.shape(x)[0], -1, 3])
    out = tf.reshape(tf.linalg.matmul(flat, matrix * scale), tf.shape(x)) + bias
    return tf.clip_by_value(out, 0.0, 1.0)


def apply_augment_params(
    images: Any,
    params: Any,
    *,
    crop: float = 0.05,
    grayscale_p: float = 0.1,
    jitter: float = 0.1,
) -> tf.Tensor:
    """Apply the reference augmentations to (B, S, S, 3) float images in [0, 1] given uniforms (B, 11).

    Columns of ``params``: 0-3 crop of top/left/bottom/right (each up to
    ``crop`` of the side, then resized back); 4 < 0.5 applies one dihedral
    op chosen by column 5 (flip left-right, flip top-bottom, rotate 90
    counter-clockwise, rotate 180, rotate 270, transpose); 6 < 0.5 flips
    left-right; 7 < ``grayscale_p`` turns the image grey; 8-10 brightness,
    contrast and saturation factors in [1 - jitter, 1 + jitter]
    (torchvision's ColorJitter formulas, in that fixed order, folded into one
    colour matrix and clipped to [0, 1] once at the end).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, dtype=tf.float32)
    return _augment(x, params, scale=1.0, crop=crop, grayscale_p=grayscale_p, jitter=jitter)


def augment_batch(images: Any, seed: int | None, *, keys: Any = None, **options: float) -> tf.Tensor:
    """Augment a batch (B, S, S, 3) float32 in [0, 1] -> same shape, seeded per image.

    Image ``i`` uses the stateless seed ``(seed, keys[i])`` (``keys`` default
    ``0..B-1``), so a seeded call repeats exactly. ``options``: ``crop``,
    ``grayscale_p``, ``jitter`` (see :func:`apply_augment_params`).

    >>> augment_batch(np.zeros((4, 96, 96, 3), np.float32), seed=0).shape   # doctest: +SKIP
    TensorShape([4, 96, 96, 3])
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, dtype=tf.float32)
    params = augment_params(tf.shape(x)[0], seed, keys)
    return _augment(x, params, scale=1.0, **{**_AUGMENT_DEFAULTS, **options})


# ---------------------------------------------------------------------------------------------- tf.data
def dataset(
    paths: Sequence[str | os.PathLike],
    size: int,
    batch_size: int,
    augment: bool = False,
    seed: int | None = None,
    *,
    labels: Any = None,
    shuffle: bool = False,
    fit: Fit = "stretch",
    drop_remainder: bool = False,
    on_error: Literal["raise", "skip"] = "raise",
    report: SkipReport | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    num_parallel_calls: int | None = None,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of float32 batches (B, size, size, 3) in [0, 1] streamed from ``paths``.

    With ``labels`` (one per path) it yields ``(images, labels)``. Files are
    decoded in parallel by the same Pillow decoder as :func:`load_image`
    (so, without augmentation, a batch equals the stacked ``load_image``
    results), batched and prefetched; order is kept unless ``shuffle``.

    ``augment=True`` applies the augmentations of :func:`augment_batch` with
    the same per-image draws (:func:`augment_params`): with a ``seed``, the
    stateless seed of the k-th element is ``(seed, k)``, so a pipeline built
    with the same ``seed`` gives the same images on every machine, whatever
    TensorFlow's global seed (and every pass over it repeats them: the
    trainers build one pipeline per epoch, seeded from ``(seed, epoch)``);
    without a seed, every pass draws afresh. For speed they run inside
    the decoder: the crop is taken from the full-resolution picture within the
    one resize (as the reference does), the colour matrix is applied by
    Pillow in 8 bits, then the flips and rotations; so the result matches
    ``augment_batch`` on ``load_image`` output up to resampling and rounding
    (``tests/test_images.py`` checks both). ``shuffle``: with a ``seed``, one
    order drawn from it with NumPy; without, a fresh order every pass.

    ``on_error="raise"``: iterating stops with a ``tf.errors.InvalidArgumentError``
    that carries the :class:`ImageDecodeError` naming the file;
    :func:`image_error` gets it back (the command line prints it as one line).
    No exception ever crosses the decoder's ``numpy_function`` boundary (that
    deadlocked the iterator's teardown): failures travel as outputs.
    ``on_error="skip"``: unreadable files are dropped, recorded in ``report``
    (a :class:`SkipReport`; when none is given each skip is warned about).

    >>> ds = dataset(cat.image_paths(), 96, batch_size=32)   # doctest: +SKIP
    """
    import tensorflow as tf

    size, fit = _check_size(size), _check_fit(fit)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if report is not None and on_error != "skip":
        raise ValueError("a SkipReport is only filled with on_error='skip'")
    names = [os.fspath(p) for p in paths]
    if not names:
        raise ValueError("paths is empty: nothing to load")
    skip = on_error == "skip"
    sink = report
    calls = _DecodeCalls()

    def decode(path: bytes, params: np.ndarray) -> tuple[np.ndarray, np.bool_, bytes]:
        # Nothing may raise out of here: an exception crossing the numpy_function boundary is kept by
        # TensorFlow, and freeing it later tears the iterator down while the main thread holds the GIL
        # that the other in-flight decodes need (a deadlock in about half the runs). Every failure is
        # returned instead, as ok=False and an encoded message, and raised in the graph (raise) or
        # filtered out (skip).
        # Images travel as uint16 (8-bit values times 257): v * 257 / 65535 == v / 255 exactly in
        # float32 (both are the correctly rounded quotient), so batches equal load_image bit for bit.
        name = path.decode("utf-8", errors="surrogateescape")
        with calls:
            return _decode_or_report(name, params)

    def _decode_or_report(name: str, params: np.ndarray) -> tuple[np.ndarray, np.bool_, bytes]:
        try:
            image = _decode(name, size, fit, max_pixels, _plan(params, **_AUGMENT_DEFAULTS) if augment else None)
            if image.dtype == np.uint8:
                image = image.astype(np.uint16) * np.uint16(257)
            return image, np.bool_(True), b""
        except (FileNotFoundError, ImageDecodeError) as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - the boundary: anything else is reported, never raised
            error = ImageDecodeError(f"cannot decode image {name}: {type(exc).__name__}: {exc}")
        if skip:
            if sink is not None:
                sink.add(name, str(error))
            else:
                try:
                    warnings.warn(f"skipped unreadable image: {error}", RuntimeWarning, stacklevel=1)
                except Exception:  # noqa: BLE001 - warnings turned into errors must not cross the boundary
                    pass
        return np.zeros((size, size, 3), np.uint16), np.bool_(False), _encode_error(error)

    def load(path: tf.Tensor, params: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        image, ok, error = tf.numpy_function(decode, [path, params], (tf.uint16, tf.bool, tf.string),
                                             stateful=skip)
        image.set_shape((size, size, 3))
        ok.set_shape(())
        error.set_shape(())
        return image, ok, error

    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else num_parallel_calls
    columns: dict[str, Any] = {"path": tf.constant(names)}
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(names):
            raise ValueError(f"labels has {len(labels)} entries but paths has {len(names)}")
        columns["label"] = labels
    if seed is not None and shuffle:  # one seeded order, drawn here: TensorFlow's global seed plays no part
        order = np.random.default_rng([int(seed), 1]).permutation(len(names))
        columns = {k: np.asarray(v)[order] for k, v in columns.items()}
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if seed is None and shuffle:
        ds = ds.shuffle(len(names), reshuffle_each_iteration=True)
    aug_seed = tf.constant(0 if seed is None else int(seed), tf.int64)
    # The mapped functions hold no Python control flow on tensors: skip autograph (and its warnings).
    plain = tf.autograph.experimental.do_not_convert

    @plain
    def add_params(row: dict[str, tf.Tensor], key: tf.Tensor) -> dict[str, tf.Tensor]:
        seed_pair = tf.stack([aug_seed, key])
        return {**row, "params": tf.random.stateless_uniform([N_AUGMENT_PARAMS], seed=seed_pair)}

    if augment:
        # Seeded: element k draws from the stateless seed (seed, k), whatever TensorFlow's global seed is.
        # Unseeded: fresh keys on every pass.
        keys = (tf.data.Dataset.counter() if seed is not None
                else tf.data.Dataset.random(rerandomize_each_iteration=True))
        ds = tf.data.Dataset.zip(ds, keys).map(add_params)

    @plain
    def decode_row(row: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        image, ok, error = load(row["path"], row["params"] if augment else tf.zeros([0], tf.float32))
        return {**{k: v for k, v in row.items() if k not in ("path", "params")}, "image": image, "ok": ok,
                "error": error}

    @plain
    def is_ok(row: dict[str, tf.Tensor]) -> tf.Tensor:
        return row["ok"]

    ds = ds.map(decode_row, num_parallel_calls=parallel, deterministic=True)
    if skip:
        ds = ds.filter(is_ok)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    @plain
    def finish(row: dict[str, tf.Tensor]) -> Any:
        images = tf.cast(row["image"], tf.float32) / 65535.0
        out = images if labels is None else (images, row["label"])
        return out if skip else (out, row["ok"], row["error"])

    def settle(ok: np.ndarray) -> np.bool_:
        # Before the error is raised, let the pipeline's parallel stages come to rest (their buffers full,
        # no decode in flight). The iterator is destroyed while the traceback is freed, with the GIL held;
        # destroyed mid-flight, its parallel stages wait for calls that cannot finish (a decode needing the
        # GIL, or a nested stage waiting on it): the old hang. At rest there is nothing to wait for.
        if not bool(np.all(ok)):
            calls.wait_idle()
        return np.bool_(True)

    @plain
    def check(out: Any, ok: tf.Tensor, error: tf.Tensor) -> Any:
        # A failed decode is raised here, in the last stage, run by the consumer's own GetNext (sequential,
        # after the prefetch buffer), as a clean TensorFlow error: nothing ever raises inside the parallel
        # stages. The message carries the encoded error; image_error() turns it back into the
        # ImageDecodeError / FileNotFoundError naming the file.
        rested = tf.numpy_function(settle, [ok], tf.bool, stateful=True)
        first_error = tf.boolean_mask(error, tf.logical_not(ok))[:1]
        with tf.control_dependencies([tf.debugging.Assert(tf.logical_and(rested, tf.reduce_all(ok)), [first_error],
                                                          summarize=1)]):
            return tf.nest.map_structure(tf.identity, out)

    ds = ds.map(finish).prefetch(tf.data.AUTOTUNE)
    if not skip:
        ds = ds.map(check)
    # Our maps say themselves which stage is parallel: tf.data must not fuse the decode map into a
    # MapAndBatch stage, parallelise the final check, or prefetch above it (the check must run in the
    # consumer's GetNext, after every parallel stage).
    options = tf.data.Options()
    options.experimental_optimization.map_and_batch_fusion = False
    options.experimental_optimization.map_parallelization = False
    options.experimental_optimization.inject_prefetch = False
    return ds.with_options(options)
