"""The naive reference implementations the benchmark times ours against and the tests check ours against.

Each re-implements, faithfully and as slowly, what a reference notebook or
article does (a Python loop per anchor, per query, per triplet, per image or
per item), so that ``fashionsim.bench`` can time it beside fashionsim's
vectorised code on the same data, and the tests can check that both give the
same answer. Do not use them for anything else.

* :func:`reference_semihard_negatives`: the per-anchor semi-hard miner
  (against :func:`fashionsim.mining.semihard_negatives`; ``bench.mining``);
* :func:`reference_recall_at_k`: the per-query, per-K recall loop
  (against :func:`fashionsim.metrics.recall_at_k`; ``bench.retrieval``);
* :func:`reference_table`, :func:`reference_triplets`: the article's
  per-triplet pandas sampler (against :func:`fashionsim.triplets.generate`;
  ``bench.triplets``);
* :func:`reference_image`, :func:`reference_batches`: decoding and augmenting
  one image at a time (against :func:`fashionsim.images.dataset`; ``bench.images``);
* :func:`reference_tag_pipeline` and its steps: tags by a TF-IDF fitted per
  item (against :class:`fashionsim.tags.TagExtractor`; ``bench.tags``);
* :func:`reference_user_train`, :func:`reference_sample`, :func:`reference_auc`:
  the BPR sampler and the per-user AUC loop (timed by ``bench.bpr``).

>>> import numpy as np
>>> from fashionsim.mining import semihard_negatives
>>> rng = np.random.default_rng(0)
>>> a, p, labels = rng.normal(size=(30, 4)), rng.normal(size=(30, 4)), rng.integers(0, 10, 30)
>>> bool((reference_semihard_negatives(a, p, labels)[0] == semihard_negatives(a, p, labels)).all())
True
>>> reference_recall_at_k([["a", "b"], ["c", "d"]], [{"b"}, {"x"}], ks=(1, 2))
{1: 0.0, 2: 0.5}
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fashionsim.data.catalog import Catalog

__all__ = [
    "REFERENCE_KS", "reference_semihard_negatives", "reference_recall_at_k", "reference_table", "reference_triplets",
    "reference_image", "reference_batches", "reference_pos", "reference_extract", "reference_top_tags",
    "reference_vocabulary", "reference_top_and_vocab", "reference_tag_pipeline",
    "reference_user_train", "reference_sample", "reference_auc",
]

#: The K of the reference's recall@K table.
REFERENCE_KS = (1, 3, 5, 10, 25, 50, 100)


# ---------------------------------------------------------------------- mining (bench.mining)
def reference_semihard_negatives(anchors: np.ndarray, positives: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    """REFERENCE APPROACH (slow on purpose): the per-anchor loop of the reference notebook.

    Returns (negatives, margins) like ``semihard_negatives(..., return_margins=True)``.
    """
    a = np.asarray(anchors)      # in the embeddings' own dtype (float32 from a Keras model), as the reference
    p = np.asarray(positives)
    labels = np.asarray(labels)
    negatives = np.empty(len(a), dtype=np.int64)
    margins = np.empty(len(a), dtype=np.float64)
    for i in range(len(a)):
        d = np.square(a[i] - p[i]).sum()
        other = (labels != labels[i]).nonzero()[0]
        d_neg = np.square(p[other] - a[i]).sum(axis=1)
        semihard = np.where(d_neg > d)[0]
        j = np.argmax(d_neg) if len(semihard) == 0 else semihard[np.argmin(d_neg[semihard])]
        negatives[i] = other[j]
        margins[i] = d_neg[j] - d
    return negatives, margins


# ---------------------------------------------------------------------- recall@K (bench.retrieval)
def reference_recall_at_k(retrieved: list[list], relevant: list[set], ks=REFERENCE_KS) -> dict[int, float]:
    """REFERENCE APPROACH (slow on purpose): the reference's per-query, per-K recall loop."""
    scores = {k: [] for k in ks}
    for row, rel in zip(retrieved, relevant):
        for k in ks:
            scores[k].append(min(len(set(rel) & set(row[:k])), 1))
    return {k: float(np.mean(v)) for k, v in scores.items()}


# ---------------------------------------------------------------------- triplets (bench.triplets)
# REFERENCE APPROACH (re-implemented for timing only; do not use): the article's per-triplet sampler.
# Per triplet: draw a category and a colour by frequency, filter the whole table for the query group,
# filter again for the negative (same category other colour 30%, else another category) and for the
# positive (same category and colour 10%, else same product), sample a row from each filtered copy,
# append the row with ``DataFrame.loc``; a draw whose filter comes back empty is skipped. Its defects
# (positive may equal the query, a "same colour" positive may be the same product) are kept on purpose.
def reference_table(cat: Catalog) -> pd.DataFrame:
    """The catalog in the article's columns (``_category, _color, _id, _gender, _name``)."""
    t = cat.image_table()
    return pd.DataFrame({"_category": t["category"], "_color": t["color"], "_id": t["product_id"],
                         "_gender": t["gender"], "_name": t["path"]})


def reference_triplets(df: pd.DataFrame, count: int, seed: int = 0) -> pd.DataFrame:
    """The article's sampler, faithfully slow: returns row indices of ``df`` in columns q, p, n."""
    rs, coin = np.random.RandomState(seed), random.Random(seed)
    categories = list(df._category.unique())
    category_probability = np.array([(df["_category"] == c).sum() for c in categories]) / len(df)
    colors = list(df._color.unique())
    color_probability = np.array([(df["_color"] == c).sum() for c in colors]) / len(df)
    triplet = pd.DataFrame(columns=("q", "p", "n"))
    for i in range(count):
        sample_category = rs.choice(categories, p=category_probability)
        sample_color = rs.choice(colors, p=color_probability)
        temp = df[(df._category == sample_category) & (df._color == sample_color)]
        if temp.empty:  # the article: ``except: continue`` around ``temp.sample()``
            continue
        q_row = temp.sample(random_state=rs)
        q_img = q_row.index.values[0]
        if coin.random() < 0.3:
            temp = df[(df._category == sample_category) & (df._color != sample_color)]
        else:
            temp = df[(df._category != sample_category)]
        if temp.empty:
            continue
        n_img = temp.sample(random_state=rs).index.values[0]
        if coin.random() < 0.1:
            temp = df[(df._category == sample_category) & (df._color == sample_color)]
        else:
            temp = df[(df._id == list(q_row["_id"])[0])]
        if temp.empty:
            continue
        p_img = temp.sample(random_state=rs).index.values[0]
        triplet.loc[i] = [q_img, p_img, n_img]
    return triplet


# ---------------------------------------------------------------------- images (bench.images)
def reference_image(path: str, image_size: int, rng: np.random.Generator) -> np.ndarray:
    """One image the reference way: Pillow crop/transpose/resize, then NumPy flip, grayscale and jitter."""
    from PIL import Image

    transposes = [
        Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
    ]
    with Image.open(path) as opened:
        img = opened.convert("RGB")
    width, height = img.size
    img = img.crop((
        int(rng.uniform(0, 0.05) * width), int(rng.uniform(0, 0.05) * height),
        int(rng.uniform(0.95, 1.0) * width), int(rng.uniform(0.95, 1.0) * height),
    ))
    if rng.integers(2) == 0:
        img = img.transpose(transposes[rng.integers(len(transposes))])
    x = np.asarray(img.resize((image_size, image_size)), dtype=np.float32) / 255.0
    if rng.random() < 0.5:
        x = x[:, ::-1]
    grey_weights = np.array([0.299, 0.587, 0.114], np.float32)
    if rng.random() < 0.1:
        x = np.repeat(x @ grey_weights[:, None], 3, axis=2)
    brightness, contrast, saturation = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    x = np.clip(x * brightness, 0, 1)
    mean = (x @ grey_weights).mean()
    x = np.clip((x - mean) * contrast + mean, 0, 1)
    grey = x @ grey_weights[:, None]
    return np.clip((x - grey) * saturation + grey, 0, 1)


def reference_batches(paths: list[str], image_size: int, batch_size: int = 32,
                      seed: int = 0) -> Iterator[np.ndarray]:
    """Batches (B, image_size, image_size, 3) decoded and augmented one image at a time in a Python loop (the reference)."""
    rng = np.random.default_rng(seed)
    for start in range(0, len(paths), batch_size):
        yield np.stack([reference_image(p, image_size, rng) for p in paths[start:start + batch_size]])


# ---------------------------------------------------------------------- tags (bench.tags)
def reference_pos(text: str, tagger) -> list[tuple[str, str]]:
    """The reference's ``nltk.pos_tag(nltk.word_tokenize(text))``: tokenise and tag the whole text."""
    from fashionsim.tags import tokenize

    return [pair for tagged in tagger.tag_sents(tokenize(text)) for pair in tagged]


def reference_extract(text: str, tagger, kind: frozenset[str]) -> list[str]:
    """REFERENCE (slow on purpose): the words of one POS kind; called once for nouns and once for adjectives,
    so each text is tagged twice."""
    return [word.lower() for word, pos in reference_pos(text, tagger) if pos in kind]


def reference_top_tags(words: list[str]) -> list[str]:
    """REFERENCE: a TfidfVectorizer fitted per item on that item's words (fit, then fit_transform again)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    counter = TfidfVectorizer(analyzer="word", stop_words="english")
    try:
        counter.fit(words)
    except ValueError:
        return []
    matrix = counter.fit_transform(words).toarray()
    scores = matrix.sum(axis=1)
    order = np.argsort(scores).flatten()[::-1]
    return list(np.array(words)[order[:10]])


def reference_vocabulary(tag_lists: list[list[str]], n: int) -> np.ndarray:
    """REFERENCE: the n most common tags via np.unique + argpartition."""
    flat = np.concatenate([np.asarray(t, dtype=object) for t in tag_lists if len(t)]).astype(str)
    values, counts = np.unique(flat, return_counts=True)
    n = min(n, len(values) - 1)
    return values[np.argpartition(-counts, kth=n)[:n]]


def reference_top_and_vocab(nouns: list[list[str]], adjectives: list[list[str]]) -> tuple[list, np.ndarray]:
    """REFERENCE: each item's top nouns and adjectives by per-item TF-IDF, kept when among the 25 + 25 most common."""
    top_nouns = [reference_top_tags(ws) for ws in nouns]
    top_adjs = [reference_top_tags(ws) for ws in adjectives]
    vocab = np.concatenate([reference_vocabulary(top_nouns, 25), reference_vocabulary(top_adjs, 25)])
    keep = set(vocab)
    return [[t for t in a + b if t in keep] for a, b in zip(top_nouns, top_adjs)], vocab


def reference_tag_pipeline(texts: list[str], tagger) -> np.ndarray:
    """REFERENCE: descriptions to a label matrix: per-item tagging twice, per-item TF-IDF, ``MultiLabelBinarizer``."""
    from sklearn.preprocessing import MultiLabelBinarizer

    from fashionsim.tags import ADJECTIVE_TAGS, NOUN_TAGS

    nouns = [reference_extract(t, tagger, NOUN_TAGS) for t in texts]
    adjectives = [reference_extract(t, tagger, ADJECTIVE_TAGS) for t in texts]
    item_tags, vocab = reference_top_and_vocab(nouns, adjectives)
    return MultiLabelBinarizer(classes=sorted(set(vocab))).fit_transform(item_tags)


# ------------------------------------------------------------------------------------------ BPR
def reference_user_train(train: sp.csr_matrix) -> dict[int, list[dict[bytes, int]]]:
    """The reference's data layout: per user a list of review dicts ``{b'productid': item}``."""
    return {u: [{b"productid": int(i)} for i in train.indices[train.indptr[u]:train.indptr[u + 1]]]
            for u in range(train.shape[0])}


def reference_sample(user_train: dict, n_items: int, n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """REFERENCE APPROACH (re-implemented faithfully, as slow as it is): one triple per loop iteration.

    A random user, a random item of theirs, then j drawn and re-drawn while it is
    in the list comprehension of the user's items, rebuilt on every test.
    """
    rnd = random.Random(seed)
    users = [u for u in user_train if user_train[u]]
    triples = []
    for _ in range(n):
        u = users[rnd.randrange(len(users))]
        i = user_train[u][rnd.randrange(len(user_train[u]))][b"productid"]
        j = rnd.randrange(n_items)
        while j in [item[b"productid"] for item in user_train[u]]:
            j = rnd.randrange(n_items)
        triples.append((u, i, j))
    return triples


def reference_auc(user_vectors: np.ndarray, item_vectors: np.ndarray, positives: np.ndarray,
                  exclude: sp.csr_matrix, users: np.ndarray) -> float:
    """REFERENCE APPROACH: a Python loop over users, each scored and passed to ``roc_auc_score``."""
    from sklearn.metrics import roc_auc_score

    values = []
    n_items = len(item_vectors)
    for u in users:
        scores = item_vectors @ user_vectors[u]
        keep = np.ones(n_items, dtype=bool)
        keep[exclude.indices[exclude.indptr[u]:exclude.indptr[u + 1]]] = False
        keep[positives[u]] = True
        labels = np.zeros(n_items, dtype=bool)
        labels[positives[u]] = True
        values.append(roc_auc_score(labels[keep], scores[keep]))
    return float(np.mean(values))
