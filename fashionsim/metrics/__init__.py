"""Figures of merit, vectorised: retrieval, ranking (recommendation), classification, verification.

Every function maps rankings, scores and labels to numbers; nothing here reads
a catalog or builds an index (the street-to-shop task of a catalog is
:mod:`fashionsim.retrieval_tasks`, whole evaluations :mod:`fashionsim.evaluation`).

>>> from fashionsim import metrics
>>> metrics.recall_at_k([[1, 2, 3]], [{3}], ks=(1, 3))
{1: 0.0, 3: 1.0}
"""

from fashionsim.metrics import classification, cutoffs, neighbours, ranking, retrieval, verification
from fashionsim.metrics.classification import *  # noqa: F401,F403
from fashionsim.metrics.cutoffs import *  # noqa: F401,F403
from fashionsim.metrics.neighbours import *  # noqa: F401,F403
from fashionsim.metrics.ranking import *  # noqa: F401,F403
from fashionsim.metrics.retrieval import *  # noqa: F401,F403
from fashionsim.metrics.verification import *  # noqa: F401,F403

__all__ = [*classification.__all__, *cutoffs.__all__, *neighbours.__all__, *ranking.__all__, *retrieval.__all__,
           *verification.__all__]
