"""Nouns and adjectives of product texts: tokenise, tag every sentence at once, correct, normalise.

>>> nouns_and_adjectives(["A red dress.", "Blue jeans."]).nouns.tolist()
[['dress'], ['jeans']]
>>> extract_nouns("A red cotton dress with long sleeves.")
['cotton', 'dress', 'sleeves']
>>> extract_adjectives("Nike Men's Calf-Length Socks Black")
['calf-length', 'black']

The corrections: :mod:`~fashionsim.tags.rules`; the tagger: :mod:`~fashionsim.tags.tagger`.
Part of :mod:`fashionsim.tags`; taught in notebook 01.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence

import pandas as pd

from fashionsim.tags.lexicon import load_lexicon, normalize_tag
from fashionsim.tags.rules import is_title, read_sentence
from fashionsim.tags.tagger import PosTagger, get_tagger, resolve_tagger
from fashionsim.tags.tokens import STOPWORDS, check_texts, tokenize

__all__ = ["nouns_and_adjectives", "tag_words", "extract_nouns", "extract_adjectives", "clear_tag_cache"]


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
            titles.append(not plain and is_title(tokens, stop))
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
            for word, kind in read_sentence(tokens, [t for _, t in sentence], title, lex=lex, pos=pos,
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
    once. The corrections of :mod:`~fashionsim.tags.rules` apply; ``keep_proper_nouns``
    keeps brands and names (as nouns), ``normalize`` returns normalised tags
    (:func:`normalize_tag`), ``plain`` the uncorrected NN*/JJ* reading.
    """
    index = texts.index if isinstance(texts, pd.Series) else None
    values = check_texts(texts)
    pos = resolve_tagger(tagger)
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


def clear_tag_cache() -> None:
    """Forget the per-text results :func:`tag_words` cached (before timing it, or after editing the lexicon)."""
    _tag_words_cached.cache_clear()
