"""The DVBPR models of one training run, per variant: built afresh, or loaded from a checkpoint.

* ``"cnn"``: a small CNN f trained end to end; the training model is the image model;
* ``"autoencoder"`` / ``"pretrained"``: a frozen encoder (a convolutional autoencoder's, trained
  first on the item pictures, or a backbone) whose features of every item are computed once; the
  training model is a dense head + θ on those features, the image model chains encoder and head.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim.recommend.scoring import embed_array

__all__ = ["DVBPRParts", "build_parts", "TRAIN_FILE", "BEST_FILE", "ENCODER_FILE"]

#: The checkpoint's files: the training model (with Adam's state), the best image model, the frozen encoder.
TRAIN_FILE, BEST_FILE, ENCODER_FILE = "train.keras", "best.keras", "encoder.keras"


@dataclasses.dataclass
class DVBPRParts:
    """``train_model`` (compiled, what the steps update), ``image_model`` (pictures -> x_uij, what is kept),
    ``train_tower`` (the part of f that trains), ``table`` (what the triples index: pictures or features),
    ``encoder`` (frozen, or None), ``vectors()`` (every item's vector under the current weights)."""

    train_model: Any
    image_model: Any
    train_tower: Any
    table: np.ndarray | None
    encoder: Any
    vectors: Callable[[], np.ndarray]
    autoencoder_loss: list[float] | None = None


def build_parts(variant: str, *, saved: Path | None, n_users: int, image_size: int, encode: Callable,
                settings: dict[str, Any], item_images: np.ndarray | None, paths: list[str] | None, seed: int,
                verbose: int) -> DVBPRParts:
    """The models of ``variant``, loaded from the checkpoint folder ``saved`` when given (call in the strategy's scope).

    ``encode(model, batch_size)`` runs a model over every item picture; ``settings`` holds
    :func:`~fashionsim.recommend.train_dvbpr`'s model arguments; ``paths`` (streamed pictures) or
    ``item_images`` (in memory) are the autoencoder's training pictures.
    """
    import keras

    from fashionsim.recommend import models as M

    s = settings
    train_model = keras.saving.load_model(saved / TRAIN_FILE) if saved is not None else None
    if variant == "cnn":
        if saved is None:
            tower = M.build_cnn_encoder(image_size, s["latent_dim"], widths=s["widths"], first_stride=s["first_stride"],
                                        batch_norm=s["batch_norm"], dense_units=s["dense_units"],
                                        dropout=s["dropout"], lambda_cnn=s["lambda_cnn"], lambda_fc=s["lambda_fc"])
            train_model = M.compile_bpr(M.build_dvbpr(tower, n_users, lambda_u=s["lambda_u"],
                                                      user_init=s["user_init"]), s["learning_rate"])
        tower = train_model.get_layer(M.ITEM_TOWER)
        return DVBPRParts(train_model, train_model, tower, item_images, None, lambda: encode(tower))
    autoencoder_loss = None
    if saved is not None:
        encoder = keras.saving.load_model(saved / ENCODER_FILE)
    elif variant == "autoencoder":
        autoencoder, encoder = M.build_conv_autoencoder(image_size, widths=s["ae_widths"], code_dim=s["code_dim"])
        autoencoder.compile(optimizer=keras.optimizers.Adam(s["ae_learning_rate"]), loss="mse")
        if paths is not None:
            from fashionsim import images

            pictures = images.dataset(paths, int(image_size), 32, shuffle=True, seed=seed).map(lambda x: (x, x))
            logs = autoencoder.fit(pictures, epochs=s["ae_epochs"], shuffle=False, verbose=verbose).history
        else:
            logs = autoencoder.fit(item_images, item_images, batch_size=32, epochs=s["ae_epochs"], shuffle=True,
                                   verbose=verbose).history
        autoencoder_loss = [float(v) for v in logs["loss"]]
    else:
        from fashionsim.models.backbones import build_backbone

        encoder = build_backbone(s["backbone"], image_size=image_size, weights=s["weights"], trainable=False)
    encoder.trainable = False
    features = encode(encoder, batch_size=64)
    if saved is None:
        head = M.build_dense_head(features.shape[1], s["latent_dim"], lambda_fc=s["lambda_fc"], mean=features.mean(0),
                                  variance=np.maximum(features.var(0), 1e-6))
        train_model = M.compile_bpr(M.build_dvbpr(head, n_users, lambda_u=s["lambda_u"], user_init=s["user_init"]),
                                    s["learning_rate"])
    head = train_model.get_layer("head")
    image_model = M.build_dvbpr(M.build_item_tower(encoder, head),
                                user_embedding=train_model.get_layer(M.USER_EMBEDDING))
    return DVBPRParts(train_model, image_model, head, features, encoder,
                      lambda: embed_array(head, features, batch_size=1024), autoencoder_loss)
