"""Texts into sentences of tokens, and which tokens can be tags (letters, 2+ characters, no stopword).

>>> tokenize("A red dress. White/Black straps!")
[['A', 'red', 'dress', '.'], ['White', '/', 'Black', 'straps', '!']]
>>> [w for w in ("a", "red", "x", "2024", "t-shirt") if is_word(w, STOPWORDS)]
['red', 't-shirt']

Part of :mod:`fashionsim.tags`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable

__all__ = ["STOPWORDS", "tokenize", "check_texts", "is_word"]

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

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|[\r\n]+|\s+[|]\s+")
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")  # "White/Black" -> "White / Black"



def check_texts(texts: Iterable[object]) -> list[str]:
    """``texts`` as a list, or a ``TypeError`` naming the position of the first one that is not a str."""
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


def is_word(token: str, stopwords: Collection[str]) -> bool:
    """A tag candidate: letters (any script), inner hyphens/apostrophes allowed, 2+ chars, no stopword."""
    return len(token) > 1 and token.replace("-", "").replace("'", "").isalpha() and token not in stopwords
