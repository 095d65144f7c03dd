"""fashionsim.tags: POS tagging with the real offline tagger, TF-IDF top tags, the vocabulary, encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fashionsim import tags

PHRASES = [
    # (text, nouns, adjectives): what a correct tagger says; the offline Brill tagger gets these right
    # (it does not always: "Soft grey wool scarf." tags "soft" as a noun and "scarf" as an adjective)
    ("A red cotton dress with long sleeves.", ["cotton", "dress", "sleeves"], ["red", "long"]),
    ("An elegant black jacket with a wide collar.", ["jacket", "collar"], ["elegant", "black", "wide"]),
    ("A long black coat with large pockets.", ["coat", "pockets"], ["long", "black", "large"]),
    ("This blue shirt has short sleeves and a small pocket.", ["shirt", "sleeves", "pocket"],
     ["blue", "short", "small"]),
]


@pytest.fixture(scope="module")
def tagger() -> tags.PosTagger:
    return tags.get_tagger()


def test_auto_tagger_is_a_real_offline_tagger(tagger):
    assert tagger.name in ("perceptron", "brill")
    assert tagger.tagset == ("penn" if tagger.name == "perceptron" else "universal")
    assert tags.get_tagger() is tagger  # loaded once, cached


def test_brill_tagger_tags_real_sentences():
    brill = tags.get_tagger("brill")
    tagged = brill.tag_sents([["A", "red", "dress", "."]])
    assert [t for _, t in tagged[0]] == ["DET", "ADJ", "NOUN", "PUNCT"]


@pytest.mark.parametrize("name", ["auto", "brill"])
@pytest.mark.parametrize(("text", "nouns", "adjectives"), PHRASES)
def test_nouns_and_adjectives_on_fixed_phrases(text, nouns, adjectives, name):
    assert tags.extract_nouns(text, tagger=name) == nouns
    assert tags.extract_adjectives(text, tagger=name) == adjectives


def test_lower_case_stopwords_numbers_punctuation_dropped():
    nouns = tags.extract_nouns("The Dress: 2 Pockets, 100% Cotton!!")
    assert all(w == w.lower() for w in nouns)
    assert not any(ch.isdigit() or ch in "%:!," for w in nouns for ch in w)
    assert "the" not in nouns and "dress" in nouns


@pytest.mark.parametrize("text", ["", "   \n ", "...!!!", "Ein schönes rotes Kleid aus Baumwolle.", "连衣裙 红色",
                                  "Robe élégante à manches longues ; très chic."])
def test_awkward_text_does_not_crash(text):
    out = tags.nouns_and_adjectives([text])
    assert list(out.columns) == ["nouns", "adjectives"]
    assert all(isinstance(w, str) and w == w.lower() for w in out.nouns.iat[0] + out.adjectives.iat[0])


def test_empty_text_gives_no_words():
    assert tags.extract_nouns("") == [] and tags.extract_adjectives("") == []


def test_very_long_text():
    text = "A red cotton dress with long sleeves. " * 3000  # 3000 sentences, ~114k characters
    out = tags.nouns_and_adjectives([text])
    assert out.nouns.iat[0].count("dress") == 3000
    assert out.adjectives.iat[0].count("red") == 3000


def test_batch_form_keeps_series_index_and_matches_single_calls():
    texts = pd.Series([p[0] for p in PHRASES] + [PHRASES[0][0]], index=[10, 11, 12, 13, 14])
    out = tags.nouns_and_adjectives(texts)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out.nouns.tolist() == [p[1] for p in PHRASES] + [PHRASES[0][1]]
    assert out.adjectives.tolist() == [p[2] for p in PHRASES] + [PHRASES[0][2]]
    out.nouns.iat[0].append("x")  # rows are independent lists even for repeated texts
    assert out.nouns.iat[4] == PHRASES[0][1]


def test_non_string_description_is_a_clear_error():
    with pytest.raises(TypeError, match="position 1"):
        tags.nouns_and_adjectives(["a dress", None])
    with pytest.raises(ValueError, match="tagger"):
        tags.get_tagger("spacy")


def test_tagger_resolution_errors(monkeypatch):
    import nltk

    from fashionsim.tags import tagger as tags  # the tagger loaders monkeypatched below live there

    try:
        nltk.data.find("taggers/averaged_perceptron_tagger_eng/")
        has_perceptron = True
    except LookupError:
        has_perceptron = False
    if not has_perceptron:
        with pytest.raises(LookupError, match="nltk.downloader averaged_perceptron_tagger_eng"):
            tags.get_tagger("perceptron")

    # the perceptron tagger, when its data is there, comes first
    fake = tags.PosTagger("perceptron", "penn", model=None)
    monkeypatch.setattr(tags, "_perceptron_tagger", lambda: fake)
    tags.get_tagger.cache_clear()
    try:
        assert tags.get_tagger("auto") is fake
    finally:
        tags.get_tagger.cache_clear()

    def missing():
        raise ImportError("No module named 'brill_postaggers'")

    monkeypatch.setattr(tags, "_brill_model_file", missing)
    monkeypatch.setattr(tags, "_perceptron_tagger", lambda: (_ for _ in ()).throw(LookupError("no data")))
    tags.get_tagger.cache_clear()
    try:
        with pytest.raises(LookupError, match="pip install brill-postagger"):
            tags.get_tagger("auto")
    finally:
        tags.get_tagger.cache_clear()


CORPUS = [
    "A red cotton dress with long sleeves.",
    "A red wool sweater with a round collar.",
    "A blue cotton shirt with short sleeves.",
    "A blue denim jacket with silver buttons.",
    "A red silk dress with a floral pattern.",
    "A black leather jacket with a zip.",
]


def test_tfidf_top_tags_prefer_rare_words():
    from sklearn.feature_extraction.text import TfidfVectorizer

    ex = tags.TagExtractor(top_k=2, n_nouns=10, n_adjectives=10).fit(CORPUS)
    top = ex.top_tags(CORPUS)
    assert all(len(t) == 2 for t in top)
    # "red" and "dress" occur in several items: an item's rarer words outrank them
    assert "red" not in top[4] and "dress" not in top[4]
    # the same ranking computed independently: one vectorizer over the corpus, row by row, ties alphabetical
    words = tags.nouns_and_adjectives(CORPUS)
    docs = [n + a for n, a in zip(words.nouns, words.adjectives)]
    vec = TfidfVectorizer(analyzer=lambda d: d).fit(docs)
    names = vec.get_feature_names_out()
    for i, row in enumerate(vec.transform(docs).toarray()):
        order = sorted(np.flatnonzero(row), key=lambda j: (-row[j], names[j]))[:2]
        assert top[i] == [names[j] for j in order]


def test_vocabulary_most_common_nouns_and_adjectives():
    ex = tags.TagExtractor(top_k=10, n_nouns=2, n_adjectives=2).fit(CORPUS)
    # with top_k=10 every word of these short descriptions is a top word; counts are item counts
    assert list(ex.nouns_) == ["cotton", "dress"]  # cotton 2, dress 2, jacket 2, sleeves 2: ties alphabetical
    assert list(ex.adjectives_) == ["red", "blue"]  # red 3, blue 2
    assert list(ex.get_feature_names_out()) == sorted(["cotton", "dress", "red", "blue"])
    freq = ex.frequencies_.set_index("tag")
    assert freq.loc["red", "n_items"] == 3 and freq.loc["red", "pos"] == "adjective"
    assert freq.loc["dress", "pos"] == "noun"


def test_label_matrix_and_round_trip():
    ex = tags.TagExtractor(top_k=10, n_nouns=3, n_adjectives=2)
    Y = ex.fit_transform(CORPUS)
    assert Y.shape == (len(CORPUS), 5) and Y.dtype == np.uint8
    np.testing.assert_array_equal(Y, ex.transform(CORPUS))
    item_tags = ex.tags(CORPUS)
    assert [set(t) for t in ex.inverse_transform(Y)] == [set(t) for t in item_tags]
    np.testing.assert_array_equal(ex.encode(item_tags), Y)
    classes = list(ex.get_feature_names_out())
    assert Y[0, classes.index("red")] == 1 and Y[2, classes.index("red")] == 0
    with pytest.warns(UserWarning, match=r"not in the vocabulary ignored: \['unicorn'\]"):
        np.testing.assert_array_equal(ex.encode([["unicorn", "red"]]), ex.encode([["red"]]))


def test_extractor_manners():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    ex = tags.TagExtractor(top_k=3)
    assert clone(ex).get_params() == ex.get_params()
    with pytest.raises(NotFittedError):
        ex.transform(CORPUS)
    with pytest.raises(ValueError, match="top_k"):
        tags.TagExtractor(top_k=0).fit(CORPUS)
    with pytest.raises(ValueError, match="no nouns or adjectives"):
        tags.TagExtractor().fit(["", "!!!"])
    with pytest.raises(TypeError, match="one string"):
        tags.TagExtractor().fit("a red dress")


def test_decode_tags_top_k_and_threshold():
    p = np.array([[0.1, 0.9, 0.6, 0.3], [0.8, 0.2, 0.2, 0.1]])
    classes = ["a", "b", "c", "d"]
    assert tags.decode_tags(p, classes, top_k=2) == [["b", "c"], ["a", "b"]]  # tie 0.2/0.2: column order
    assert tags.decode_tags(p, classes, top_k=None, threshold=0.5) == [["b", "c"], ["a"]]
    assert tags.decode_tags(p, classes, top_k=3, threshold=0.25) == [["b", "c", "d"], ["a"]]
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        tags.decode_tags(p, classes[:3])
