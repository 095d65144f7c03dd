"""The reference augmentations, drawn per image from stateless seeds, in two equal forms.

The augmentations (random crop of up to 5 % per side; with p = 0.5 one of flip left-right, flip
top-bottom, rotate 90/180/270, transpose; horizontal flip; random grayscale; colour jitter) are read
from 11 uniforms per image (:func:`augment_params`, row ``i`` from the stateless seed
``(seed, keys[i])``):

* :func:`augment_batch` / :func:`apply_augment_params` apply them to a batch with TensorFlow ops;
* :class:`AugmentPlan` (from :func:`plan_augment`) is the same draw read in NumPy, which the decoder
  applies inside its one resize (``images.dataset(..., augment=True)``).

>>> plan = plan_augment(np.full(N_AUGMENT_PARAMS, 0.9, np.float32), crop=0.05)
>>> plan.transpose, plan.flip_tb, plan.flip_lr     # 0.9 >= 0.5: no dihedral op, no extra flip
(False, False, False)
>>> augment_batch(np.zeros((2, 8, 8, 3), np.float32), seed=0).shape
TensorShape([2, 8, 8, 3])

Taught in notebook 01.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

__all__ = [
    "AUGMENT_DEFAULTS",
    "N_AUGMENT_PARAMS",
    "AugmentPlan",
    "apply_augment_params",
    "augment_batch",
    "augment_params",
    "plan_augment",
    "stateless_seed",
]

#: Number of uniform draws per image that :func:`apply_augment_params` consumes.
N_AUGMENT_PARAMS = 11
#: Crop fraction, grayscale probability and jitter strength of the references.
AUGMENT_DEFAULTS = {"crop": 0.05, "grayscale_p": 0.1, "jitter": 0.1}
# Dihedral choices of the reference, as (transpose, flip top-bottom, flip left-right) applied in that order:
# flip left-right, flip top-bottom, rotate 90 (counter-clockwise, as PIL), rotate 180, rotate 270, transpose.
_DIHEDRAL_BITS = np.array(
    [[0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 0, 0]], dtype=bool
)
_GREY_WEIGHTS = (0.299, 0.587, 0.114)


# ---------------------------------------------------------------------------------------------- NumPy plan
class AugmentPlan(NamedTuple):
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

    def crop_box(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The crop as a Pillow box (left, upper, right, lower) in pixels of a ``width`` x ``height`` picture."""
        return (self.left * width, self.top * height, width - self.right * width, height - self.bottom * height)

    def colour_matrix(self, mean_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """NumPy twin of the batch colour step for one image: (3, 3) matrix and grey bias, values in [0, 1]."""
        p = self.params
        w = np.asarray(_GREY_WEIGHTS, np.float64)
        to_grey = np.outer(w, np.ones(3))
        gate = to_grey if p[7] < np.float32(self.grayscale_p) else np.eye(3)
        brightness, contrast, saturation = 1.0 + self.jitter * (2.0 * p[8:11].astype(np.float64) - 1.0)
        matrix = brightness * contrast * gate @ (saturation * np.eye(3) + (1.0 - saturation) * to_grey)
        bias = (1.0 - contrast) * brightness * float(np.asarray(mean_rgb, np.float64) @ gate @ w)
        return matrix, bias

    def orient(self, out: np.ndarray) -> np.ndarray:
        """Apply the flips and the transpose to an (H, W, C) array (a contiguous copy)."""
        if self.transpose:
            out = out.transpose(1, 0, 2)
        if self.flip_tb:
            out = out[::-1]
        if self.flip_lr:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)


def plan_augment(p: np.ndarray, crop: float, grayscale_p: float = 0.1, jitter: float = 0.1) -> AugmentPlan:
    """Read one row of augmentation uniforms exactly as the TensorFlow version does (float32 comparisons)."""
    p = np.asarray(p, dtype=np.float32)
    choice = min(int(p[5] * np.float32(6.0)), 5)
    transpose, flip_tb, flip_lr = (bool(b) and bool(p[4] < 0.5) for b in _DIHEDRAL_BITS[choice])
    return AugmentPlan(*(float(v) * crop for v in p[:4]), transpose, flip_tb, flip_lr != bool(p[6] < 0.5),
                       p, grayscale_p, jitter)


# ---------------------------------------------------------------------------------------------- TensorFlow
def stateless_seed(seed: int | np.random.Generator | None) -> int:
    """The int of a stateless seed pair: ``seed`` itself, one draw from a Generator, or a fresh one for None."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    if seed is None:
        return int(np.random.default_rng().integers(2**31))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}")
    return int(seed)


def augment_params(n: int, seed: int | np.random.Generator | None, keys: Any = None) -> tf.Tensor:
    """Uniform draws (n, N_AUGMENT_PARAMS) in [0, 1): row ``i`` from the stateless seed ``(seed, keys[i])``.

    ``keys`` defaults to ``0..n-1`` (the element index); the same seed and keys
    always give the same draws, whatever the batch they sit in. A Generator
    ``seed`` gives one int draw; None a fresh one.
    """
    import tensorflow as tf

    seed = stateless_seed(seed)
    if keys is None:
        keys = tf.range(n, dtype=tf.int64)
    keys = tf.cast(tf.reshape(keys, [-1]), tf.int64)
    seeds = tf.stack([tf.fill(tf.shape(keys), tf.constant(seed, tf.int64)), keys], axis=1)

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


def augment_batch(images: Any, seed: int | np.random.Generator | None, *, keys: Any = None,
                  **options: float) -> tf.Tensor:
    """Augment a batch (B, S, S, 3) float32 in [0, 1] -> same shape, seeded per image.

    Image ``i`` uses the stateless seed ``(seed, keys[i])`` (``keys`` default
    ``0..B-1``), so a seeded call repeats exactly. ``options``: ``crop``,
    ``grayscale_p``, ``jitter`` (see :func:`apply_augment_params`).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, dtype=tf.float32)
    params = augment_params(tf.shape(x)[0], seed, keys)
    return _augment(x, params, scale=1.0, **{**AUGMENT_DEFAULTS, **options})

