"""Embedding throughput and memory: the pipeline should not be the bottleneck, memory should not grow.

Rows:
* pipeline + model vs the model alone on pre-decoded tensors (the same
  images, the same batches): the fraction of the model's own speed that
  ``embed.embed_images`` keeps (the target is at least 90%).
* embedding a large catalog (20,000 generated images; quick: 2,000) into a
  ``.npy`` memory map, against a quarter of it: the peak resident memory added
  while embedding, which must not grow with the catalog size.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from fashionsim.bench._core import BenchRow, median_time


def _write_images(folder: Path, n: int, side: int, seed: int = 0) -> list[str]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(16, side, side, 3), dtype=np.uint8)
    paths = []
    for i in range(n):
        path = folder / f"{i:06d}.jpg"
        Image.fromarray(np.roll(base[i % 16], i % side, axis=1)).save(path, quality=90)
        paths.append(str(path))
    return paths


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRSS:
    """Sample resident memory every 20 ms on a thread; ``peak`` minus ``start`` is what the work added."""

    def __enter__(self):
        self.start = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def _throughput_rows(tmp: Path, quick: bool) -> list[BenchRow]:
    import keras

    from fashionsim import images
    from fashionsim.embed import embed_images
    from fashionsim.models.backbones import build_backbone

    rows = []
    repeat = 1 if quick else 3
    for size, n in ((75, 64 if quick else 512), (299, 8 if quick else 128)):
        folder = tmp / f"tp{size}"
        folder.mkdir()
        paths = _write_images(folder, n, side=max(size, 128))
        keras.utils.set_random_seed(0)
        model = build_backbone("inception_v3", image_size=size, weights=None)
        batch = 32
        decoded = [b for b in images.dataset(paths, size, batch)]          # pre-decoded tensors
        model.predict_on_batch(decoded[0])                                  # build and warm up

        def model_alone():
            for b in decoded:
                model.predict_on_batch(b)

        alone = median_time(model_alone, repeat=repeat)
        piped = median_time(lambda: embed_images(model, paths, size, batch_size=batch, progress=False),
                            repeat=repeat)
        rows.append(BenchRow(
            name="embedding: pipeline + InceptionV3 vs model alone", size=f"{n} images @ {size} px",
            ours_s=piped, reference_s=alone,
            note=f"{n / piped:.0f} img/s with the pipeline, {n / alone:.0f} img/s on pre-decoded tensors: "
                 f"the pipeline keeps {alone / piped:.0%} of the model's speed",
            extra={"fraction_of_model_speed": alone / piped}))
    return rows


def _memory_rows(tmp: Path, quick: bool) -> list[BenchRow]:
    import keras

    from fashionsim.embed import embed_images

    n_large = 2_000 if quick else 20_000
    (tmp / "large").mkdir()
    paths = _write_images(tmp / "large", n_large, side=64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(128)])
    model.predict_on_batch(np.zeros((1, 32, 32, 3), np.float32))
    embed_images(model, paths[:256], 32, batch_size=128, progress=False)     # warm up tf.data and the model
    rows, added = [], {}
    for n in (n_large // 4, n_large):
        out = tmp / f"emb{n}.npy"
        with _PeakRSS() as rss:
            start = time.perf_counter()
            embed_images(model, paths[:n], 32, batch_size=128, out=out, progress=False)
            seconds = time.perf_counter() - start
        added[n] = rss.added_mib
        rows.append(BenchRow(name="embedding a large catalog to a .npy memmap (peak RSS added)",
                             size=f"{n:,} images", ours_s=seconds, peak_mib=rss.added_mib,
                             note=f"{n / seconds:.0f} img/s; output file {out.stat().st_size / 2**20:.1f} MiB"))
    small, large = added[n_large // 4], added[n_large]
    rows[-1].note += f"; peak grew {large - small:+.1f} MiB for 4× the images"
    return rows


def run(quick: bool = False) -> list[BenchRow]:
    """Both groups of rows; files are generated in a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fashionsim-bench-embed-") as tmp:
        tmp = Path(tmp)
        return _throughput_rows(tmp, quick) + _memory_rows(tmp, quick)
