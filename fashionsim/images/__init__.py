"""Images: robust decoding, the reference augmentations and a streaming ``tf.data`` pipeline.

Every image model in fashionsim takes float32 RGB images in ``[0, 1]``; this package is where files
become such arrays. One module per job:

* :mod:`~fashionsim.images.decode`: :func:`load_image` and the Pillow decoder (EXIF, every mode,
  decompression-bomb guard, errors naming the file), :func:`open_rgb`, :func:`image_size`,
  :func:`check_images`;
* :mod:`~fashionsim.images.augment`: the reference augmentations from stateless per-image seeds,
  as TensorFlow batch ops (:func:`augment_batch`) and as the plan the decoder applies;
* :mod:`~fashionsim.images.pipeline`: :func:`dataset`, the parallel, prefetched ``tf.data`` pipeline
  (not named ``dataset``: the function would hide the module);
* :mod:`~fashionsim.images.errors`: :class:`ImageDecodeError`, :func:`image_error`, :class:`SkipReport`.

Only the TensorFlow parts import TensorFlow, when called.

>>> from fashionsim import images
>>> images.load_image, images.dataset               # doctest: +ELLIPSIS
(<function load_image at ...>, <function dataset at ...>)

Taught in notebooks 01 (loading, augmentations) and 03 (triplet batches).
"""

from __future__ import annotations

from fashionsim.images.augment import (
    N_AUGMENT_PARAMS,
    AugmentPlan,
    apply_augment_params,
    augment_batch,
    augment_params,
    plan_augment,
)
from fashionsim.images.decode import (
    DEFAULT_MAX_PIXELS,
    check_images,
    decode_array,
    image_size,
    image_size_ok,
    load_image,
    open_rgb,
    to_rgb,
)
from fashionsim.images.errors import (
    ImageDecodeError,
    ImageTooLargeError,
    SkipReport,
    image_error,
)
from fashionsim.images.pipeline import dataset

# The former module's private names, which tests/test_images.py reaches into.
_decode, _plan, _to_rgb = decode_array, plan_augment, to_rgb

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "N_AUGMENT_PARAMS",
    "AugmentPlan",
    "ImageDecodeError",
    "ImageTooLargeError",
    "SkipReport",
    "apply_augment_params",
    "augment_batch",
    "augment_params",
    "check_images",
    "dataset",
    "decode_array",
    "image_error",
    "image_size",
    "image_size_ok",
    "load_image",
    "open_rgb",
    "plan_augment",
]
