"""Triplets from catalog metadata: (query, positive, negative) images for deep ranking (DESIGN.md §2).

The four kinds of the deep-ranking article: positive ``same_product`` (another image of the query's
product) or ``same_color`` (another product of its category and colour); negative ``in_class`` (its
category, another colour) or ``out_of_class`` (another category).

* :mod:`~fashionsim.triplets.sampler`: :class:`TripletSampler` (fit once, draw many) and
  :func:`generate`; the rules, fallbacks and missing metadata in full;
* :mod:`~fashionsim.triplets.index`: :class:`TripletIndex`, the vectorised core over integer codes;
* :mod:`~fashionsim.triplets.rules`: :func:`check_rules`, :func:`kind_proportions`,
  :func:`requested_proportions`;
* :mod:`~fashionsim.triplets.files`: :func:`write_triplets`, :func:`read_triplets` (CSV, Parquet,
  chunked), :func:`interleave_paths`.

The ``tf.data`` input for Keras is :func:`fashionsim.triplet_data.triplet_dataset` (TensorFlow floor).

>>> import pandas as pd
>>> from fashionsim.data import Catalog
>>> products = pd.DataFrame({"product_id": [f"p{k}" for k in range(8)], "category": ["dress"] * 4 + ["shoe"] * 4,
...                          "color": ["red", "red", "blue", "blue"] * 2, "gender": "women", "description": "",
...                          "split": "train"})
>>> images = pd.DataFrame({"image_id": [f"i{k}" for k in range(16)], "product_id": [f"p{k // 2}" for k in range(16)],
...                        "path": [f"{k}.png" for k in range(16)], "source": "shop"})
>>> cat = Catalog(products, images)
>>> df = generate(cat, 10_000, seed=0)
>>> df.columns.tolist()
['query', 'positive', 'negative', 'kind']
>>> int(check_rules(cat, df).sum())
0
>>> bool((kind_proportions(df) - requested_proportions()).abs().max() < 0.02)
True

Taught in notebooks/02_triplet_generation.
"""

from fashionsim.triplets.files import FORMATS, ID_COLUMNS, interleave_paths, read_triplets, write_triplets
from fashionsim.triplets.index import BLOCK, FALLBACKS, KINDS, QUERY_WEIGHTINGS, Draw, TripletIndex
from fashionsim.triplets.rules import COLUMNS, check_rules, kind_proportions, requested_proportions
from fashionsim.triplets.sampler import TripletFallbackWarning, TripletSampler, generate

__all__ = [
    "KINDS", "FALLBACKS", "QUERY_WEIGHTINGS", "COLUMNS", "ID_COLUMNS", "FORMATS", "BLOCK",
    "Draw", "TripletFallbackWarning", "TripletIndex", "TripletSampler",
    "generate", "requested_proportions", "kind_proportions", "check_rules",
    "write_triplets", "read_triplets", "interleave_paths",
]
