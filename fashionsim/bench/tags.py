"""Benchmark: tags from descriptions with one corpus-wide TF-IDF vs a TF-IDF fitted per item (the reference).

Both sides get the same generated English descriptions and the same POS
tagger (the one :func:`fashionsim.tags.get_tagger` resolves), measured in one
run. Two rows:

* ``tags: top-10 by TF-IDF`` — from already tagged nouns/adjectives to each
  item's top 10 and the 25 + 25 vocabulary. Ours: one ``TfidfVectorizer`` over
  the corpus and a vectorised per-row ranking. Reference: a vectorizer fitted
  (twice: ``fit`` then ``fit_transform``) per item, once for its nouns and once
  for its adjectives.
* ``tags: descriptions -> label matrix`` — the whole path. Ours:
  ``TagExtractor().fit_transform``. Reference: per item ``extract_nouns`` and
  ``extract_adjs`` (each tokenises and tags the text again), the per-item
  TF-IDF above, then counting and ``MultiLabelBinarizer``. The reference side is in
  :mod:`fashionsim.bench.references`.

* ``tags: per-text vs batch tagging`` — the fashion-aware tagger's two forms on
  the same texts, timed alternately in one run: per-text calls
  (``extract_nouns(t)`` then ``extract_adjectives(t)`` for each text, the call
  cache emptied before every run) and one ``nouns_and_adjectives(texts)`` call;
  ``extra`` has both rates and their ratio (target: per-text at least half the
  batch rate), and the plain NN*/JJ* batch reading for comparison.

Figures are descriptions per second (``extra``). Quick: 50 descriptions;
full: 2,000 (the reference needs minutes for that).
"""

from __future__ import annotations

import numpy as np

from fashionsim.bench._core import BenchRow, median_time, peak_memory_mib
from fashionsim.bench.references import reference_tag_pipeline, reference_top_and_vocab

__all__ = ["run", "make_descriptions"]

_COLOURS = ("red", "blue", "navy", "black", "white", "grey", "green", "yellow", "pink", "beige", "brown", "orange")
_MATERIALS = ("cotton", "linen", "wool", "denim", "leather", "silk", "jersey", "canvas", "velvet", "suede")
_ITEMS = ("dress", "shirt", "skirt", "jacket", "coat", "sweater", "blouse", "scarf", "bag", "hat", "boots", "top")
_DETAILS = ("long sleeves", "short sleeves", "a round collar", "a wide belt", "large pockets", "silver buttons",
            "a hidden zip", "a narrow waist", "a floral print", "thin straps", "a high neck", "a soft lining")
_ADJECTIVES = ("elegant", "casual", "classic", "modern", "comfortable", "light", "warm", "simple", "bold", "slim")
_FILLERS = ("Perfect for everyday wear.", "A wardrobe essential.", "Made to last.", "Simply timeless.",
            "Easy to combine with your favourite pieces.", "Designed for all-day comfort.", "")


def make_descriptions(n: int, seed: int = 0) -> list[str]:
    """``n`` generated English product descriptions (seeded): nouns and adjectives of an imagined item."""
    rng = np.random.default_rng(seed)
    pick = [rng.integers(0, len(words), n) for words in
            (_ADJECTIVES, _COLOURS, _MATERIALS, _ITEMS, _DETAILS, _DETAILS, _FILLERS, _COLOURS)]
    out = []
    for a, c, m, i, d1, d2, f, c2 in zip(*pick):
        article = "An" if _ADJECTIVES[a][0] in "aeiou" else "A"
        out.append(f"{article} {_ADJECTIVES[a]} {_COLOURS[c]} {_MATERIALS[m]} {_ITEMS[i]} with {_DETAILS[d1]} "
                   f"and {_DETAILS[d2]}. The {_COLOURS[c2]} lining is soft. {_FILLERS[f]}".strip())
    return out


# ----------------------------------------------------------------- the benchmark
def run(quick: bool = False) -> list[BenchRow]:
    """Time both tag pipelines on the same descriptions; return two :class:`BenchRow`."""
    from fashionsim.tags import TagExtractor, get_tagger, nouns_and_adjectives

    n = 50 if quick else 2000
    texts = make_descriptions(n, seed=0)
    tagger = get_tagger()
    words = nouns_and_adjectives(texts, tagger=tagger)
    nouns, adjectives = words["nouns"].tolist(), words["adjectives"].tolist()
    repeat = 1 if quick else 3

    def ours_tfidf():  # the TF-IDF step of TagExtractor.fit on the already tagged words
        ex = TagExtractor(tagger=tagger.name)
        ex._check_params()
        ex.tagger_ = tagger
        return ex._fit_words(words)

    ours_s = median_time(ours_tfidf, repeat=repeat)
    ref_s = median_time(lambda: reference_top_and_vocab(nouns, adjectives), repeat=repeat)
    rows = [BenchRow(
        name="tags: top-10 by TF-IDF", size=f"{n} descriptions", ours_s=ours_s, reference_s=ref_s,
        peak_mib=peak_memory_mib(ours_tfidf),
        note="one TfidfVectorizer over the corpus vs one fitted per item (nouns and adjectives separately)",
        extra={"ours_desc_per_s": n / ours_s, "reference_desc_per_s": n / ref_s, "tagger": tagger.name},
    )]

    def ours_all():
        return TagExtractor(tagger=tagger.name).fit_transform(texts)

    ours_s = median_time(ours_all, repeat=repeat)
    ref_s = median_time(lambda: reference_tag_pipeline(texts, tagger), repeat=repeat)
    rows.append(BenchRow(
        name="tags: descriptions -> label matrix", size=f"{n} descriptions", ours_s=ours_s, reference_s=ref_s,
        peak_mib=peak_memory_mib(ours_all),
        note="tagging included; the reference tags every text twice (nouns, then adjectives)",
        extra={"ours_desc_per_s": n / ours_s, "reference_desc_per_s": n / ref_s, "tagger": tagger.name},
    ))
    rows.append(_per_text_row(texts, tagger, repeat=repeat))
    return rows


def _per_text_row(texts: list[str], tagger, *, repeat: int) -> BenchRow:
    """Per-text calls vs the batch call of the tagging pipeline, timed alternately (same machine load)."""
    import statistics
    import time

    from fashionsim import tags

    def per_text():
        tags.clear_tag_cache()  # no help from an earlier run
        for text in texts:
            tags.extract_nouns(text, tagger=tagger.name)
            tags.extract_adjectives(text, tagger=tagger.name)

    def batch():
        tags.nouns_and_adjectives(texts, tagger=tagger)

    def plain():
        tags.nouns_and_adjectives(texts, tagger=tagger, plain=True)

    per_text(), batch()  # warm: lexicon, word tables
    times: dict[str, list[float]] = {"per_text": [], "batch": [], "plain": []}
    for _ in range(max(repeat, 3)):
        for name, fn in (("per_text", per_text), ("batch", batch), ("plain", plain)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    per_text_s, batch_s, plain_s = (statistics.median(times[k]) for k in ("per_text", "batch", "plain"))
    n = len(texts)
    tags.clear_tag_cache()
    return BenchRow(
        name="tags: per-text vs batch tagging", size=f"{n} descriptions", ours_s=per_text_s, reference_s=None,
        peak_mib=peak_memory_mib(batch),
        note=(f"per-text extract_nouns + extract_adjectives: {n / per_text_s:.0f} texts/s; one "
              f"nouns_and_adjectives call: {n / batch_s:.0f} texts/s (same run)"),
        extra={"per_text_desc_per_s": n / per_text_s, "batch_desc_per_s": n / batch_s,
               "per_text_over_batch": batch_s / per_text_s, "plain_batch_desc_per_s": n / plain_s,
               "tagger": tagger.name},
    )
