"""The multilabel tag classifier: ImageNet backbone → Dropout → Dense(n_tags, sigmoid).

Each tag is an independent yes/no question, so the head is a sigmoid per tag
trained with binary cross-entropy (not a softmax). The backbone's pooled
vector (the input of the dropout layer) doubles as an image vector for
similarity search: :func:`image_vector_model`. Taught in notebook 01.

>>> model = build_multilabel_classifier(5, backbone="mobilenet_v2", image_size=32, weights=None)
>>> model.output_shape, image_vector_model(model).output_shape      # 5 tag probabilities; pooled vector
((None, 5), (None, 1280))
"""

from __future__ import annotations

import keras
from keras import layers

from fashionsim._compat import renamed
from fashionsim.models.backbones import Weights, build_backbone

__all__ = ["build_multilabel_classifier", "image_vector_model", "FEATURES_LAYER", "TAGS_LAYER"]

#: Names of the dropout layer (its input is the pooled image vector) and of the sigmoid head.
FEATURES_LAYER = "tags_dropout"
TAGS_LAYER = "tags"


@renamed(input_size="image_size")
def build_multilabel_classifier(
    n_tags: int,
    *,
    backbone: str = "inception_v3",
    image_size: int = 299,
    weights: Weights = "imagenet",
    dropout: float = 0.2,
    learning_rate: float = 1e-3,
    bn_momentum: float | None = None,
    compile: bool = True,
) -> keras.Model:
    """A compiled multilabel classifier: [0, 1] images (None, s, s, 3) → tag probabilities (None, n_tags).

    ``backbone`` is any name of :data:`fashionsim.models.BACKBONES`; ``weights``
    is ``"imagenet"`` (downloaded by Keras; needs a network), ``None`` (random
    initialisation) or a backbone weights file. Compiled with Adam
    (``learning_rate``), binary cross-entropy and a micro F1 metric at 0.5.
    ``image_size`` is the side of the square input (``input_size=`` still
    accepted, with a ``FutureWarning``).

    ``bn_momentum`` (e.g. 0.9) replaces the momentum of every batch
    normalisation layer of the backbone. Keep ``None`` (the backbone's own,
    0.99 or 0.999) with ImageNet weights; lower it when training from scratch
    for a few hundred steps only, or the moving statistics used at inference
    stay near their initial values and the predictions are meaningless.
    """
    if not isinstance(n_tags, int) or isinstance(n_tags, bool) or n_tags < 1:
        raise ValueError(f"n_tags must be a positive int, got {n_tags!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    if bn_momentum is not None and not 0.0 <= float(bn_momentum) < 1.0:
        raise ValueError(f"bn_momentum must be in [0, 1) or None, got {bn_momentum}")
    base = build_backbone(backbone, image_size=image_size, weights=weights, pooling="avg")
    if bn_momentum is not None:
        for layer in _all_layers(base):
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    inputs = keras.Input(shape=(int(image_size), int(image_size), 3), name="image")
    features = base(inputs)
    x = layers.Dropout(float(dropout), name=FEATURES_LAYER)(features)
    outputs = layers.Dense(n_tags, activation="sigmoid", name=TAGS_LAYER)(x)
    model = keras.Model(inputs, outputs, name=f"multilabel_{backbone}")
    if compile:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=float(learning_rate)),
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[keras.metrics.F1Score(average="micro", threshold=0.5, name="f1_micro")],
        )
        # Create Adam's slots now, eagerly: created inside the first traced train step they cost seconds.
        model.optimizer.build(model.trainable_variables)
    return model


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer of ``model``, nested models included."""
    out = []
    for layer in model.layers:
        out.append(layer)
        if isinstance(layer, keras.Model):
            out.extend(_all_layers(layer))
    return out


def image_vector_model(classifier: keras.Model) -> keras.Model:
    """The classifier cut before its head: [0, 1] images → the backbone's pooled vector (None, d)."""
    try:
        features = classifier.get_layer(FEATURES_LAYER).input
    except ValueError as exc:
        raise ValueError(
            f"model {classifier.name!r} has no layer {FEATURES_LAYER!r}: build it with build_multilabel_classifier"
        ) from exc
    return keras.Model(classifier.inputs, features, name=f"{classifier.name}_vectors")
