"""Keras models: backbones, the siamese embedding model, the multilabel classifier, DVBPR.

Each lives in its own module; this package re-exports the public names.
"""

from fashionsim.models.backbones import BACKBONES, ImagenetPreprocess, build_backbone

__all__ = ["BACKBONES", "ImagenetPreprocess", "build_backbone"]
