"""The streaming pipeline: image files become batches in a ``tf.data.Dataset``, never all in memory.

:func:`dataset` decodes in parallel with the same Pillow decoder as ``images.load_image`` (so a batch
without augmentation equals the stacked ``load_image`` results bit for bit), applies the seeded
augmentations inside the decoder, batches and prefetches. An unreadable file either stops the
iteration with an error naming it (``on_error="raise"``; ``images.image_error`` gets it back) or is
skipped and recorded (``on_error="skip"``). (Pillow inside ``tf.numpy_function`` rather than
``tf.io``: ``tf.io`` ignores EXIF orientation, drops alpha instead of compositing it, clips 16-bit
files and fails without naming the file; ``fashionsim.bench.images`` measures both.)

>>> import os, tempfile
>>> from PIL import Image
>>> folder = tempfile.TemporaryDirectory()
>>> paths = [os.path.join(folder.name, f"{i}.png") for i in range(3)]
>>> for i, path in enumerate(paths):
...     Image.new("RGB", (20, 10), (80 * i, 0, 0)).save(path)
>>> [tuple(batch.shape) for batch in dataset(paths, 8, batch_size=2, augment=True, seed=0)]
[(2, 8, 8, 3), (1, 8, 8, 3)]
>>> folder.cleanup()

Taught in notebooks 01 (augmented batches) and 03 (triplet batches).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fashionsim._compat import renamed
from fashionsim.images.augment import (
    AUGMENT_DEFAULTS,
    N_AUGMENT_PARAMS,
    plan_augment,
    stateless_seed,
)
from fashionsim.images.decode import (
    DEFAULT_MAX_PIXELS,
    Fit,
    check_fit,
    check_image_size,
    decode_array,
)
from fashionsim.images.errors import ImageDecodeError, SkipReport, encode_error

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

__all__ = ["dataset"]


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


# ---------------------------------------------------------------------------------------------- tf.data
@renamed(size="image_size")
def dataset(
    paths: Sequence[str | os.PathLike],
    image_size: int,
    batch_size: int,
    augment: bool = False,
    seed: int | np.random.Generator | None = None,
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
    """A ``tf.data.Dataset`` of float32 batches (B, image_size, image_size, 3) in [0, 1] streamed from ``paths``.

    With ``labels`` (one per path) it yields ``(images, labels)``. Files are
    decoded in parallel by the same Pillow decoder as ``images.load_image``
    (so, without augmentation, a batch equals the stacked ``load_image``
    results), batched and prefetched; order is kept unless ``shuffle``.

    ``augment=True`` applies the augmentations of ``images.augment_batch`` with
    the same per-image draws (``images.augment_params``): with a ``seed``, the
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
    ``images.image_error`` gets it back (the command line prints it as one line).
    No exception ever crosses the decoder's ``numpy_function`` boundary (that
    deadlocked the iterator's teardown): failures travel as outputs.
    ``on_error="skip"``: unreadable files are dropped, recorded in ``report``
    (a :class:`SkipReport`; when none is given each skip is warned about).

    A Generator ``seed`` gives one int draw (then as an int seed). ``image_size``
    was called ``size`` (still accepted, with a ``FutureWarning``).
    """
    import tensorflow as tf

    size, fit = check_image_size(image_size), check_fit(fit)
    if seed is not None:
        seed = stateless_seed(seed)
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
            plan = plan_augment(params, **AUGMENT_DEFAULTS) if augment else None
            image = decode_array(name, size, fit, max_pixels, plan)
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
        return np.zeros((size, size, 3), np.uint16), np.bool_(False), encode_error(error)

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
