"""fashionsim.tags corrections, one rule at a time, and the vocabularies they give (notebook 01)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fashionsim import tags
from fashionsim.tags.lexicon import load_lexicon, normalize_tag, singular_candidates, variant_key

sys.path.insert(0, str(Path(__file__).parent))
from test_tags_gold import load_gold  # noqa: E402


def words(text, **options):
    return tags.extract_nouns(text, **options), tags.extract_adjectives(text, **options)


# ------------------------------------------------------------------ the lexicon file
def test_lexicon_is_data_with_one_pos_per_word():
    lex = load_lexicon()
    assert lex.entries["viscose"] == ("noun", "material") and lex.pos("blouses") == "noun"
    assert lex.pos("soft") == "adj" and lex.pos("content") == "stop" and lex.pos("unicorn") is None
    assert ("united", "colors", "of", "benetton") in lex.brands and ("levi", "'s") in lex.brands
    assert lex.canonical["tshirt"] == "t-shirt"
    for word, (pos, _) in lex.entries.items():
        assert word == word.lower() and pos in ("noun", "adj", "stop"), word
    assert load_lexicon() is lex  # read once


def test_lexicon_file_errors_are_clear(tmp_path):
    bad = tmp_path / "lex.tsv"
    bad.write_text("word\tpos\tcategory\tcanonical\nred\tcolour\tcolour\t\n")
    with pytest.raises(ValueError, match=r"lex.tsv:2: pos must be one of"):
        load_lexicon(str(bad))
    bad.write_text("red\tadj\tcolour\t\nred\tnoun\tcolour\t\n")
    with pytest.raises(ValueError, match="both adj and noun"):
        load_lexicon(str(bad))


# ------------------------------------------------------------------ rule 1: the lexicon wins
@pytest.mark.parametrize(("text", "nouns", "adjectives"), [
    ("Airy top with a soft finish.", ["top", "finish"], ["airy", "soft"]),
    ("Tunic in viscose twill with thin straps.", ["tunic", "viscose", "twill", "straps"], ["thin"]),
    ("Casio Classic Digital Black Watch", ["watch"], ["classic", "digital", "black"]),
])
def test_lexicon_corrects_the_tagger(text, nouns, adjectives):
    assert words(text) == (nouns, adjectives)


def test_imperative_opening_is_still_a_verb():
    nouns, _ = words("Check out a pair of navy pants.")
    assert "check" not in nouns and "pants" in nouns
    assert words("Striped sweater in soft wool.") == (["sweater", "wool"], ["striped", "soft"])


# ------------------------------------------------------------------ rule 2: compounds and participles
@pytest.mark.parametrize("compound", ["calf-length", "straight-cut", "slim-fit", "short-sleeved", "round-necked",
                                      "wide-leg", "two-way", "high-waisted"])
def test_hyphenated_compounds_are_adjectives(compound):
    assert words(f"A dress with a {compound} skirt.") == (["dress", "skirt"], [compound])


def test_participle_before_a_noun_is_an_adjective():
    assert words("A sweater with dropped shoulders.") == (["sweater", "shoulders"], ["dropped"])


# ------------------------------------------------------------------ rule 3: brands and proper nouns
def test_brands_and_names_are_left_out_unless_kept():
    text = "United Colors of Benetton Men's Slim Fit Polo Shirt Navy"
    assert words(text) == (["men", "fit", "polo", "shirt"], ["slim", "navy"])
    kept = tags.extract_nouns(text, keep_proper_nouns=True)
    assert {"united", "colors", "benetton"} <= set(kept)
    assert tags.extract_nouns("Velmora Women's Wrap Dress") == ["women", "dress"]  # an unknown brand too
    assert "italy" not in tags.extract_nouns("Made in Italy from soft leather.")


def test_ordinary_word_brands_need_a_capital():
    assert "mango" not in tags.extract_nouns("Mango Satin Slip Skirt Midi")
    assert tags.extract_adjectives("A top, only in black.") == ["black"]
    nouns, _ = words("A scarf by Guess in soft wool.")
    assert "guess" not in nouns and nouns == ["scarf", "wool"]


def test_title_case_is_tagged_in_lower_case():
    assert tags.extract_adjectives("Aurelle Ankle-Length Pleated Skirt Black") == ["ankle-length", "pleated", "black"]


# ------------------------------------------------------------------ rule 4: filler
def test_filler_is_never_a_tag():
    nouns, adjectives = words("Perfect for everyday wear. Content: cotton. A great effect, your favourite piece.")
    assert nouns == ["cotton"] and adjectives == []


# ------------------------------------------------------------------ rule 5: normalised tags
@pytest.mark.parametrize(("word", "tag"), [
    ("shirts", "shirt"), ("T-Shirts", "t-shirt"), ("tshirts", "t-shirt"), ("tshirt", "t-shirt"), ("dresses", "dress"),
    ("hoodies", "hoodie"), ("jeans", "jeans"), ("trousers", "trousers"), ("sleeves", "sleeve"), ("bodies", "body"),
    ("dress", "dress"), ("grey", "grey"), ("gray", "grey"),
])
def test_normalize_tag(word, tag):
    assert normalize_tag(word) == tag


def test_singular_candidates_and_variant_keys():
    assert singular_candidates("pouches") == ["pouch", "pouche"] and singular_candidates("dress") == []
    assert variant_key("T-Shirts") == variant_key("tshirt") == "tshirt"
    assert tags.extract_nouns("Two T-Shirts and shirts.", normalize=True) == ["t-shirt", "shirt"]


# ------------------------------------------------------------------ per text and in batch
def test_plain_reading_is_the_reference_nn_jj():
    text = "Nike Men's Soft Calf-Length Socks"
    plain = tags.nouns_and_adjectives([text], plain=True)
    assert "nike" in plain.nouns.iat[0]
    assert words(text) == (["men", "socks"], ["soft", "calf-length"])


def test_per_text_calls_agree_with_the_batch_form():
    from fashionsim.tags import words as tags  # holds the per-text cache
    texts = [r["text"] for r in load_gold()]
    batch = tags.nouns_and_adjectives(texts)
    tags._tag_words_cached.cache_clear()
    assert [tags.extract_nouns(t) for t in texts] == batch.nouns.tolist()
    assert [tags.extract_adjectives(t) for t in texts] == batch.adjectives.tolist()
    out = tags.extract_nouns(texts[0])
    out.append("x")  # callers get their own lists, the cache is not touched
    assert tags.extract_nouns(texts[0]) == batch.nouns.iat[0]
    assert tags.extract_nouns(texts[0], tagger=tags.get_tagger()) == batch.nouns.iat[0]


# ------------------------------------------------------------------ TagExtractor: variants and stop tags
def test_extractor_merges_variants_found_in_the_corpus():
    corpus = ["A red shirt.", "Two blue shirts.", "A white T-shirt.", "A black tshirt.", "Grey tshirts.",
              "A dress with long sleeves."]
    ex = tags.TagExtractor(top_k=5, n_nouns=10, n_adjectives=10).fit(corpus)
    assert ex.variants_ == {"shirts": "shirt", "tshirt": "t-shirt", "tshirts": "t-shirt"}
    assert {"shirt", "t-shirt", "sleeves"} <= set(ex.classes_)  # "sleeves" has no variant here: kept as written
    assert not {"shirts", "tshirt", "tshirts"} & set(ex.classes_)
    assert ex.tags(["Three tshirts."]) == [["t-shirt"]]
    unmerged = tags.TagExtractor(top_k=5, n_nouns=10, n_adjectives=10, normalize=False).fit(corpus)
    assert {"shirts", "tshirt"} <= set(unmerged.classes_)


def test_extractor_learns_stop_tags_from_document_frequency():
    corpus = [f"A {c} cotton dress. Composition details on the label." for c in ("red", "blue", "green", "black")]
    corpus += ["A white linen shirt.", "A grey wool coat."]
    ex = tags.TagExtractor(top_k=10, n_nouns=10, n_adjectives=10, max_df=0.5).fit(corpus)
    assert "composition" in ex.stop_tags_ and "composition" not in ex.classes_
    assert "dress" in ex.classes_  # lexicon words are never stop tags, however common
    assert ex.vocabulary()["stop_tags"] == sorted(ex.stop_tags_)
    with pytest.raises(ValueError, match="max_df"):
        tags.TagExtractor(max_df=0).fit(corpus)


def _assert_clean_vocabulary(classes, brands=()):
    keys = [variant_key(c) for c in classes]
    duplicates = sorted(c for c, k in zip(classes, keys) if keys.count(k) > 1)
    assert not duplicates, f"plural or hyphen duplicates: {duplicates}"
    lex = load_lexicon()
    brand_words = {w for b in lex.brands for w in b if w.isalpha()} | set(brands)
    brand_words = {w for w in brand_words if lex.pos(w) is None}  # "pepe jeans": jeans stays a tag
    assert not set(classes) & brand_words, sorted(set(classes) & brand_words)


def test_gold_set_vocabulary_has_no_duplicates_or_brands():
    gold = load_gold()
    names = {w for r in gold for w in r["names"] if not w.startswith("~")}
    ex = tags.TagExtractor(top_k=10, n_nouns=50, n_adjectives=50).fit([r["text"] for r in gold])
    _assert_clean_vocabulary(list(ex.classes_), names)


def test_demo_vocabulary_has_no_duplicates_or_brands():
    from fashionsim.data._descriptions import describe
    from fashionsim.data._demo_sampling import sample_products as _sample_products

    _, specs = _sample_products(300, np.random.default_rng(0))
    texts = [describe(s, np.random.default_rng([0, 1, i])) for i, s in enumerate(specs)]
    ex = tags.TagExtractor().fit(texts)
    _assert_clean_vocabulary(list(ex.classes_))
    assert not set(ex.classes_) & load_lexicon().stop_words
