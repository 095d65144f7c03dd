"""Tags from product text: nouns and adjectives, corrected for fashion retail; TF-IDF top tags, a vocabulary.

A text is split into sentences, tokenised with NLTK's Treebank tokenizer and
part-of-speech tagged; nouns and adjectives become candidate tags. The
tagger's reading is then corrected, one small documented rule at a time
(:func:`nouns_and_adjectives`, notebook 01 shows before and after):

1. **Lexicon** (``fashionsim/tags/lexicon.tsv``, data not code): garment types,
   parts, materials, fits, patterns, colours, finishes, with the part of speech
   each takes in product text, win over the tagger ("watch", "tunic", "soft",
   "viscose"), except an imperative verb opening a sentence ("Check out ...").
2. **Hyphenated compounds** ending in ``-length``, ``-cut``, ``-fit``, ``-leg``,
   ... or in ``-ed`` (``-sleeved``, ``-necked``) are adjectives; so is a
   participle right before a noun ("dropped shoulders", "shimmering fabric").
3. **Brands and other proper nouns are left out** (``keep_proper_nouns=True``
   keeps them as nouns): the lexicon's brands matched as phrases, words the
   tagger reads as proper nouns, and in title-cased texts ("Velmora Women's
   Wrap Dress") the leading words before the first lexicon word. Title-cased
   sentences are tagged in lower case, where the tagger is not misled.
4. **Filler** ("content", "effect", "favourite") is never a tag (lexicon
   ``stop`` entries, on top of :data:`STOPWORDS`).
5. **Normalised tags** (``normalize=True``): singular, one spelling
   (``"T-Shirts"``, ``"tshirt"`` -> ``"t-shirt"``); see :func:`normalize_tag`.

``plain=True`` gives the reference article's reading instead: every NN* word
a noun and every JJ* word an adjective, proper nouns included.

:class:`TagExtractor` fits ONE TF-IDF over the whole corpus, merges the
spelling variants found in it, drops the stop tags learned from document
frequency, keeps each item's ``top_k`` most important words, and makes the
vocabulary of the ``n_nouns`` most common nouns and ``n_adjectives`` most
common adjectives among those top words; its ``transform`` is the multilabel
matrix (one column per tag). Taught in notebook 01.

POS tagger, in order of preference (``tagger="auto"``), loaded once and cached:

1. NLTK's averaged perceptron tagger (Penn tags), when its data is installed
   (``python -m nltk.downloader averaged_perceptron_tagger_eng``);
2. the offline Brill tagger trained on UD English-EWT shipped by the PyPI
   package ``brill-postagger`` (universal tags; ``pip install brill-postagger``);
3. otherwise a ``LookupError`` that says how to install either.

>>> extract_nouns("A red cotton dress with long sleeves.")        # doctest: +SKIP
['cotton', 'dress', 'sleeves']
>>> extract_adjectives("Nike Men's Calf-Length Socks Black")       # doctest: +SKIP
['calf-length', 'black']
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
    "STOPWORDS", "NOUN_TAGS", "ADJECTIVE_TAGS", "PROPER_NOUN_TAGS", "PosTagger", "get_tagger", "tokenize",
    "extract_nouns", "extract_adjectives", "nouns_and_adjectives", "tag_words", "TagExtractor", "decode_tags",
    "plot_tag_frequencies", "Lexicon", "load_lexicon", "normalize_tag",
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
#: Proper-noun tags (left out unless ``keep_proper_nouns=True``).
PROPER_NOUN_TAGS: frozenset[str] = frozenset({"NNP", "NNPS", "PROPN"})
_VERB_TAGS = frozenset({"VERB", "VB", "VBP", "VBZ", "VBD", "VBG", "VBN", "AUX"})
#: Tags after an imperative verb ("Check out", "Discover the"): particle, preposition, determiner, pronoun.
_AFTER_IMPERATIVE = frozenset({"PRT", "PART", "ADP", "DET", "PRON", "RP", "IN", "DT", "PRP", "PRP$", "TO"})

_INSTALL_HINT = (
    "no part-of-speech tagger is available. Install one of: NLTK's perceptron tagger data "
    "(python -m nltk.downloader averaged_perceptron_tagger_eng), or the offline Brill tagger "
    "(pip install brill-postagger)."
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|[\r\n]+|\s+[|]\s+")
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")  # "White/Black" -> "White / Black"


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

    @functools.cached_property
    def proper_words(self) -> frozenset[str]:
        """Lower-cased words the tagger's own word table knows only as proper nouns ("arizona")."""
        return frozenset(w for w, t in _word_tags(self.model).items() if t and t <= PROPER_NOUN_TAGS)

    @functools.cached_property
    def common_words(self) -> frozenset[str]:
        """Lower-cased words the tagger's word table knows as something other than a proper noun."""
        return frozenset(w for w, t in _word_tags(self.model).items() if t - PROPER_NOUN_TAGS)


def _word_tags(model: Any) -> dict[str, set[str]]:
    """word -> tags from the word tables inside an NLTK tagger (Brill's n-gram chain, the perceptron's tagdict)."""
    out: dict[str, set[str]] = {}
    seen = 0
    node = getattr(model, "_initial_tagger", model)
    while node is not None and seen < 10:
        seen += 1
        table = getattr(node, "tagdict", None)
        if table is None and type(node).__name__ == "UnigramTagger":
            table = getattr(node, "_context_to_tag", None)
        for word, tag in (table or {}).items():
            if isinstance(word, str):
                out.setdefault(word.lower(), set()).add(tag)
        node = getattr(node, "backoff", None)
    return out


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
    sentences = (_SLASH.sub(" / ", s.strip()) for s in _SENTENCE_END.split(text))
    return [tokens for s in sentences if s for tokens in [tokenizer.tokenize(s)] if tokens]


def _is_word(token: str, stopwords: Collection[str]) -> bool:
    """A tag candidate: letters (any script), inner hyphens/apostrophes allowed, 2+ chars, no stopword."""
    return len(token) > 1 and token.replace("-", "").replace("'", "").isalpha() and token not in stopwords



# --------------------------------------------------------------------------- the corrections
from fashionsim.tags.lexicon import ADJECTIVE_HEADS, Lexicon, load_lexicon, normalize_tag  # noqa: E402


def _is_title(tokens: Sequence[str], stopwords: Collection[str]) -> bool:
    """A title-cased sentence ("Velmora Women's Wrap Dress Black"): 3+ content words, 60%+ capitalised."""
    words = [t for t in tokens if len(t) > 1 and t[0].isalpha() and t.lower() not in stopwords]
    if len(words) < 3:
        return False
    return sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _compound_pos(word: str, lex: Lexicon) -> str | None:
    """Hyphenated compounds: ``-length``, ``-cut``, ``-fit``, ..., ``-ed`` are adjectives; ``-<garment>`` nouns."""
    head = word.rsplit("-", 1)[-1]
    if head in ADJECTIVE_HEADS or (head.endswith("ed") and len(head) > 3):
        return "adj"
    if lex.pos(head) == "noun" and lex.category(head) in ("garment", "material"):
        return "noun"  # "mini-skirt", "wool-blend"
    return None


def _brand_spans(tokens: Sequence[str], title: bool, lex: Lexicon, pos: PosTagger) -> list[bool]:
    """Tokens that belong to a brand of the lexicon (longest match first).

    A brand made of ordinary words ("Only", "Guess", "New Look") must be
    capitalised, and in a sentence (not a title) must not open it.
    """
    lower = [t.lower() for t in tokens]
    mask = [False] * len(tokens)
    i = 0
    while i < len(tokens):
        for n in range(min(lex.max_brand_len, len(tokens) - i), 0, -1):
            span = tuple(lower[i:i + n])
            if span not in lex.brands:
                continue
            ordinary = all(w in pos.common_words or w in STOPWORDS or lex.pos(w) in ("noun", "adj", "stop")
                           or not w.isalpha() for w in span)
            if ordinary and (not tokens[i][:1].isupper() or (i == 0 and not title)):
                continue
            mask[i:i + n] = [True] * n
            i += n - 1
            break
        i += 1
    return mask


def _leading_names(tokens: Sequence[str], lower: Sequence[str], lex: Lexicon) -> list[bool]:
    """In a title, the (up to 3) words before the first lexicon word, number or "-": a brand, a shop, a line."""
    mask = [False] * len(tokens)
    content = 0
    for i, (tok, w) in enumerate(zip(tokens, lower)):
        if any(ch.isdigit() for ch in tok) or tok in ("-", "|", ":", ",", "(", "/"):
            break
        if not any(ch.isalpha() for ch in tok) or tok.startswith("'") or w in ("&", "and", "of", "the", "by"):
            continue
        if lex.pos(w) in ("noun", "adj") or ("-" in w and _compound_pos(w, lex) is not None):
            break
        content += 1
        if content > 3:
            break
        mask[i] = True
    return mask


def _read_sentence(tokens: Sequence[str], tags: Sequence[str], title: bool, *, lex: Lexicon, pos: PosTagger,
                   stopwords: Collection[str], keep_proper_nouns: bool, plain: bool) -> list[tuple[str, str]]:
    """(word, "noun"|"adj") of one tagged sentence, in order, corrections applied unless ``plain``."""
    lower = [t.lower() for t in tokens]
    out: list[tuple[str, str]] = []
    if plain:
        for w, tag in zip(lower, tags):
            if tag in NOUN_TAGS and _is_word(w, stopwords):
                out.append((w, "noun"))
            elif tag in ADJECTIVE_TAGS and _is_word(w, stopwords):
                out.append((w, "adj"))
        return out
    names = _brand_spans(tokens, title, lex, pos)
    if title:
        names = [a or b for a, b in zip(names, _leading_names(tokens, lower, lex))]
    first = next((i for i, t in enumerate(tokens) if t[:1].isalpha()), 0)
    for i, (tok, w, tag) in enumerate(zip(tokens, lower, tags)):
        if not _is_word(w, stopwords):
            continue
        after_by = i > 0 and lower[i - 1] == "by" and tok[:1].isupper()
        if names[i] or after_by:  # rule 3: brands, shop and line names
            if keep_proper_nouns:
                out.append((w, "noun"))
            continue
        entry = lex.pos(w)
        if entry == "stop":  # rule 4: filler
            continue
        if entry in ("noun", "adj"):  # rule 1: the lexicon, except "Check out ..." opening a sentence
            imperative = (tag in _VERB_TAGS and i == first and not title and i + 1 < len(tags)
                          and tags[i + 1] in _AFTER_IMPERATIVE)
            if not imperative:
                out.append((w, entry))
            continue
        if "-" in w:  # rule 2: compounds
            kind = _compound_pos(w, lex)
            if kind is not None:
                out.append((w, kind))
                continue
        proper = tag in PROPER_NOUN_TAGS or (
            (title or (tok[:1].isupper() and i != first)) and w in pos.proper_words)
        if proper:  # rule 3: other proper nouns
            if keep_proper_nouns:
                out.append((w, "noun"))
        elif tag in NOUN_TAGS:
            out.append((w, "noun"))
        elif tag in ADJECTIVE_TAGS:
            out.append((w, "adj"))
        elif tag in _VERB_TAGS and w.endswith(("ed", "ing")) and i + 1 < len(tags) and (
                tags[i + 1] in NOUN_TAGS or lex.pos(lower[i + 1]) == "noun"):
            out.append((w, "adj"))  # rule 2b: a participle before a noun ("dropped shoulders")
    return out


def _analyse(texts: Sequence[str], pos: PosTagger, *, stopwords: Collection[str], keep_proper_nouns: bool,
             normalize: bool, plain: bool, progress: bool = False) -> list[tuple[list[str], list[str]]]:
    """(nouns, adjectives) of each text; all sentences go to the tagger in one ``tag_sents`` call per chunk."""
    from fashionsim._progress import progress as _progress

    lex = load_lexicon()
    stop = frozenset(stopwords) if plain else frozenset(stopwords) | lex.stop_words
    sentences: list[list[str]] = []
    titles: list[bool] = []
    owner: list[int] = []
    for u, text in enumerate(texts):
        for tokens in tokenize(text):
            sentences.append(tokens)
            titles.append(not plain and _is_title(tokens, stop))
            owner.append(u)
    out: list[tuple[list[str], list[str]]] = [([], []) for _ in range(len(texts))]
    chunk = 2048
    starts = range(0, len(sentences), chunk)
    for start in _progress(starts, enabled=progress and len(starts) > 1, total=len(starts), desc="POS tagging"):
        block = sentences[start:start + chunk]
        block_titles = titles[start:start + chunk]
        # title-cased sentences are tagged in lower case: capitals carry no information there
        tagged = pos.tag_sents([[t.lower() for t in s] if tt else s for s, tt in zip(block, block_titles)])
        for u, tokens, title, sentence in zip(owner[start:start + chunk], block, block_titles, tagged):
            nouns, adjectives = out[u]
            for word, kind in _read_sentence(tokens, [t for _, t in sentence], title, lex=lex, pos=pos,
                                             stopwords=stop, keep_proper_nouns=keep_proper_nouns, plain=plain):
                word = normalize_tag(word, lex) if normalize else word
                (nouns if kind == "noun" else adjectives).append(word)
    return out


def nouns_and_adjectives(
    texts: Iterable[str] | pd.Series,
    *,
    tagger: str | PosTagger = "auto",
    stopwords: Collection[str] = STOPWORDS,
    keep_proper_nouns: bool = False,
    normalize: bool = False,
    plain: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Nouns and adjectives (lower-cased, in text order) of every product text.

    Returns a DataFrame with list columns ``nouns`` and ``adjectives``, one row
    per text (index of the Series when given). Each distinct text is tagged
    once. The corrections of the module docstring apply; ``keep_proper_nouns``
    keeps brands and names (as nouns), ``normalize`` returns normalised tags
    (:func:`normalize_tag`), ``plain`` the uncorrected NN*/JJ* reading.

    >>> nouns_and_adjectives(["A red dress.", "Blue jeans."]).nouns.tolist()   # doctest: +SKIP
    [['dress'], ['jeans']]
    """
    index = texts.index if isinstance(texts, pd.Series) else None
    values = _check_texts(texts)
    pos = _resolve(tagger)
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    words = _analyse(list(uniques), pos, stopwords=stopwords, keep_proper_nouns=keep_proper_nouns,
                     normalize=normalize, plain=plain, progress=progress)
    return pd.DataFrame(
        {"nouns": [list(words[c][0]) for c in codes], "adjectives": [list(words[c][1]) for c in codes]},
        index=index,
    )


@functools.lru_cache(maxsize=512)
def _tag_words_cached(text: str, tagger: str, stopwords: frozenset[str], keep_proper_nouns: bool,
                      normalize: bool, plain: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    nouns, adjectives = _analyse([text], get_tagger(tagger), stopwords=stopwords,
                                 keep_proper_nouns=keep_proper_nouns, normalize=normalize, plain=plain)[0]
    return tuple(nouns), tuple(adjectives)


def tag_words(text: str, *, tagger: str | PosTagger = "auto", stopwords: Collection[str] = STOPWORDS,
              keep_proper_nouns: bool = False, normalize: bool = False,
              plain: bool = False) -> tuple[list[str], list[str]]:
    """``(nouns, adjectives)`` of one text: the per-text form of :func:`nouns_and_adjectives`, without pandas.

    The last few hundred texts' results are cached, so ``extract_nouns(t)``
    then ``extract_adjectives(t)`` tag ``t`` once.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    options = dict(keep_proper_nouns=bool(keep_proper_nouns), normalize=bool(normalize), plain=bool(plain))
    if isinstance(tagger, str):
        get_tagger(tagger)  # validates the name, raises LookupError with install hints
        nouns, adjectives = _tag_words_cached(text, tagger, frozenset(stopwords), **options)
        return list(nouns), list(adjectives)
    nouns, adjectives = _analyse([text], tagger, stopwords=stopwords, **options)[0]
    return nouns, adjectives


def extract_nouns(text: str, *, tagger: str | PosTagger = "auto", **options: bool) -> list[str]:
    """The nouns of ``text``, lower-cased, in order (stopwords, filler, brands, numbers, punctuation dropped).

    ``options``: ``keep_proper_nouns``, ``normalize``, ``plain`` as in :func:`nouns_and_adjectives`.
    """
    return tag_words(text, tagger=tagger, **options)[0]


def extract_adjectives(text: str, *, tagger: str | PosTagger = "auto", **options: bool) -> list[str]:
    """The adjectives of ``text``, lower-cased, in order (stopwords, filler, brands, numbers, punctuation dropped).

    ``options``: ``keep_proper_nouns``, ``normalize``, ``plain`` as in :func:`nouns_and_adjectives`.
    """
    return tag_words(text, tagger=tagger, **options)[1]


from fashionsim.tags.extractor import TagExtractor, decode_tags, plot_tag_frequencies  # noqa: E402
