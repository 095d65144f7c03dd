"""English product descriptions for the generated demo catalog.

Private helper of :mod:`fashionsim.data.demo`. A description is built from
varied templates, synonyms and filler sentences, but every item-specific noun
and adjective is true of the drawing (:class:`~fashionsim.data._garment_spec.Spec`):
the category word or a synonym of the drawn sub-type, the colour, the
pattern and its second colour, the material, the fit and the drawn details.
Filler sentences ("Perfect for everyday wear.") are shared by all categories,
as in real shop copy; TF-IDF in notebook 01 is there to discount them.
The canonical category word always appears (plural for shoes).
"""

from __future__ import annotations

import numpy as np

from fashionsim.data._garment_spec import Spec

PLURAL_CATEGORY = {
    "t-shirt": "t-shirts", "shirt": "shirts", "dress": "dresses", "skirt": "skirts", "trousers": "trousers",
    "shorts": "shorts", "jacket": "jackets", "shoe": "shoes", "bag": "bags", "hat": "hats",
}
#: Categories whose noun is plural ("a pair of ...").
PLURAL_NOUNS = ("trousers", "shorts", "shoe")

FILLERS = (
    "Perfect for everyday wear.",
    "A wardrobe essential.",
    "Easy to combine with your favourite pieces.",
    "A great choice for the office or the weekend.",
    "Designed for all-day comfort.",
    "An easy pick for any season.",
    "Made to last.",
    "Simply timeless.",
    "A piece you will reach for again and again.",
    "Just add your favourite accessories.",
)
OPENERS = ("Meet", "Discover", "Say hello to", "Introducing", "Check out")
CATALOG_LINES = ("Part of our {} collection.", "Find more {} in the shop.", "One of our favourite {}.")


def _nouns(s: Spec) -> list[str]:
    """Nouns for the drawn item, the canonical one first (plural for paired items)."""
    c, v, m = s.category, s.variant, s.material
    if c == "t-shirt":
        return ["t-shirt", "tee", "top"]
    if c == "shirt":
        return ["shirt", "button-down shirt"] + (["blouse"] if s.gender == "women" else [])
    if c == "dress":
        extra = ["sundress"] if v == "sleeveless" and m in ("cotton", "linen") and s.length != "maxi" else []
        return ["dress", "frock"] + (["maxi dress"] if s.length == "maxi" else []) + extra
    if c == "skirt":
        return ["skirt"] + (["miniskirt"] if s.length == "mini" else [])
    if c == "trousers":
        if m == "denim":
            return ["trousers", "jeans"]
        return ["trousers", "pants"] + (["chinos"] if m == "cotton" and s.fit != "loose" else [])
    if c == "shorts":
        return ["shorts"] + (["denim shorts"] if m == "denim" else [])
    if c == "jacket":
        names = ["jacket"]
        if v == "hood":
            names.append("hooded jacket")
        elif m == "wool":
            names.append("blazer")
        if m == "denim":
            names.append("jean jacket")
        if m == "nylon":
            names.append("windbreaker")
        return names
    if c == "shoe":
        return {"sneaker": ["shoes", "sneakers", "trainers"], "boot": ["shoes", "boots", "ankle boots"],
                "heel": ["shoes", "heels", "pumps", "high heels"]}[v]
    if c == "bag":
        return {"tote": ["bag", "tote", "tote bag"], "shoulder bag": ["bag", "shoulder bag", "handbag"],
                "backpack": ["bag", "backpack", "rucksack"]}[v]
    if c == "hat":
        if v == "brimmed":
            return ["hat", "sun hat"] if m in ("straw", "cotton") else ["hat", "fedora"]
        return {"cap": ["hat", "cap", "baseball cap"], "beanie": ["hat", "beanie", "knit hat"]}[v]
    raise ValueError(f"no nouns for category {c!r}")


def _pattern_words(s: Spec) -> tuple[list[str], list[str]]:
    """(adjectives, 'with ...' phrases) for the pattern; empty phrases for plain."""
    c2 = s.color2
    return {
        "plain": (["plain", "solid"], []),
        "stripes": (["striped"], [f"{c2} stripes", f"thin {c2} stripes" if s.pattern_geom[1] < 0.4 else f"wide {c2} stripes"]),
        "dots": (["polka-dot", "dotted"], [f"{c2} dots", f"{c2} polka dots"]),
        "checks": (["checked", "plaid"], [f"a {c2} check", f"{c2} checks"]),
        "floral": (["floral", "flowered"], [f"a {c2} flower print", f"{c2} flowers"]),
        "chevron": (["zigzag", "chevron"], [f"{c2} zigzag stripes", f"a {c2} chevron pattern"]),
    }[s.pattern]


def _fit_words(s: Spec) -> tuple[list[str], list[str]]:
    """(adjectives, sentences) for the fit; empty for accessories."""
    if s.category == "skirt":
        word = {"slim": "pencil", "regular": "a-line", "loose": "flared"}[s.fit]
        return [word], [f"An {word} shape." if word[0] in "aeiou" else f"A {word} shape."]
    if s.category == "trousers":
        return ({"slim": ["slim", "skinny"], "regular": ["straight-leg", "regular-fit"],
                 "loose": ["wide-leg", "loose"]}[s.fit], [f"Cut {s.fit}."])
    return {
        "slim": (["slim", "slim-fit", "fitted"], ["Cut slim.", "It has a slim fit.", "A fitted cut."]),
        "regular": (["regular-fit", "classic-fit"], ["A regular fit.", "Cut straight."]),
        "loose": (["loose", "relaxed", "oversized"], ["A relaxed, loose fit.", "Cut loose and roomy."]),
    }.get(s.fit, ([], []))


def _details(s: Spec, pick) -> list[str]:
    """Phrases for what is drawn besides the body (each true of the drawing)."""
    c, v, c2 = s.category, s.variant, s.color2
    out: list[str] = []
    if c == "t-shirt":
        out += [pick(["a crew neck", "a round neck"]) if v == "crew neck" else "a v-neck", "short sleeves"]
        if s.has("pocket"):
            out.append("a chest pocket")
    elif c == "shirt":
        out += ["long sleeves", pick(["a pointed collar", "a classic collar"]), f"{c2} buttons"]
        if s.has("pocket"):
            out.append("a chest pocket")
    elif c == "jacket":
        out.append("long sleeves")
        out.append(pick(["a hood", "a drawstring hood"]) if v == "hood" else pick(["lapels", "notch lapels"]))
        out.append(pick(["a zip", "a zip front"]) if s.has("zip") else f"{c2} buttons")
        if s.has("pockets"):
            out.append(pick(["flap pockets", "two pockets"]))
    elif c == "dress":
        out.append(pick(["thin straps", "no sleeves"]) if v == "sleeveless" else "short sleeves")
        if s.has("belt"):
            out.append(pick([f"a {c2} belt", f"a belted waist in {c2}"]))
    elif c == "skirt":
        out.append(pick(["a waistband", f"a {c2} button"]))
        if s.has("pleats"):
            out.append("pleats")
    elif c in ("trousers", "shorts"):
        out += ["a waistband", pick(["side pockets", "slanted pockets"])]
        if c == "trousers":
            out.append(pick(["a fly front", "a zip fly"]))
        if s.has("cuffs"):
            out.append(pick(["turn-up cuffs", "rolled cuffs"]))
        if s.has("drawstring"):
            out.append(f"a {c2} drawstring")
    elif c == "shoe":
        if v == "heel":
            out += [pick(["a high heel", "a stiletto heel"]), "a pointed toe"]
        else:
            out += ["laces", pick([f"a {c2} sole", f"a {c2} rubber sole"])]
            out.append("a toe cap" if v == "sneaker" else pick(["a high shaft", "an ankle shaft"]))
    elif c == "bag":
        out.append({"tote": pick(["two handles", "top handles"]), "shoulder bag": pick(["a long strap", "a shoulder strap"]),
                    "backpack": pick(["a top handle", "a front pocket"])}[v])
        if v == "shoulder bag":
            out.append(pick(["a flap", "a front flap"]))
        if s.has("buckle"):
            out.append(pick(["a gold buckle", "a metal buckle"]))
    elif c == "hat":
        if v == "brimmed":
            out.append("a wide brim")
            if s.has("band"):
                out.append(pick([f"a {c2} band", f"a {c2} ribbon"]))
        elif v == "cap":
            out += [pick(["a visor", "a curved peak"]), f"a {c2} button"]
        else:
            out.append(pick(["a ribbed cuff", "a turn-up cuff"]))
            if s.has("pompom"):
                out.append(pick([f"a {c2} pompom", f"a {c2} bobble"]))
    return out


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe(spec: Spec, rng: np.random.Generator) -> str:
    """One English description of ``spec`` (template and words chosen by ``rng``).

    >>> spec = Spec(category="t-shirt", variant="v-neck", length="", details=(), color="red", color2="white",
    ...             pattern="stripes", material="cotton", fit="slim", gender="women", rgb=(198, 36, 42),
    ...             rgb2=(240, 240, 236), pattern_geom=(0.5,) * 8)
    >>> describe(spec, np.random.default_rng(0))
    'Striped red top (cotton) for women. A v-neck and short sleeves. Perfect for everyday wear. Find more t-shirts in the shop.'
    """

    def pick(options):
        return options[int(rng.integers(len(options)))]

    nouns = _nouns(spec)
    noun = nouns[0] if rng.random() < 0.55 else pick(nouns[1:] or nouns)
    if spec.length and spec.length not in noun and not noun.startswith(spec.length):
        noun = f"{spec.length} {noun}"  # "knee-length dress", "midi skirt"
    plural = spec.category in PLURAL_NOUNS  # every noun of these categories is plural
    be, has, comes = ("are", "have", "come") if plural else ("is", "has", "comes")
    it = "they" if plural else "it"
    art = "a pair of" if plural else None

    color, material = spec.color, spec.material
    pat_adj, pat_with = _pattern_words(spec)
    pattern_adj = pick(pat_adj)
    with_pattern = f" with {pick(pat_with)}" if pat_with else ""
    fit_adj, fit_sent = _fit_words(spec)
    fit = pick(fit_adj) if fit_adj else ""
    fit_sentence = pick(fit_sent) if fit_sent else ""
    details = _details(spec, pick)
    detail_text = _join(details)
    gender = {"women": pick(["women's", "ladies'"]), "men": "men's", "unisex": "unisex"}[spec.gender]
    for_gender = {"women": "for women", "men": "for men", "unisex": "for everyone"}[spec.gender]
    filler = pick(FILLERS)
    if spec.category == "shoe" or material in ("leather", "suede", "straw", "canvas", "felt"):
        made = f"{material}"
    else:
        made = pick([material, f"{material} fabric"])

    def with_article(phrase: str) -> str:
        return f"{art} {phrase}" if art else f"{_article(phrase)} {phrase}"

    words = " ".join(w for w in (fit, color, material, noun) if w)
    template = int(rng.integers(8))
    if template == 0:
        parts = [f"{_cap(gender)} {words}{with_pattern}.",
                 f"{pick([_cap(it) + ' ' + has, 'Features', 'Details:'])} {detail_text}.", filler]
    elif template == 1:
        lead = f"This {pattern_adj} {noun}" if not plural else f"These {pattern_adj} {noun}"
        parts = [f"{lead} in {color} {be} made of {made}.", fit_sentence, f"{_cap(it)} {has} {detail_text}.", filler]
    elif template == 2:
        parts = [f"{pick(OPENERS)} {with_article(color + ' ' + noun)}{with_pattern} {for_gender}:"
                 f" {material}{', ' + fit if fit else ''}, with {detail_text}."]
    elif template == 3:
        parts = [f"{_cap(color)} {material} {noun} with {detail_text}.",
                 f"{_cap(pattern_adj)} design." if spec.pattern != "plain" else pick(["Plain design.", "Solid colour."]),
                 filler]
    elif template == 4:
        lead = with_article(" ".join(w for w in (fit, noun) if w))
        parts = [f"{_cap(lead)} {for_gender} in {color} {made}{with_pattern}.", f"With {detail_text}."]
    elif template == 5:
        parts = [f"Our {material} {noun} {comes} in {color}{with_pattern}.", fit_sentence,
                 f"{pick(['Details', 'Look for'])}: {detail_text}.", filler]
    elif template == 6:
        parts = [f"{_cap(pattern_adj)} {color} {noun} ({material}) {for_gender}.",
                 f"{_cap(detail_text)}.", filler]
    else:
        lead = with_article(f"{color} {noun}")
        parts = [f"{pick(['Simply', 'Really', 'Truly'])} {lead} in {pattern_adj} {made}"
                 f"{', ' + fit if fit else ''}, with {detail_text}.", filler]
    text = " ".join(p for p in parts if p)
    category = spec.category
    if category not in text.lower():
        text += " " + pick(CATALOG_LINES).format(PLURAL_CATEGORY[category])
    return " ".join(text.split())
