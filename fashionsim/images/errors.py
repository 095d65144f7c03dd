"""Image errors: what an unreadable file raises, how the error leaves a ``tf.data`` graph, what a skip records.

* :class:`ImageDecodeError` (and :class:`ImageTooLargeError`, the decompression-bomb guard) name the file.
* Inside :func:`fashionsim.images.dataset` a failed decode travels as data and is raised by the last
  stage as a ``tf.errors.InvalidArgumentError`` whose message carries the original error, encoded
  (:func:`encode_error`); :func:`image_error` gives it back.
* :class:`SkipReport` lists the files a ``dataset(..., on_error="skip")`` or
  :func:`fashionsim.images.check_images` found unreadable, with the reason for each.

>>> report = SkipReport()
>>> report.add("/data/broken.jpg", "cannot decode image /data/broken.jpg: truncated")
>>> report.paths, bool(report)
(['/data/broken.jpg'], True)
>>> error = ImageDecodeError("cannot decode image /data/broken.jpg: truncated")
>>> image_error(ValueError(encode_error(error).decode()))
ImageDecodeError('cannot decode image /data/broken.jpg: truncated')
"""

from __future__ import annotations

import base64
import binascii
import struct
import threading
import zlib

__all__ = ["DECODE_ERRORS", "ImageDecodeError", "ImageTooLargeError", "SkipReport", "encode_error", "image_error"]

#: Everything Pillow raises on a damaged or unsupported file (it has no common base class).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, KeyError)


class ImageDecodeError(ValueError):
    """An image file is missing its data, truncated, corrupt or not an image; the message names the file."""


class ImageTooLargeError(ImageDecodeError):
    """An image has more pixels than allowed (decompression-bomb guard); the message names the file."""


# How a decode error travels out of the tf.data graph: base64 of "<class>|<message>" between markers,
# inside the message of the InvalidArgumentError that iterating raises (TensorFlow escapes plain text).
_ERROR_START, _ERROR_END = "<<fashionsim-image-error:", ":fashionsim-image-error>>"
_ERROR_CLASSES = {"FileNotFoundError": FileNotFoundError, "ImageDecodeError": ImageDecodeError,
                  "ImageTooLargeError": ImageTooLargeError}


def encode_error(error: BaseException) -> bytes:
    """The message of ``error`` followed by its exact class and text, encoded so TensorFlow passes it intact."""
    kind = type(error).__name__ if type(error).__name__ in _ERROR_CLASSES else "ImageDecodeError"
    payload = base64.urlsafe_b64encode(f"{kind}|{error}".encode("utf-8", errors="replace")).decode("ascii")
    # The plain message first (readable in TensorFlow's own error text), then the exact one, encoded.
    return f"{error} {_ERROR_START}{payload}{_ERROR_END}".encode("utf-8", errors="replace")


def image_error(exc: BaseException) -> ImageDecodeError | FileNotFoundError | None:
    """The image error hidden in a TensorFlow error raised while iterating ``images.dataset``, else None.

    Streaming pipelines report an unreadable file as a ``tf.errors.InvalidArgumentError`` (Keras
    ``fit`` and ``predict`` pass it on); this gives back the :class:`ImageDecodeError` (or
    ``FileNotFoundError``) naming the file, for a one-line message. The cause and context chain
    of ``exc`` is searched too. Typical use::

        try:
            model.predict(images.dataset(paths, 96, 32))
        except Exception as exc:
            raise (image_error(exc) or exc) from None
    """
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


class SkipReport:
    """The files a ``dataset(..., on_error="skip")`` dropped, with the reason for each (thread-safe).

    Pass one to ``images.dataset(paths, 96, 32, on_error="skip", report=report)``; after the
    pass, ``report.paths`` lists the skipped files in the order they were met.
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
