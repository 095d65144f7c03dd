"""The siamese embedding model: backbone (avg pool) → Dense 512 elu → Dense 128 → L2 normalisation.

One network embeds street and shop photos alike ("siamese": the same weights
for anchor, positive and negative). Its output lies on the unit sphere, so the
squared L2 distance of two embeddings is ``2 − 2·cos`` and lies in [0, 4], and
the margin 0.3 of the triplet loss has a fixed meaning. Taught in notebook 03 (which builds
``build_embedding_model(backbone="inception_v3", image_size=299, weights="imagenet")`` for real data).

>>> import numpy as np
>>> model = build_embedding_model(backbone="small_cnn", image_size=32, hidden=16, embedding_dim=8)
>>> model.input_shape, model.output_shape
((None, 32, 32, 3), (None, 8))
>>> vectors = model.predict_on_batch(np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32))
>>> np.linalg.norm(vectors, axis=1).round(4).tolist()                  # on the unit sphere
[1.0, 1.0]
"""

from __future__ import annotations

import os

import keras
from keras import layers

from fashionsim._compat import renamed
from fashionsim.models.backbones import build_backbone

__all__ = ["L2Normalize", "SMALL_CNN", "build_small_cnn", "build_embedding_model", "load_embedding_model"]

#: Name of the compact CNN backbone defined here (for CPU demos), next to the ``keras.applications`` ones.
SMALL_CNN = "small_cnn"


@keras.saving.register_keras_serializable(package="fashionsim")
class L2Normalize(layers.Layer):
    """Scale each row to unit L2 norm (along ``axis``); a zero row stays (numerically) zero.

    A named, registered layer instead of a ``Lambda``, so a saved model loads
    anywhere without unsafe deserialisation.
    """

    def __init__(self, axis: int = -1, epsilon: float = 1e-12, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        ops = keras.ops
        squared = ops.sum(ops.square(inputs), axis=self.axis, keepdims=True)
        return inputs * ops.rsqrt(ops.maximum(squared, self.epsilon))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


@renamed(input_size="image_size")
def build_small_cnn(image_size: int = 64, *, widths: tuple[int, ...] = (32, 64, 128, 256)) -> keras.Model:
    """A compact CNN backbone for CPU demos: [0, 1] images → (None, widths[-1]) average-pooled features.

    One block per width: 3×3 convolution (stride 2 in the first), batch
    normalisation, ReLU, 2×2 max pooling. About 0.4 M parameters and 15 M
    multiply-adds per 64-px image (InceptionV3 at 75 px: 22 M parameters,
    ~360 M), so it trains from scratch in CPU minutes (measured here: ~13x
    InceptionV3's training speed); the real configuration uses InceptionV3.
    """
    size = int(image_size)
    if size < 2 ** (len(widths) + 1):
        raise ValueError(f"image_size must be at least {2 ** (len(widths) + 1)} for {len(widths)} blocks, got {size}")
    inputs = keras.Input(shape=(size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    for i, width in enumerate(widths):  # the first convolution has stride 2: 4x less work at full resolution
        x = layers.Conv2D(int(width), 3, strides=2 if i == 0 else 1, padding="same", use_bias=False,
                          name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.ReLU(name=f"relu{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    outputs = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, outputs, name=f"{SMALL_CNN}_backbone")


@renamed(input_size="image_size")
def build_embedding_model(
    *,
    backbone: str | keras.Model = "inception_v3",
    image_size: int = 299,
    weights: str | os.PathLike | None = None,
    embedding_dim: int = 128,
    hidden: int = 512,
    bn_momentum: float | None = None,
    name: str = "siamese_embedding",
) -> keras.Model:
    """The embedding network of the reference: ``[0, 1]`` images (None, s, s, 3) → unit vectors (None, 128).

    ``backbone``: a name from :data:`fashionsim.models.BACKBONES` (built with
    average pooling by :func:`fashionsim.models.build_backbone`, with
    ``weights`` = ``"imagenet"`` | ``None`` | a weights file), ``"small_cnn"``
    (:func:`build_small_cnn`, random initialisation, for CPU demos), or a ready
    ``keras.Model`` taking [0, 1] images of ``image_size`` and giving one
    vector per image (then ``weights`` must be None). ``hidden`` = 0 drops the
    Dense 512 elu layer. ``input_size=`` is still accepted for ``image_size``,
    with a ``FutureWarning``.

    ``bn_momentum``: when given, the momentum of every BatchNormalization
    layer of the backbone (Keras' default 0.99 lets the moving statistics,
    used at inference, follow the training batches only after hundreds of
    steps; a network trained from scratch for a few dozen steps needs ~0.9,
    or its inference-mode embeddings all coincide).
    """
    if int(embedding_dim) < 1:
        raise ValueError(f"embedding_dim must be a positive int, got {embedding_dim}")
    if int(hidden) < 0:
        raise ValueError(f"hidden must be >= 0 (0 = no hidden layer), got {hidden}")
    if isinstance(backbone, keras.Model):
        if weights is not None:
            raise ValueError("weights applies to a backbone given by name; a keras.Model backbone brings its own")
        base = backbone
        expected = (None, int(image_size), int(image_size), 3)
        if tuple(base.input_shape) != expected:
            raise ValueError(f"backbone input shape {base.input_shape} does not match input_size "
                             f"(image_size={image_size}): {expected}")
        if len(base.output_shape) != 2:
            raise ValueError(f"backbone must give one vector per image (None, features), got {base.output_shape}")
    elif backbone == SMALL_CNN:
        if weights is not None:
            raise ValueError(f"the {SMALL_CNN} backbone has no pretrained weights: pass weights=None")
        base = build_small_cnn(image_size)
    elif isinstance(backbone, str):
        base = build_backbone(backbone, image_size=image_size, weights=weights, pooling="avg")
    else:
        raise TypeError(f"backbone must be a backbone name or a keras.Model, got {type(backbone).__name__}")
    if bn_momentum is not None:
        if not 0.0 <= float(bn_momentum) < 1.0:
            raise ValueError(f"bn_momentum must lie in [0, 1), got {bn_momentum}")
        for layer in base._flatten_layers(include_self=False):
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    inputs = keras.Input(shape=(int(image_size), int(image_size), 3), name="image")
    x = base(inputs)
    if hidden:
        x = layers.Dense(int(hidden), activation="elu", name="fc1")(x)
    x = layers.Dense(int(embedding_dim), name="fc2")(x)
    outputs = L2Normalize(name="l2_norm")(x)
    return keras.Model(inputs, outputs, name=name)


def load_embedding_model(path: str | os.PathLike) -> keras.Model:
    """Load an embedding model saved in the ``.keras`` format (without its training configuration)."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"embedding model not found: {path}")
    return keras.models.load_model(path, compile=False)
