"""Tags from product descriptions: nouns and adjectives, TF-IDF top tags, a label vocabulary.

A description is split into sentences, tokenised with NLTK's Treebank
tokenizer and part-of-speech tagged; nouns and adjectives become candidate
tags. :class:`TagExtractor` fits ONE TF-IDF over the whole corpus, keeps each
item's ``top_k`` most important words, and makes the vocabulary of the
``n_nouns`` most common nouns and ``n_adjectives`` most common adjectives among
those top words; its ``transform`` is the multilabel matrix (one column per
tag). Taught in notebook 01.

POS tagger, in order of preference (``tagger="auto"``):

1. NLTK's averaged perceptron tagger (Penn tags), when its data is installed
   (``python -m nltk.downloader averaged_perceptron_tagger_eng``);
2. the offline Brill tagger trained on UD English-EWT shipped by the PyPI
   package ``brill-postagger`` (universal tags; ``pip install brill-postagger``);
3. otherwise a ``LookupError`` that says how to install either.

>>> extract_nouns("A red cotton dress with long sleeves.")        # doctest: +SKIP
['cotton', 'dress', 'sleeves']
>>> extract_adjectives("A red cotton dress with long sleeves.")   # doctest: +SKIP
['red', 'long']
"""

from __future__ import annotations

import dataclasses
import functools
import re
import warnings
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "STOPWORDS", "NOUN_TAGS", "ADJECTIVE_TAGS", "PosTagger", "get_tagger", "tokenize",
    "extract_nouns", "extract_adjectives", "nouns_and_adjectives", "TagExtractor", "decode_tags",
    "plot_tag_frequencies",
]

# A small English stopword list (NLTK's stopwords corpus needs a download).
STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either etc few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just least less
made make many may me might more most much must my myself neither no nor not now of off on once only or
other our ours ourselves out over own per same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up upon us very via was we were
what when where which while who whom why will with within without would yet you your yours yourself
yourselves one two three four five six seven eight nine ten new
""".split())

#: POS tags read as nouns / adjectives: Penn Treebank (perceptron) and universal (Brill) tag sets.
NOUN_TAGS: frozenset[str] = frozenset({"NN", "NNS", "NNP", "NNPS", "NOUN", "PROPN"})
ADJECTIVE_TAGS: frozenset[str] = frozenset({"JJ", "JJR", "JJS", "ADJ"})

_INSTALL_HINT = (
    "no part-of-speech tagger is available. Install one of: NLTK's perceptron tagger data "
    "(python -m nltk.downloader averaged_perceptron_tagger_eng), or the offline Brill tagger "
    "(pip install brill-postagger)."
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|[\r\n]+")


# --------------------------------------------------------------------------- tagger
@dataclasses.dataclass(frozen=True)
class PosTagger:
    """A loaded part-of-speech tagger: ``name`` (``perceptron``|``brill``), its tag set, the NLTK model."""

    name: str
    tagset: str
    model: Any = dataclasses.field(repr=False, compare=False)

    def tag_sents(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, str]]]:
        """Tag tokenised sentences: ``[["red", "dress"]] -> [[("red", "ADJ"), ("dress", "NOUN")]]``."""
        return self.model.tag_sents([list(s) for s in sentences])


def _perceptron_tagger() -> PosTagger:
    import nltk

    nltk.data.find("taggers/averaged_perceptron_tagger_eng/")  # LookupError when missing; never downloads
    from nltk.tag.perceptron import PerceptronTagger

    return PosTagger("perceptron", "penn", PerceptronTagger(lang="eng"))


def _brill_model_file():
    """The pickled English Brill tagger inside the installed ``brill_postaggers`` package."""
    import importlib.resources

    resource = importlib.resources.files("brill_postaggers").joinpath("en_ewt-ud-brill.pkl")
    if not resource.is_file():
        raise FileNotFoundError(f"the brill-postagger package has no English model at {resource}")
    return resource


def _brill_tagger() -> PosTagger:
    import pickle

    import nltk  # noqa: F401 - the pickle holds nltk classes

    # The model file is part of an installed package (trusted code on this machine), not a download.
    with _brill_model_file().open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301
    return PosTagger("brill", "universal", model)


@functools.lru_cache(maxsize=4)
def get_tagger(name: str = "auto") -> PosTagger:
    """Load (once, then cached) the POS tagger ``name``: ``"auto"``, ``"perceptron"`` or ``"brill"``.

    ``"auto"`` takes NLTK's perceptron tagger when its data is installed, else
    the offline Brill tagger, else raises ``LookupError`` with install hints.
    """
    if name not in ("auto", "perceptron", "brill"):
        raise ValueError(f"tagger must be 'auto', 'perceptron' or 'brill', got {name!r}")
    errors = []
    if name in ("auto", "perceptron"):
        try:
            return _perceptron_tagger()
        except (LookupError, ImportError, OSError) as exc:
            if name == "perceptron":
                raise LookupError(
                    "NLTK's perceptron tagger data is not installed "
                    "(python -m nltk.downloader averaged_perceptron_tagger_eng); "
                    "tagger='brill' works offline with pip install brill-postagger"
                ) from exc
            errors.append(f"perceptron: {type(exc).__name__}")
    try:
        return _brill_tagger()
    except (ImportError, OSError) as exc:
        errors.append(f"brill: {type(exc).__name__}: {exc}")
        raise LookupError(f"{_INSTALL_HINT} ({'; '.join(errors)})") from exc


def _resolve(tagger: str | PosTagger) -> PosTagger:
    return tagger if isinstance(tagger, PosTagger) else get_tagger(tagger)


# --------------------------------------------------------------------------- tokens and words
def _check_texts(texts: Iterable[object]) -> list[str]:
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"description at position {i} is {type(text).__name__} ({text!r}), not str; "
                "fill missing descriptions with '' first"
            )
        out.append(text)
    return out


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer()


def tokenize(text: str) -> list[list[str]]:
    """Split ``text`` into sentences (a regex on ``.!?;`` and line breaks) of Treebank tokens."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    tokenizer = _tokenizer()
    sentences = (s.strip() for s in _SENTENCE_END.split(text))
    return [tokens for s in sentences if s for tokens in [tokenizer.tokenize(s)] if tokens]


def _is_word(token: str, stopwords: Collection[str]) -> bool:
    """A tag candidate: letters (any script), inner hyphens/apostrophes allowed, 2+ chars, no stopword."""
    return len(token) > 1 and token.replace("-", "").replace("'", "").isalpha() and token not in stopwords


def nouns_and_adjectives(
    texts: Iterable[str] | pd.Series,
    *,
    tagger: str | PosTagger = "auto",
    stopwords: Collection[str] = STOPWORDS,
    progress: bool = False,
) -> pd.DataFrame:
    """Nouns and adjectives (lower-cased, in text order) of every description.

    Returns a DataFrame with list columns ``nouns`` and ``adjectives``, one row
    per text (index of the Series when given). Each distinct text is tagged
    once, and all sentences go to the tagger in one ``tag_sents`` call per chunk.

    >>> nouns_and_adjectives(["A red dress.", "Blue jeans."]).nouns.tolist()   # doctest: +SKIP
    [['dress'], ['jeans']]
    """
    from fashionsim._progress import progress as _progress

    index = texts.index if isinstance(texts, pd.Series) else None
    values = _check_texts(texts)
    pos = _resolve(tagger)
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    sentences: list[list[str]] = []
    owner: list[int] = []
    for u, text in enumerate(uniques):
        for tokens in tokenize(text):
            sentences.append(tokens)
            owner.append(u)
    nouns: list[list[str]] = [[] for _ in range(len(uniques))]
    adjectives: list[list[str]] = [[] for _ in range(len(uniques))]
    chunk = 2048
    starts = range(0, len(sentences), chunk)
    for start in _progress(starts, enabled=progress, total=len(starts), desc="POS tagging"):
        tagged = pos.tag_sents(sentences[start:start + chunk])
        for u, sentence in zip(owner[start:start + chunk], tagged):
            for token, tag in sentence:
                word = token.lower()
                if tag in NOUN_TAGS and _is_word(word, stopwords):
                    nouns[u].append(word)
                elif tag in ADJECTIVE_TAGS and _is_word(word, stopwords):
                    adjectives[u].append(word)
    return pd.DataFrame(
        {"nouns": [list(nouns[c]) for c in codes], "adjectives": [list(adjectives[c]) for c in codes]},
        index=index,
    )


def extract_nouns(text: str, *, tagger: str | PosTagger = "auto") -> list[str]:
    """The nouns of ``text``, lower-cased, in order (stopwords, numbers and punctuation dropped)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return nouns_and_adjectives([text], tagger=tagger)["nouns"].iat[0]


def extract_adjectives(text: str, *, tagger: str | PosTagger = "auto") -> list[str]:
    """The adjectives of ``text``, lower-cased, in order (stopwords, numbers and punctuation dropped)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return nouns_and_adjectives([text], tagger=tagger)["adjectives"].iat[0]


# --------------------------------------------------------------------------- TF-IDF tags
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

    ``fit`` tags every description, fits a single ``TfidfVectorizer`` over the
    nouns + adjectives of all items, keeps each item's ``top_k`` words by TF-IDF,
    and picks the vocabulary: the ``n_nouns`` nouns and ``n_adjectives``
    adjectives found in the most items' top words (a word's part of speech is
    the one it has most often in the corpus; ties by alphabetical order).
    ``transform`` returns the label matrix (n_items, n_tags) of uint8, columns
    :meth:`get_feature_names_out`, made by a ``MultiLabelBinarizer``.

    Fitted attributes: ``vectorizer_``, ``classes_`` (sorted tags), ``nouns_``,
    ``adjectives_``, ``frequencies_`` (DataFrame tag, pos, n_items: how many
    fitted items have the tag among their top words), ``binarizer_``, ``tagger_``.

    >>> Y = TagExtractor(top_k=10).fit_transform(cat.products.description)   # doctest: +SKIP
    """

    def __init__(self, *, top_k: int = 10, n_nouns: int = 25, n_adjectives: int = 25, tagger: str = "auto") -> None:
        self.top_k = top_k
        self.n_nouns = n_nouns
        self.n_adjectives = n_adjectives
        self.tagger = tagger

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        for name, low in (("top_k", 1), ("n_nouns", 0), ("n_adjectives", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.n_nouns + self.n_adjectives < 1:
            raise ValueError("n_nouns + n_adjectives must be at least 1")

    def _words(self, X) -> pd.DataFrame:
        if isinstance(X, str):
            raise TypeError("X must be a list or Series of descriptions, not one string")
        return nouns_and_adjectives(X, tagger=self.tagger_)

    def _fit_words(self, words: pd.DataFrame) -> list[list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import MultiLabelBinarizer

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
        words = self._words(X)
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


def plot_tag_frequencies(frequencies: pd.DataFrame, *, ax=None, title: str | None = None):
    """Horizontal bars of ``TagExtractor.frequencies_`` (tag, pos, n_items): nouns and adjectives in two colours.

    Returns the Axes; never calls ``plt.show()``.
    """
    import matplotlib.pyplot as plt

    missing = {"tag", "pos", "n_items"} - set(frequencies.columns)
    if missing:
        raise ValueError(f"frequencies needs columns tag, pos, n_items; missing {sorted(missing)}")
    table = frequencies.sort_values(["n_items", "tag"], ascending=[True, False])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.16 * len(table) + 1))
    colours = np.where(table["pos"].to_numpy() == "noun", "tab:blue", "tab:orange")
    ax.barh(np.arange(len(table)), table["n_items"].to_numpy(), color=colours)
    ax.set_yticks(np.arange(len(table)), table["tag"].tolist(), fontsize=7)
    ax.set_xlabel("items with the tag among their top words")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="tab:blue", label="noun"), Patch(color="tab:orange", label="adjective")],
              fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    return ax
