"""The fashion lexicon: the part of speech words take in product text, brands, filler, one spelling per tag.

The data is ``lexicon.tsv`` next to this module (versioned; edit the file, not
code): one row per word with its ``pos`` (``noun``, ``adj``, ``stop`` or
``brand``), a category (garment, part, material, fit, pattern, colour, finish,
style, audience, occasion, filler, brand) and an optional canonical spelling
(``tshirt -> t-shirt``). Taught in notebook 01.

>>> lex = load_lexicon()
>>> lex.pos("blouses"), lex.pos("calf-length"), normalize_tag("T-Shirts")
('noun', None, 't-shirt')
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
from collections.abc import Iterable, Mapping

__all__ = ["Lexicon", "load_lexicon", "singular_candidates", "normalize_tag", "variant_key", "LEXICON_FILE",
           "ADJECTIVE_HEADS"]

LEXICON_FILE = "lexicon.tsv"
_POS = ("noun", "adj", "stop", "brand")

#: Last parts of hyphenated compounds that make the compound an adjective ("calf-length", "slim-fit",
#: "two-way"); compounds whose last part ends in "-ed" ("short-sleeved", "high-waisted") are adjectives too.
ADJECTIVE_HEADS: frozenset[str] = frozenset("""
length cut fit rise leg toe strap knit sleeve weight tone up free proof resistant repellent dot pocket way
quarter over shoulder coloured colored look style size down
""".split())


def singular_candidates(word: str) -> list[str]:
    """Possible singulars of an English plural, most likely first (``"hoodies" -> ["hoodie", "hoody"]``).

    Empty for words that do not look plural (``"dress"``, ``"chinos"`` is tried as ``"chino"``).
    """
    w = word
    if len(w) < 3 or not w.endswith("s") or w.endswith(("ss", "us", "is")):
        return []
    out = []
    if w.endswith("ies") and len(w) > 4:
        out += [w[:-1], w[:-3] + "y"]           # hoodies -> hoodie, bodies -> body
    elif w.endswith("ves") and len(w) > 4:
        out += [w[:-1], w[:-3] + "f"]           # sleeves -> sleeve, scarves -> scarf
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        out += [w[:-2], w[:-1]]                 # dresses -> dress, pouches -> pouch
    elif w.endswith("es"):
        out += [w[:-1], w[:-2]]                 # shoes -> shoe, heroes -> hero
    else:
        out.append(w[:-1])                      # shirts -> shirt
    return out


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """Lexicon entries: ``entries[word] = (pos, category)``, ``canonical[word]``, ``brands`` as token tuples."""

    entries: Mapping[str, tuple[str, str]]
    canonical: Mapping[str, str]
    brands: frozenset[tuple[str, ...]]
    version: str = "1"

    def lookup(self, word: str) -> str | None:
        """The lexicon form of ``word`` (itself, else its singular when that is an entry), or ``None``."""
        if word in self.entries:
            return word
        for cand in singular_candidates(word):
            if cand in self.entries:
                return cand
        return None

    def pos(self, word: str) -> str | None:
        """``noun``/``adj``/``stop``/``brand`` for a lower-cased word or its singular; ``None`` when unknown."""
        form = self.lookup(word)
        return None if form is None else self.entries[form][0]

    def category(self, word: str) -> str | None:
        form = self.lookup(word)
        return None if form is None else self.entries[form][1]

    @functools.cached_property
    def stop_words(self) -> frozenset[str]:
        """The filler words (``pos == "stop"``): never a noun or adjective tag."""
        return frozenset(w for w, (pos, _) in self.entries.items() if pos == "stop")

    @functools.cached_property
    def max_brand_len(self) -> int:
        return max((len(b) for b in self.brands), default=0)


def _brand_tokens(name: str) -> tuple[str, ...]:
    from fashionsim.tags import tokenize

    return tuple(t.lower() for sent in tokenize(name) for t in sent)


def _parse(lines: Iterable[str], source: str) -> Lexicon:
    entries: dict[str, tuple[str, str]] = {}
    canonical: dict[str, str] = {}
    brands: set[tuple[str, ...]] = set()
    header_seen = False
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            header_seen = True
            if fields[:2] == ["word", "pos"]:
                continue
        if len(fields) < 3:
            raise ValueError(f"{source}:{n}: expected word, pos, category[, canonical], got {line!r}")
        word, pos, category = fields[0].strip().lower(), fields[1].strip(), fields[2].strip()
        if pos not in _POS:
            raise ValueError(f"{source}:{n}: pos must be one of {_POS}, got {pos!r}")
        if pos == "brand":
            brands.add(_brand_tokens(word))
            continue
        if word in entries and entries[word][0] != pos:
            raise ValueError(f"{source}:{n}: {word!r} is both {entries[word][0]} and {pos}")
        entries[word] = (pos, category)
        if len(fields) > 3 and fields[3].strip():
            canonical[word] = fields[3].strip().lower()
    return Lexicon(entries=entries, canonical=canonical, brands=frozenset(b for b in brands if b))


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Read (once, cached) the lexicon shipped in the package, or the TSV at ``path``."""
    if path is None:
        resource = importlib.resources.files("fashionsim.tags").joinpath(LEXICON_FILE)
        with resource.open("r", encoding="utf-8") as handle:
            return _parse(handle, LEXICON_FILE)
    with open(path, encoding="utf-8") as handle:
        return _parse(handle, str(path))


def normalize_tag(word: str, lexicon: Lexicon | None = None) -> str:
    """One spelling per tag: lower case, singular, the lexicon's canonical spelling.

    Words that are lexicon entries as written stay (``"jeans"``, ``"trousers"``);
    other plurals become singular (``"sleeves" -> "sleeve"``, ``"T-Shirts" -> "t-shirt"``).

    >>> normalize_tag("Tshirts")
    't-shirt'
    """
    lex = load_lexicon() if lexicon is None else lexicon
    w = word.lower()
    form = lex.lookup(w)
    if form is None:
        cands = singular_candidates(w)
        form = w if not cands else (cands[1] if w.endswith("ies") else cands[0])  # bodies -> body
    return lex.canonical.get(form, form)


def variant_key(word: str, lexicon: Lexicon | None = None) -> str:
    """The key that spelling variants of one tag share: normalised, without hyphens or spaces."""
    return normalize_tag(word, lexicon).replace("-", "").replace(" ", "")
