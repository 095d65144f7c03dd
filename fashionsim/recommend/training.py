"""Training BPR models — DVBPR (three encoders) and BPR-MF — on the training harness: the public names.

Every epoch draws fresh triples (u, i, j) with :class:`BPRSampler` from a generator seeded by
``(seed, epoch)`` — so a resumed run samples exactly what an uninterrupted one would — feeds
them as batches (item pictures gathered from an in-memory array or a memory-mapped picture
file, or cached encoder features), takes the epoch's steps, then measures the validation AUC
over *all* items every ``eval_every`` epochs. The model of the best validation epoch is kept;
without validation interactions, the last (``result.selection``). Each epoch logs a line
(loss, validation AUC, seconds) to this module's logger. BPR-MF trains in NumPy
(:mod:`fashionsim.recommend.mf`), DVBPR in Keras. With ``out_dir`` each epoch writes a
checkpoint folder atomically; the end writes the best model, its item embeddings and
``meta.json``. Taught in notebook 04; the ``fashionsim train dvbpr`` command calls
:func:`train_dvbpr`.

Where things live: :mod:`~fashionsim.recommend.dvbpr_training` (:func:`train_dvbpr`),
:mod:`~fashionsim.recommend.dvbpr_models` (the models per variant),
:mod:`~fashionsim.recommend.bpr_mf_training` (:func:`train_bpr_mf`),
:mod:`~fashionsim.recommend.bpr_epochs` (the shared epoch, :class:`BPRResult`),
:mod:`~fashionsim.recommend.steps` (how a batch meets the encoder),
:mod:`~fashionsim.recommend.pictures` (:class:`PictureCache`),
:mod:`~fashionsim.recommend.persist` (:func:`save_dvbpr`, :func:`load_dvbpr`).
"""

from __future__ import annotations

from fashionsim.recommend.bpr_epochs import CATALOG_PASS_MAX_ITEMS, VARIANTS, BPRResult
from fashionsim.recommend.bpr_mf_training import _keras_bpr_mf, train_bpr_mf
from fashionsim.recommend.dvbpr_training import train_dvbpr
from fashionsim.recommend.persist import LoadedDVBPR, load_dvbpr, save_dvbpr
from fashionsim.recommend.pictures import PictureCache

__all__ = ["BPRResult", "LoadedDVBPR", "VARIANTS", "CATALOG_PASS_MAX_ITEMS", "PictureCache", "train_dvbpr",
           "train_bpr_mf", "save_dvbpr", "load_dvbpr", "_keras_bpr_mf"]
