"""Keras models for BPR: DVBPR's siamese preference model, its three image encoders, and BPR-MF.

DVBPR (Kang et al., 2017) scores a user u, an item i they interacted with and
an item j they did not by x_uij = θ_u · (f(img_i) − f(img_j)), where f is an
image encoder giving K-dimensional item vectors and θ_u a K-dimensional user
vector, and minimises the BPR loss −log σ(x_uij) plus L2 penalties. The
encoder f is one of

* :func:`build_cnn_encoder` — a small CNN trained end to end (the paper's
  CNN-F is far too big for a CPU demo, so depth and widths are parameters);
* the frozen encoder of :func:`build_conv_autoencoder` plus a trainable dense
  layer (:func:`build_item_tower`);
* a frozen pretrained backbone (``fashionsim.models.backbones.build_backbone``)
  plus a trainable dense layer.

Every image model takes float32 RGB images in [0, 1]. Custom layers and the
loss are registered, so the models save and load as ``.keras`` files. Taught
in notebook 04.

A tiny DVBPR (notebook 04 builds ``build_cnn_encoder(64, 50)`` for 320 users):

>>> import numpy as np
>>> tower = build_cnn_encoder(16, 4, widths=(4,), dense_units=8)
>>> model = build_dvbpr(tower, n_users=3)
>>> images = np.zeros((2, 16, 16, 3), np.float32)
>>> model([np.array([0, 2]), images, images]).shape       # x_uij of two (u, i, j): f(i) = f(j) here
TensorShape([2])
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from fashionsim.recommend._names import ITEM_TOWER, USER_EMBEDDING


# --------------------------------------------------------------------------- loss
def bpr_loss(y_true, x_uij):
    """BPR loss: the batch *mean* of −log σ(x_uij), computed stably as softplus(−x_uij).

    ``y_true`` is ignored (BPR has no labels; Keras wants a target, pass zeros).
    The reference notebook returns ``1 − Σ log σ(x)``: a *sum* over the batch,
    so the loss — and its balance with the L2 penalties, which do not grow with
    the batch — changes with the batch size, and ``log(sigmoid(x))`` underflows
    to −inf (NaN gradients) once σ(x) rounds to 0 for very negative x in float32.
    The mean of softplus(−x) = log(1 + e^(−x)) is the same objective per triple,
    finite everywhere, and independent of the batch size; the constant 1 is dropped.
    """
    del y_true
    x = keras.ops.reshape(keras.ops.cast(x_uij, "float32"), (-1,))
    return keras.ops.mean(keras.ops.softplus(-x))


@keras.saving.register_keras_serializable(package="fashionsim")
class BPRLoss(keras.losses.Loss):
    """:func:`bpr_loss` as a Keras loss object (serialisable with the model)."""

    def __init__(self, name: str = "bpr_loss", **kwargs) -> None:
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)

    def call(self, y_true, y_pred):
        # Per-sample softplus(−x); Keras averages over the batch ("sum_over_batch_size").
        del y_true
        return keras.ops.softplus(-keras.ops.reshape(keras.ops.cast(y_pred, "float32"), (-1,)))


@keras.saving.register_keras_serializable(package="fashionsim")
def pairwise_accuracy(y_true, x_uij):
    """Fraction of triples in the batch with x_uij > 0 (i ranked above j): a *sampled* AUC, one negative each."""
    del y_true
    x = keras.ops.reshape(x_uij, (-1,))
    return keras.ops.mean(keras.ops.cast(x > 0, "float32"))


# --------------------------------------------------------------------------- layers
@keras.saving.register_keras_serializable(package="fashionsim")
class RegularizedEmbedding(layers.Layer):
    """An embedding table whose L2 penalty covers only the rows looked up in the batch.

    For ids of shape (B,) or (B, 1) it returns vectors (B, output_dim) and adds
    ``l2 * mean_b ||v_b||²`` to the model's losses — the per-triple λ‖θ_u‖² of
    BPR-Opt. (A Keras ``embeddings_regularizer`` would instead penalise the whole
    table at every step, however few of its users the batch contains.)
    """

    def __init__(self, input_dim: int, output_dim: int, *, l2: float = 0.0, initializer=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ValueError(f"input_dim and output_dim must be >= 1, got {input_dim}, {output_dim}")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        self.input_dim, self.output_dim, self.l2 = int(input_dim), int(output_dim), float(l2)
        self.initializer = (keras.initializers.RandomNormal(stddev=0.01) if initializer is None
                            else keras.initializers.get(initializer))

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim), initializer=self.initializer,
                                          name="embeddings")

    def call(self, ids):
        ids = keras.ops.reshape(keras.ops.cast(ids, "int32"), (-1,))
        vectors = keras.ops.take(self.embeddings, ids, axis=0)
        if self.l2 > 0:
            self.add_loss(self.l2 * keras.ops.mean(keras.ops.sum(keras.ops.square(vectors), axis=-1)))
        return vectors

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "l2": self.l2, "initializer": keras.initializers.serialize(self.initializer)}


def _l2(value: float):
    return keras.regularizers.L2(value) if value > 0 else None


# --------------------------------------------------------------------------- encoders
def build_cnn_encoder(
    image_size: int = 64,
    latent_dim: int = 50,
    *,
    widths: Sequence[int] = (16, 32, 64),
    first_stride: int = 2,
    batch_norm: bool = True,
    dense_units: int = 128,
    lambda_cnn: float = 1e-5,
    lambda_fc: float = 1e-5,
    dropout: float = 0.0,
    name: str = ITEM_TOWER,
) -> keras.Model:
    """A small CNN item encoder for DVBPR trained end to end: [0, 1] images (s, s, 3) → (latent_dim,).

    Per width: a convolution + ReLU + 2×2 max-pool — 5×5 with stride
    ``first_stride`` for the first, 3×3 after (CNN-F's pattern, scaled down);
    then global average pooling, a
    hidden dense layer (ReLU, optional dropout) and a linear layer to K. L2
    ``lambda_cnn`` on convolution kernels, ``lambda_fc`` on dense kernels.
    """
    widths = [int(w) for w in widths]
    if not widths or any(w < 1 for w in widths):
        raise ValueError(f"widths must be positive ints, got {widths}")
    if int(image_size) < first_stride * 2 ** len(widths):
        raise ValueError(f"image_size {image_size} is too small for {len(widths)} pooling steps")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    for k, width in enumerate(widths):
        # conv1 is strided (as CNN-F's 11×11 stride-4 conv1, scaled down): most of the cost is at full resolution
        x = layers.Conv2D(width, 5 if k == 0 else 3, strides=first_stride if k == 0 else 1, padding="same",
                          use_bias=not batch_norm, kernel_regularizer=_l2(lambda_cnn), name=f"conv{k + 1}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{k + 1}")(x)
        x = layers.Activation("relu", name=f"relu{k + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{k + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu", kernel_regularizer=_l2(lambda_fc), name="fc1")(x)
        if dropout:
            x = layers.Dropout(dropout, name="fc_dropout")(x)
    outputs = layers.Dense(latent_dim, kernel_regularizer=_l2(lambda_fc), name="item_vector")(x)
    return keras.Model(inputs, outputs, name=name)


def build_conv_autoencoder(
    image_size: int = 64,
    *,
    widths: Sequence[int] = (32, 64, 128),
    code_dim: int = 128,
) -> tuple[keras.Model, keras.Model]:
    """A convolutional autoencoder for [0, 1] images; returns ``(autoencoder, encoder)``.

    Encoder: per width a stride-2 3×3 convolution (ReLU), then a dense code of
    ``code_dim`` (linear); decoder: the mirror image with transposed convolutions and a
    sigmoid output. Train the autoencoder with MSE on item images, then freeze
    the encoder (:func:`build_item_tower`).
    """
    widths = [int(w) for w in widths]
    steps = 2 ** len(widths)
    if int(image_size) % steps:
        raise ValueError(f"image_size must be a multiple of {steps} for {len(widths)} stride-2 steps, got {image_size}")
    side = int(image_size) // steps
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for k, width in enumerate(widths):
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name=f"enc_conv{k + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    code = layers.Dense(code_dim, name="code")(x)  # linear bottleneck: no dead code units
    encoder = keras.Model(inputs, code, name="encoder")

    code_in = keras.Input((code_dim,), name="code")
    y = layers.Dense(side * side * widths[-1], activation="relu", name="dec_dense")(code_in)
    y = layers.Reshape((side, side, widths[-1]), name="dec_reshape")(y)
    for k, width in enumerate(reversed(widths)):
        y = layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu", name=f"dec_deconv{k + 1}")(y)
    y = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="reconstruction")(y)
    decoder = keras.Model(code_in, y, name="decoder")
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    return autoencoder, encoder


def build_dense_head(input_dim: int, latent_dim: int = 50, *, lambda_fc: float = 1e-5, mean=None, variance=None,
                     name: str = "head") -> keras.Model:
    """The trainable layer on top of a frozen encoder: features (input_dim,) → item vector (latent_dim,).

    With ``mean`` and ``variance`` (of the catalog's features) the features are
    first standardised by a fixed ``Normalization`` layer, saved with the model:
    frozen features of very different scales otherwise slow the dense layer down.
    """
    inputs = keras.Input((int(input_dim),), name="features")
    x = inputs
    if mean is not None or variance is not None:
        x = layers.Normalization(mean=mean, variance=variance, name="standardize")(x)
    outputs = layers.Dense(latent_dim, kernel_regularizer=_l2(lambda_fc), name="item_vector")(x)
    return keras.Model(inputs, outputs, name=name)


def build_item_tower(encoder: keras.Model, head: keras.Model, *, name: str = ITEM_TOWER) -> keras.Model:
    """Frozen ``encoder`` (images → features) followed by the trainable ``head`` (features → K): one item model."""
    encoder.trainable = False
    inputs = keras.Input(encoder.input_shape[1:], name="image")
    return keras.Model(inputs, head(encoder(inputs)), name=name)


# --------------------------------------------------------------------------- preference models
def build_dvbpr(
    item_tower: keras.Model,
    n_users: int | None = None,
    *,
    latent_dim: int | None = None,
    lambda_u: float = 1e-3,
    user_init: float = 0.1,
    user_embedding: RegularizedEmbedding | None = None,
    name: str = "dvbpr",
) -> keras.Model:
    """The siamese DVBPR model: inputs (user id, item i, item j) → x_uij = θ_u · (f(i) − f(j)), shape (B,).

    ``item_tower`` is f, shared by both legs (images → K for the image model, or
    cached features → K when the encoder is frozen). ``user_embedding`` reuses an
    existing θ table (so a feature-level and an image-level model share it);
    otherwise θ starts from N(0, ``user_init``²).
    The layer ``item_difference`` is the plain difference f(i) − f(j) — the
    reference calls it ``L1_dist``, but it is no distance: it must stay a signed
    vector for the dot product with θ_u to say *which* item the user prefers.
    """
    dim = int(latent_dim or item_tower.output_shape[-1])
    if int(item_tower.output_shape[-1]) != dim:
        raise ValueError(f"item_tower outputs {item_tower.output_shape[-1]} dims, latent_dim is {dim}")
    if user_embedding is None:
        if n_users is None:
            raise ValueError("give n_users (or an existing user_embedding)")
        user_embedding = RegularizedEmbedding(n_users, dim, l2=lambda_u, name=USER_EMBEDDING,
                                              initializer=keras.initializers.RandomNormal(stddev=user_init))
    item_shape = item_tower.input_shape[1:]
    user = keras.Input((), dtype="int32", name="user")
    item_i = keras.Input(item_shape, name="item_i")
    item_j = keras.Input(item_shape, name="item_j")
    theta = user_embedding(user)
    difference = layers.Subtract(name="item_difference")([item_tower(item_i), item_tower(item_j)])
    x_uij = layers.Dot(axes=1, name="x_uij")([theta, difference])
    x_uij = layers.Reshape((), name="score")(x_uij)
    return keras.Model([user, item_i, item_j], x_uij, name=name)


def build_bpr_mf(
    n_users: int,
    n_items: int,
    *,
    latent_dim: int = 50,
    lambda_u: float = 1e-3,
    lambda_i: float = 1e-3,
    item_bias: bool = True,
    name: str = "bpr_mf",
) -> keras.Model:
    """Plain BPR matrix factorisation: (user, item i, item j) ids → x_uij = θ_u · (γ_i − γ_j) + β_i − β_j.

    Items are free vectors γ (and biases β), learnt from interactions only: an
    item nobody interacted with keeps its random initial vector (no cold start).
    """
    user = keras.Input((), dtype="int32", name="user")
    item_i = keras.Input((), dtype="int32", name="item_i")
    item_j = keras.Input((), dtype="int32", name="item_j")
    theta = RegularizedEmbedding(n_users, latent_dim, l2=lambda_u, name=USER_EMBEDDING)(user)
    items = RegularizedEmbedding(n_items, latent_dim, l2=lambda_i, name="item_embedding")
    difference = layers.Subtract(name="item_difference")([items(item_i), items(item_j)])
    x_uij = layers.Reshape((), name="dot")(layers.Dot(axes=1, name="x_uij")([theta, difference]))
    if item_bias:
        bias = RegularizedEmbedding(n_items, 1, l2=lambda_i, initializer="zeros", name="item_bias")
        bias_diff = layers.Reshape((), name="bias_difference")(layers.Subtract()([bias(item_i), bias(item_j)]))
        x_uij = layers.Add(name="score")([x_uij, bias_diff])
    return keras.Model([user, item_i, item_j], x_uij, name=name)


def compile_bpr(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile a BPR model with Adam, :class:`BPRLoss` and the in-batch pairwise accuracy; returns it."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=BPRLoss(),
                  metrics=[pairwise_accuracy])
    return model
