"""Part-of-speech taggers: which one is used, loaded once, and the tag sets read as nouns and adjectives.

Tagger, in order of preference (``tagger="auto"``), loaded once and cached:

1. NLTK's averaged perceptron tagger (Penn tags), when its data is installed
   (``python -m nltk.downloader averaged_perceptron_tagger_eng``);
2. the offline Brill tagger trained on UD English-EWT shipped by the PyPI
   package ``brill-postagger`` (universal tags; ``pip install brill-postagger``);
3. otherwise a ``LookupError`` that says how to install either.

>>> get_tagger().tag_sents([["A", "red", "dress", "."]])[0][1:3]     # the Brill tagger here
[('red', 'ADJ'), ('dress', 'NOUN')]

Part of :mod:`fashionsim.tags`; taught in notebook 01.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

__all__ = [
    "NOUN_TAGS", "ADJECTIVE_TAGS", "PROPER_NOUN_TAGS", "VERB_TAGS", "AFTER_IMPERATIVE_TAGS", "PosTagger",
    "get_tagger", "resolve_tagger",
]

#: POS tags read as nouns / adjectives: Penn Treebank (perceptron) and universal (Brill) tag sets.
NOUN_TAGS: frozenset[str] = frozenset({"NN", "NNS", "NNP", "NNPS", "NOUN", "PROPN"})
ADJECTIVE_TAGS: frozenset[str] = frozenset({"JJ", "JJR", "JJS", "ADJ"})
#: Proper-noun tags (left out unless ``keep_proper_nouns=True``).
PROPER_NOUN_TAGS: frozenset[str] = frozenset({"NNP", "NNPS", "PROPN"})
#: Verb tags (a participle before a noun reads as an adjective; an imperative opens a sentence).
VERB_TAGS: frozenset[str] = frozenset({"VERB", "VB", "VBP", "VBZ", "VBD", "VBG", "VBN", "AUX"})
#: Tags after an imperative verb ("Check out", "Discover the"): particle, preposition, determiner, pronoun.
AFTER_IMPERATIVE_TAGS: frozenset[str] = frozenset({"PRT", "PART", "ADP", "DET", "PRON", "RP", "IN", "DT", "PRP", "PRP$", "TO"})


_INSTALL_HINT = (
    "no part-of-speech tagger is available. Install one of: NLTK's perceptron tagger data "
    "(python -m nltk.downloader averaged_perceptron_tagger_eng), or the offline Brill tagger "
    "(pip install brill-postagger)."
)


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


def resolve_tagger(tagger: str | PosTagger) -> PosTagger:
    """``tagger`` itself when it is a :class:`PosTagger`, else the tagger of that name (:func:`get_tagger`)."""
    return tagger if isinstance(tagger, PosTagger) else get_tagger(tagger)
