"""Keras models: backbones, the siamese embedding model, the multilabel classifier, DVBPR.

Each lives in its own module (DVBPR in :mod:`fashionsim.recommend.models`);
this package re-exports the public names. ``load_model`` reads any of them.
"""

from fashionsim.models.backbones import BACKBONES, ImagenetPreprocess, build_backbone
from fashionsim.models.embedding import (
    SMALL_CNN,
    L2Normalize,
    build_embedding_model,
    build_small_cnn,
    load_embedding_model,
)
from fashionsim.models.io import load_model
from fashionsim.models.multilabel import build_multilabel_classifier, image_vector_model

__all__ = [
    "BACKBONES", "ImagenetPreprocess", "build_backbone", "SMALL_CNN", "L2Normalize", "build_embedding_model",
    "build_small_cnn", "load_embedding_model", "load_model", "build_multilabel_classifier", "image_vector_model",
]
