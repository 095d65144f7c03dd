"""Benchmark: the ``images.dataset`` pipeline against a plain Python decoding loop.

Both sides do the same work on the same generated files (a mix of JPEG and
PNG photos of about 300x400 px): decode, resize to the square, augment
(crop up to 5 % per side, one of six flips/rotations with p = 0.5,
horizontal flip, random grayscale, colour jitter 0.1) and stack float32
batches in [0, 1].

* ours: ``fashionsim.images.dataset(paths, image_size, 32, augment=True, seed=0)``:
  parallel Pillow decode inside ``tf.data`` with the seeded augmentations
  applied while decoding (crop inside the resize, Pillow colour matrix,
  NumPy flips), batching and prefetch.
* reference (re-implemented as the reference notebooks do it, one image at a
  time in a Python loop, :func:`fashionsim.bench.references.reference_batches`): ``PIL.Image.open(...).convert("RGB")``, random crop
  and transpose with Pillow, ``resize``, then flip / grayscale / jitter in
  NumPy, ``np.stack`` per batch.
* alternative (measured, not used by fashionsim): ``tf.io.decode_image`` +
  ``tf.image.resize`` + :func:`fashionsim.images.augment_batch` on the batch
  (TensorFlow ops). It ignores EXIF
  orientation, drops alpha instead of compositing it, clips 16-bit files and
  fails without naming the file, which is why ``images.dataset`` decodes with
  Pillow.

``fashionsim bench`` runs it; ``run(quick=True)`` takes seconds.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from fashionsim.bench._core import BenchRow, peak_memory_mib
from fashionsim.bench.references import reference_batches

BATCH_SIZE = 32
IMAGE_SIZES = (96, 299)


def write_images(folder: str | os.PathLike, n: int, *, seed: int = 0) -> list[str]:
    """Write ``n`` photo-like files (3 of 4 JPEG, 1 of 4 PNG; 300x400 or 400x300 px) and return their paths."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    noise = rng.normal(0.0, 9.0, size=(460, 460, 1)).astype(np.float32)
    rows = np.linspace(0.0, 1.0, 400, dtype=np.float32)[:, None, None]
    paths = []
    for i in range(n):
        height, width = (400, 300) if i % 3 else (300, 400)
        top, bottom = rng.uniform(60, 250, 3), rng.uniform(60, 250, 3)
        dy, dx = rng.integers(0, 60, 2)
        pixels = top + (bottom - top) * rows[:height] + noise[dy:dy + height, dx:dx + width]
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = rng.integers(0, width - 60), rng.integers(0, height - 60)
            x1, y1 = x0 + rng.integers(30, 200), y0 + rng.integers(30, 200)
            fill = tuple(int(c) for c in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=fill)
        path = folder / f"img_{i:05d}.{'png' if i % 4 == 3 else 'jpg'}"
        if path.suffix == ".png":
            img.save(path, compress_level=1)
        else:
            img.save(path, quality=90)
        paths.append(str(path))
    return paths


# ------------------------------------------------------------------------------ the tf.io alternative
def tfio_dataset(paths: list[str], image_size: int, batch_size: int = BATCH_SIZE, seed: int = 0):
    """The same pipeline decoding with ``tf.io`` instead of Pillow (fast path considered, not used)."""
    import tensorflow as tf

    from fashionsim.images import augment_batch

    @tf.autograph.experimental.do_not_convert
    def decode(path: tf.Tensor) -> tf.Tensor:
        raw = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = tf.image.resize(tf.image.convert_image_dtype(raw, tf.float32), (image_size, image_size),
                                antialias=True)
        return tf.clip_by_value(image, 0.0, 1.0)

    @tf.autograph.experimental.do_not_convert
    def decode_pair(path: tf.Tensor, key: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return decode(path), key

    @tf.autograph.experimental.do_not_convert
    def augment(images: tf.Tensor, keys: tf.Tensor) -> tf.Tensor:
        return augment_batch(images, seed, keys=keys)

    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip(tf.data.Dataset.from_tensor_slices(paths), keys)
    ds = ds.map(decode_pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size).map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------------------ the benchmark
def _consume(batches) -> int:
    n = 0
    for batch in batches:
        n += int(batch.shape[0])
    return n


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(quick: bool = False) -> list[BenchRow]:
    """Images/s of decode + resize + augment at 96 and 299 px: ``images.dataset`` vs a Python loop.

    Full: 2000 files, 3 timed passes per side after one warm-up, the sides
    interleaved (fairer on a shared machine), medians reported; quick: 200
    files, one timed pass. ``extra`` holds images/s for both sides and for the
    tf.io alternative, and the median CPU seconds of this process per pass.
    """
    from fashionsim.images import dataset

    n_files = 200 if quick else 2000
    repeat = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="fashionsim-bench-images-") as tmp:
        start = time.perf_counter()
        paths = write_images(tmp, n_files)
        write_s = time.perf_counter() - start
        megabytes = sum(os.path.getsize(p) for p in paths) / 2**20
        for size in IMAGE_SIZES:
            sides = {
                "ours": lambda: _consume(dataset(paths, size, BATCH_SIZE, augment=True, seed=0)),
                "reference": lambda: _consume(reference_batches(paths, size, BATCH_SIZE)),
                "tfio": lambda: _consume(tfio_dataset(paths, size)),
            }
            for fn in sides.values():  # warm-up, and every side sees every file
                assert fn() == len(paths)
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
            for _ in range(repeat):
                for name, fn in sides.items():
                    runs[name].append(_timed(fn))
            wall = {name: statistics.median(w for w, _ in r) for name, r in runs.items()}
            cpu = {name: statistics.median(c for _, c in r) for name, r in runs.items()}
            rate = {name: len(paths) / seconds for name, seconds in wall.items()}
            rows.append(BenchRow(
                name="images.dataset decode+resize+augment vs Python loop",
                size=f"{n_files} files, {size} px",
                ours_s=wall["ours"],
                reference_s=wall["reference"],
                peak_mib=None if quick else peak_memory_mib(sides["ours"]),
                note=(
                    f"{rate['ours']:.0f} vs {rate['reference']:.0f} images/s; tf.io decode alternative "
                    f"{rate['tfio']:.0f} images/s (not used: no EXIF, alpha or 16-bit handling)"
                ),
                extra={
                    "images_per_s": rate["ours"], "reference_images_per_s": rate["reference"],
                    "tfio_images_per_s": rate["tfio"], "tfio_s": wall["tfio"],
                    "ours_cpu_s": cpu["ours"], "reference_cpu_s": cpu["reference"], "tfio_cpu_s": cpu["tfio"],
                    "files_mib": megabytes, "write_files_s": write_s, "batch_size": BATCH_SIZE,
                    "cpu_count": os.cpu_count(), "repeat": repeat,
                },
            ))
    return rows


if __name__ == "__main__":  # pragma: no cover
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row.as_dict())
