"""The siamese trainer, split by job; its public names are those of :mod:`fashionsim.training`.

* :mod:`~fashionsim.siamese.train` — :func:`train_siamese` (arguments, model, resume) on :mod:`fashionsim.harness`;
* :mod:`~fashionsim.siamese.task` — one epoch: train on this epoch's triplets, re-mine, evaluate, checkpoint files;
* :mod:`~fashionsim.siamese.mine` — one semi-hard mining round (:func:`mine_triplets`);
* :mod:`~fashionsim.siamese.evaluate` — street-to-shop recall on a split;
* :mod:`~fashionsim.siamese.model_io` — a bare ``.keras`` model, the checkpoint read back;
* :mod:`~fashionsim.siamese.report` — the epoch line and the collapse warning.
"""
