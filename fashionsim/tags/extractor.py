"""TagExtractor: product texts -> TF-IDF top tags -> a tag vocabulary -> the multilabel matrix.

Part of :mod:`fashionsim.tags` (import it from there). Taught in notebook 01.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fashionsim.tags.tagger import get_tagger
from fashionsim.tags.words import nouns_and_adjectives
from fashionsim.tags.lexicon import load_lexicon, normalize_tag, variant_key

__all__ = ["TagExtractor", "decode_tags", "learn_variants", "learn_stop_tags"]


def learn_variants(words: Iterable[str], counts: dict[str, int] | None = None) -> dict[str, str]:
    """Spelling variants found together in a corpus -> one tag: ``{"shirts": "shirt", "tshirt": "t-shirt"}``.

    Words sharing a :func:`~fashionsim.tags.lexicon.variant_key` (singular, no
    hyphens) are merged when at least two of them occur; the tag is the
    lexicon's spelling when the key is a lexicon word, else the normalised form
    of the most frequent variant. A word with no variant in the corpus stays as
    it is ("sleeves" alone stays "sleeves").
    """
    lex = load_lexicon()
    counts = counts or {}
    groups: dict[str, list[str]] = {}
    for w in sorted(set(words)):
        groups.setdefault(variant_key(w, lex), []).append(w)
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        forms = [normalize_tag(w, lex) for w in members]
        known = [f for f in forms if lex.lookup(f) is not None]
        tag = known[0] if known else normalize_tag(max(members, key=lambda w: (counts.get(w, 0), w)), lex)
        out.update({w: tag for w in members if w != tag})
    return out


def learn_stop_tags(docs: Sequence[Sequence[str]], max_df: float) -> set[str]:
    """Words in more than ``max_df`` of the documents that are not lexicon words: corpus filler ("content").

    Garment, material, colour ... words of the lexicon are never stop tags, however common.
    """
    lex = load_lexicon()
    n = len(docs)
    df: dict[str, int] = {}
    for doc in docs:
        for w in set(doc):
            df[w] = df.get(w, 0) + 1
    return {w for w, k in df.items() if k > max_df * n and lex.pos(w) not in ("noun", "adj")}

def _identity(words: list[str]) -> list[str]:
    return words


def _ranked(matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``k`` largest entries of a CSR matrix, best first; ties by column."""
    matrix = matrix.tocsr()
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], counts)
    keep = rank < k
    return rows[order][keep], matrix.indices[order][keep]


class TagExtractor(TransformerMixin, BaseEstimator):
    """Descriptions → multilabel tag matrix, with one TF-IDF fitted over the whole corpus.

    ``fit`` tags every description (:func:`~fashionsim.tags.nouns_and_adjectives`,
    brands left out unless ``keep_proper_nouns``), merges the spelling variants
    found in the corpus (``normalize``: shirt/shirts, t-shirt/tshirt; see
    :func:`learn_variants`), drops the stop tags (words in more than ``max_df``
    of the items that are not lexicon words; see :func:`learn_stop_tags`), fits
    a single ``TfidfVectorizer`` over the
    nouns + adjectives of all items, keeps each item's ``top_k`` words by TF-IDF,
    and picks the vocabulary: the ``n_nouns`` nouns and ``n_adjectives``
    adjectives found in the most items' top words (a word's part of speech is
    the one it has most often in the corpus; ties by alphabetical order).
    ``transform`` returns the label matrix (n_items, n_tags) of uint8, columns
    :meth:`get_feature_names_out`, made by a ``MultiLabelBinarizer``.

    Fitted attributes: ``vectorizer_``, ``classes_`` (sorted tags), ``nouns_``, ``variants_`` (dict word ->
    tag), ``stop_tags_`` (frozenset),
    ``adjectives_``, ``frequencies_`` (DataFrame tag, pos, n_items: how many
    fitted items have the tag among their top words), ``binarizer_``, ``tagger_``.

    >>> texts = ["A red cotton dress.", "A blue cotton shirt.", "A red wool skirt.", "A blue denim skirt."]
    >>> extractor = TagExtractor(top_k=3, n_nouns=2, n_adjectives=2).fit(texts)
    >>> extractor.get_feature_names_out().tolist()
    ['blue', 'cotton', 'red', 'skirt']
    >>> extractor.transform(texts[:2]).tolist()
    [[0, 1, 1, 0], [1, 1, 0, 0]]
    """

    def __init__(self, *, top_k: int = 10, n_nouns: int = 25, n_adjectives: int = 25, tagger: str = "auto",
                 normalize: bool = True, max_df: float = 0.3, keep_proper_nouns: bool = False) -> None:
        self.top_k = top_k
        self.n_nouns = n_nouns
        self.n_adjectives = n_adjectives
        self.tagger = tagger
        self.normalize = normalize
        self.max_df = max_df
        self.keep_proper_nouns = keep_proper_nouns

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        for name, low in (("top_k", 1), ("n_nouns", 0), ("n_adjectives", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.n_nouns + self.n_adjectives < 1:
            raise ValueError("n_nouns + n_adjectives must be at least 1")
        if isinstance(self.max_df, bool) or not isinstance(self.max_df, (int, float)) or not 0 < self.max_df <= 1:
            raise ValueError(f"max_df must be a fraction in (0, 1], got {self.max_df!r}")

    def _words(self, X) -> pd.DataFrame:
        if isinstance(X, str):
            raise TypeError("X must be a list or Series of descriptions, not one string")
        return nouns_and_adjectives(X, tagger=self.tagger_, keep_proper_nouns=self.keep_proper_nouns)

    def _clean(self, words: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted variants and stop tags to tagged words."""
        variants, stop = self.variants_, self.stop_tags_

        def fix(ws: list[str]) -> list[str]:
            return [t for t in (variants.get(w, w) for w in ws) if t not in stop]

        return pd.DataFrame({"nouns": [fix(ws) for ws in words["nouns"]],
                             "adjectives": [fix(ws) for ws in words["adjectives"]]}, index=words.index)

    def _learn_cleaning(self, words: pd.DataFrame) -> pd.DataFrame:
        all_words = [w for col in ("nouns", "adjectives") for ws in words[col] for w in ws]
        counts = pd.Series(all_words, dtype=object).value_counts().to_dict() if all_words else {}
        self.variants_ = learn_variants(counts, counts) if self.normalize else {}
        self.stop_tags_ = frozenset()
        merged = self._clean(words)
        docs = [n + a for n, a in zip(merged["nouns"], merged["adjectives"])]
        self.stop_tags_ = frozenset(learn_stop_tags(docs, float(self.max_df)))
        return self._clean(words)

    def _fit_words(self, words: pd.DataFrame) -> list[list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import MultiLabelBinarizer

        words = self._learn_cleaning(words)
        docs = [n + a for n, a in zip(words["nouns"], words["adjectives"])]
        vectorizer = TfidfVectorizer(analyzer=_identity)
        try:
            tfidf = vectorizer.fit_transform(docs)
        except ValueError as exc:
            raise ValueError(f"no nouns or adjectives found in any of the {len(docs)} descriptions") from exc
        terms = vectorizer.get_feature_names_out()
        vocab = vectorizer.vocabulary_
        noun_counts = np.bincount([vocab[w] for ws in words["nouns"] for w in ws], minlength=len(terms))
        adj_counts = np.bincount([vocab[w] for ws in words["adjectives"] for w in ws], minlength=len(terms))
        is_noun = noun_counts >= adj_counts
        rows, cols = _ranked(tfidf, self.top_k)
        n_items = np.bincount(cols, minlength=len(terms))

        def most_common(mask: np.ndarray, n: int) -> np.ndarray:
            idx = np.flatnonzero(mask & (n_items > 0))
            idx = idx[np.lexsort((terms[idx], -n_items[idx]))]  # count desc, then alphabetical
            return idx[:n]

        noun_idx, adj_idx = most_common(is_noun, self.n_nouns), most_common(~is_noun, self.n_adjectives)
        chosen = np.concatenate([noun_idx, adj_idx])
        self.vectorizer_ = vectorizer
        self.nouns_ = terms[noun_idx].astype(object)
        self.adjectives_ = terms[adj_idx].astype(object)
        self.classes_ = np.sort(terms[chosen]).astype(object)
        self.frequencies_ = pd.DataFrame({
            "tag": terms[chosen].astype(object),
            "pos": np.where(is_noun[chosen], "noun", "adjective"),
            "n_items": n_items[chosen],
        }).sort_values(["n_items", "tag"], ascending=[False, True], ignore_index=True)
        self.binarizer_ = MultiLabelBinarizer(classes=list(self.classes_)).fit([])
        self._term_to_class = np.full(len(terms), -1)
        self._term_to_class[chosen] = np.searchsorted(self.classes_, terms[chosen])
        return self._tags_from_ranked(rows, cols, len(docs))

    def _tags_from_ranked(self, rows: np.ndarray, cols: np.ndarray, n: int) -> list[list[str]]:
        keep = self._term_to_class[cols] >= 0
        terms = self.vectorizer_.get_feature_names_out()
        out: list[list[str]] = [[] for _ in range(n)]
        for r, word in zip(rows[keep].tolist(), terms[cols[keep]].tolist()):
            out[r].append(word)
        return out

    def _tags_of_words(self, words: pd.DataFrame) -> list[list[str]]:
        words = self._clean(words)
        docs = [n + a for n, a in zip(words["nouns"], words["adjectives"])]
        rows, cols = _ranked(self.vectorizer_.transform(docs), self.top_k)
        return self._tags_from_ranked(rows, cols, len(docs))

    def fit(self, X: Iterable[str] | pd.Series, y: None = None) -> TagExtractor:
        """Fit the TF-IDF and the vocabulary on descriptions ``X`` (list or Series of str)."""
        self._check_params()
        self.tagger_ = get_tagger(self.tagger)
        self._fit_words(self._words(X))
        return self

    def fit_transform(self, X: Iterable[str] | pd.Series, y: None = None, **fit_params) -> np.ndarray:
        """``fit(X).transform(X)``, tagging ``X`` once."""
        self._check_params()
        self.tagger_ = get_tagger(self.tagger)
        return self.encode(self._fit_words(self._words(X)))

    # ------------------------------------------------------------------ using
    def top_tags(self, X: Iterable[str] | pd.Series) -> list[list[str]]:
        """Each item's ``top_k`` nouns/adjectives by TF-IDF (best first), before the vocabulary filter."""
        check_is_fitted(self, "vectorizer_")
        words = self._clean(self._words(X))
        docs = [n + a for n, a in zip(words["nouns"], words["adjectives"])]
        rows, cols = _ranked(self.vectorizer_.transform(docs), self.top_k)
        terms = self.vectorizer_.get_feature_names_out()
        out: list[list[str]] = [[] for _ in range(len(docs))]
        for r, word in zip(rows.tolist(), terms[cols].tolist()):
            out[r].append(word)
        return out

    def tags(self, X: Iterable[str] | pd.Series) -> list[list[str]]:
        """Each item's top tags that are in the vocabulary (best TF-IDF first)."""
        check_is_fitted(self, "vectorizer_")
        return self._tags_of_words(self._words(X))

    def transform(self, X: Iterable[str] | pd.Series) -> np.ndarray:
        """The label matrix (n_items, n_tags) uint8 of :meth:`tags`; columns :meth:`get_feature_names_out`."""
        return self.encode(self.tags(X))

    def encode(self, tag_lists: Iterable[Iterable[str]]) -> np.ndarray:
        """Tag lists → label matrix (n, n_tags) uint8 with the fitted ``MultiLabelBinarizer``.

        Like ``MultiLabelBinarizer``, tags outside the vocabulary are ignored
        with one warning that names them.
        """
        check_is_fitted(self, "binarizer_")
        known = set(self.classes_)
        tag_lists = [list(t) for t in tag_lists]
        unknown = sorted({t for tags in tag_lists for t in tags} - known)
        if unknown:
            warnings.warn(f"{len(unknown)} tag(s) not in the vocabulary ignored: {unknown[:10]}", UserWarning,
                          stacklevel=2)
            tag_lists = [[t for t in tags if t in known] for tags in tag_lists]
        return self.binarizer_.transform(tag_lists).astype(np.uint8)

    def inverse_transform(self, Y: np.ndarray) -> list[tuple[str, ...]]:
        """Label matrix (n, n_tags) of 0/1 → the tags of each row (alphabetical)."""
        check_is_fitted(self, "binarizer_")
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[1] != len(self.classes_):
            raise ValueError(f"Y must be (n, {len(self.classes_)}), got {Y.shape}")
        return self.binarizer_.inverse_transform(Y)

    def get_feature_names_out(self, input_features: None = None) -> np.ndarray:
        """The tag vocabulary (sorted), i.e. the columns of :meth:`transform`."""
        check_is_fitted(self, "classes_")
        return np.asarray(self.classes_, dtype=object)

    def vocabulary(self) -> dict:
        """The fitted vocabulary as JSON-ready data: params, classes, nouns, adjectives, frequencies."""
        check_is_fitted(self, "classes_")
        return {
            "params": self.get_params(),
            "classes": [str(t) for t in self.classes_],
            "nouns": [str(t) for t in self.nouns_],
            "adjectives": [str(t) for t in self.adjectives_],
            "n_items": {str(t): int(n) for t, n in zip(self.frequencies_["tag"], self.frequencies_["n_items"])},
            "tagger": self.tagger_.name,
            "variants": dict(sorted(self.variants_.items())),
            "stop_tags": sorted(self.stop_tags_),
        }


def decode_tags(
    probabilities: np.ndarray,
    classes: Sequence[str],
    *,
    top_k: int | None = 3,
    threshold: float | None = None,
) -> list[list[str]]:
    """Probabilities (n, n_tags) → each row's tag names, most probable first.

    Keeps the ``top_k`` most probable tags (``None``: all), and of those only
    the ones with probability ``>= threshold`` (``None``: no threshold). Ties
    are broken by column order.

    >>> decode_tags(np.array([[0.1, 0.9, 0.6]]), ["a", "b", "c"], top_k=2)
    [['b', 'c']]
    """
    p = np.asarray(probabilities, dtype=float)
    if p.ndim == 1:
        p = p[None, :]
    classes = np.asarray(list(classes), dtype=object)
    if p.ndim != 2 or p.shape[1] != len(classes):
        raise ValueError(f"probabilities must be (n, {len(classes)}), got {np.shape(probabilities)}")
    if top_k is None and threshold is None:
        raise ValueError("give top_k, threshold or both")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    order = np.argsort(-p, axis=1, kind="stable")[:, : (top_k or p.shape[1])]
    keep = np.take_along_axis(p, order, axis=1) >= (threshold if threshold is not None else -np.inf)
    return [classes[o[k]].tolist() for o, k in zip(order, keep)]
