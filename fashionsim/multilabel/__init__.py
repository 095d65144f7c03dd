"""Method 1: tags from product descriptions, a multilabel classifier on the images, and similar images.

:func:`train_multilabel` is the whole recipe of notebook 01 (and what a command-line ``train``
calls): tags from the training descriptions (:class:`fashionsim.tags.TagExtractor`, fitted on
the train split only), one label vector per product given to each of its images
(:func:`labelled_images`), a backbone + sigmoid classifier
(:func:`fashionsim.models.multilabel.build_multilabel_classifier`) trained with binary
cross-entropy on augmented, shuffled batches streamed by :func:`fashionsim.images.dataset`, on
the training harness (:mod:`fashionsim.harness`: a checkpoint after every epoch, resume).

:func:`image_vectors` embeds images with the backbone's pooled vector and :func:`cosine_top_k`
finds the most similar ones by chunked matrix products.

* :mod:`~fashionsim.multilabel.labels` — tag vectors per image;
* :mod:`~fashionsim.multilabel.train` — training, checkpoints, :func:`load_multilabel`;
* :mod:`~fashionsim.multilabel.predict` — probabilities, tags, vectors, nearest neighbours.
"""

from __future__ import annotations

from fashionsim.multilabel.labels import LabelledImages, labelled_images
from fashionsim.multilabel.predict import cosine_top_k, image_vectors, predict_proba, predict_tags
from fashionsim.multilabel.train import MODEL_FILE, STATE_FILE, TAGS_FILE, MultilabelRun, load_multilabel, train_multilabel

__all__ = [
    "build_multilabel_classifier", "image_vector_model", "LabelledImages", "labelled_images",
    "MultilabelRun", "train_multilabel", "load_multilabel", "predict_proba", "predict_tags",
    "image_vectors", "cosine_top_k", "STATE_FILE", "MODEL_FILE", "TAGS_FILE",
]


def build_multilabel_classifier(n_tags: int, **kwargs):
    """See :func:`fashionsim.models.multilabel.build_multilabel_classifier` (imported lazily: it needs Keras)."""
    from fashionsim.models.multilabel import build_multilabel_classifier as build

    return build(n_tags, **kwargs)


def image_vector_model(classifier):
    """See :func:`fashionsim.models.multilabel.image_vector_model`."""
    from fashionsim.models.multilabel import image_vector_model as cut

    return cut(classifier)
