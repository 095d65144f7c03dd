"""Tags from product text: nouns and adjectives, corrected for fashion retail; TF-IDF top tags, a vocabulary.

A text is split into sentences of tokens (:mod:`~fashionsim.tags.tokens`), part-of-speech tagged
(:mod:`~fashionsim.tags.tagger`: NLTK's perceptron tagger when its data is installed, else the
offline Brill tagger), and its nouns and adjectives become candidate tags
(:mod:`~fashionsim.tags.words`) once the tagger's reading is corrected for fashion retail, one
documented rule at a time (:mod:`~fashionsim.tags.rules`: the lexicon of
:mod:`~fashionsim.tags.lexicon` first, compounds, brands left out, filler, normalised spellings).

:class:`TagExtractor` (:mod:`~fashionsim.tags.extractor`) fits ONE TF-IDF over the whole corpus,
merges the spelling variants found in it, drops the stop tags learned from document frequency,
keeps each item's ``top_k`` most important words, and makes the vocabulary of the ``n_nouns``
most common nouns and ``n_adjectives`` most common adjectives among those top words; its
``transform`` is the multilabel matrix (one column per tag). Taught in notebook 01.

>>> extract_nouns("A red cotton dress with long sleeves.")
['cotton', 'dress', 'sleeves']
>>> extract_adjectives("Nike Men's Calf-Length Socks Black")
['calf-length', 'black']
"""

from fashionsim.tags.extractor import TagExtractor, decode_tags
from fashionsim.tags.lexicon import Lexicon, load_lexicon, normalize_tag
from fashionsim.tags.tagger import ADJECTIVE_TAGS, NOUN_TAGS, PROPER_NOUN_TAGS, PosTagger, get_tagger
from fashionsim.tags.tokens import STOPWORDS, tokenize
from fashionsim.tags.words import clear_tag_cache, extract_adjectives, extract_nouns, nouns_and_adjectives, tag_words

__all__ = [
    "STOPWORDS", "NOUN_TAGS", "ADJECTIVE_TAGS", "PROPER_NOUN_TAGS", "PosTagger", "get_tagger", "tokenize",
    "extract_nouns", "extract_adjectives", "nouns_and_adjectives", "tag_words", "clear_tag_cache", "TagExtractor",
    "decode_tags", "Lexicon", "load_lexicon", "normalize_tag",
]
