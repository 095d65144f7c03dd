"""The corrections of the tagger's reading, one small documented rule at a time.

A text is split into sentences, tokenised with NLTK's Treebank tokenizer and
part-of-speech tagged; nouns and adjectives become candidate tags. The
tagger's reading is then corrected, one small documented rule at a time
(:func:`~fashionsim.tags.words.nouns_and_adjectives`, notebook 01 shows before and after):

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
   ``stop`` entries, on top of :data:`~fashionsim.tags.tokens.STOPWORDS`).
5. **Normalised tags** (``normalize=True``): singular, one spelling
   (``"T-Shirts"``, ``"tshirt"`` -> ``"t-shirt"``); see :func:`~fashionsim.tags.lexicon.normalize_tag`.

``plain=True`` gives the reference article's reading instead: every NN* word
a noun and every JJ* word an adjective, proper nouns included.

Rules 1-4 are applied by :func:`read_sentence` to one tagged sentence; rule 5 by
:mod:`~fashionsim.tags.words`. Part of :mod:`fashionsim.tags`.

>>> from fashionsim.tags.lexicon import load_lexicon
>>> from fashionsim.tags.tagger import get_tagger
>>> read_sentence(["Velmora", "Calf-Length", "Socks"], ["PROPN", "PROPN", "NOUN"], True, lex=load_lexicon(),
...               pos=get_tagger(), stopwords=STOPWORDS, keep_proper_nouns=False, plain=False)
[('calf-length', 'adj'), ('socks', 'noun')]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from fashionsim.tags.lexicon import ADJECTIVE_HEADS, Lexicon
from fashionsim.tags.tagger import (
    ADJECTIVE_TAGS,
    AFTER_IMPERATIVE_TAGS,
    NOUN_TAGS,
    PROPER_NOUN_TAGS,
    VERB_TAGS,
    PosTagger,
)
from fashionsim.tags.tokens import STOPWORDS, is_word

__all__ = ["is_title", "read_sentence"]


def is_title(tokens: Sequence[str], stopwords: Collection[str]) -> bool:
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


def read_sentence(tokens: Sequence[str], tags: Sequence[str], title: bool, *, lex: Lexicon, pos: PosTagger,
                   stopwords: Collection[str], keep_proper_nouns: bool, plain: bool) -> list[tuple[str, str]]:
    """(word, "noun"|"adj") of one tagged sentence, in order, corrections applied unless ``plain``."""
    lower = [t.lower() for t in tokens]
    out: list[tuple[str, str]] = []
    if plain:
        for w, tag in zip(lower, tags):
            if tag in NOUN_TAGS and is_word(w, stopwords):
                out.append((w, "noun"))
            elif tag in ADJECTIVE_TAGS and is_word(w, stopwords):
                out.append((w, "adj"))
        return out
    names = _brand_spans(tokens, title, lex, pos)
    if title:
        names = [a or b for a, b in zip(names, _leading_names(tokens, lower, lex))]
    first = next((i for i, t in enumerate(tokens) if t[:1].isalpha()), 0)
    for i, (tok, w, tag) in enumerate(zip(tokens, lower, tags)):
        if not is_word(w, stopwords):
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
            imperative = (tag in VERB_TAGS and i == first and not title and i + 1 < len(tags)
                          and tags[i + 1] in AFTER_IMPERATIVE_TAGS)
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
        elif tag in VERB_TAGS and w.endswith(("ed", "ing")) and i + 1 < len(tags) and (
                tags[i + 1] in NOUN_TAGS or lex.pos(lower[i + 1]) == "noun"):
            out.append((w, "adj"))  # rule 2b: a participle before a noun ("dropped shoulders")
    return out
