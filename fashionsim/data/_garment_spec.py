"""What a demo product can be: the colours, categories, materials, patterns, fits, and the :class:`Spec` of one product.

Private helper of :mod:`fashionsim.data.demo` (which draws the attributes), of the drawing modules
(:mod:`~fashionsim.data._garment_shapes`, :mod:`~fashionsim.data._garment_render`,
:mod:`~fashionsim.data._garment_photos`) and of the descriptions (:mod:`~fashionsim.data._descriptions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLORS: dict[str, tuple[int, int, int]] = {
    "black": (32, 32, 34),
    "white": (240, 240, 236),
    "grey": (132, 132, 136),
    "navy": (30, 42, 92),
    "blue": (44, 100, 200),
    "red": (198, 36, 42),
    "pink": (236, 132, 172),
    "orange": (238, 128, 30),
    "yellow": (238, 204, 44),
    "green": (42, 138, 62),
    "purple": (118, 60, 150),
    "brown": (118, 74, 40),
    "beige": (214, 194, 158),
}
COLOR_NAMES = tuple(COLORS)
#: How often each colour is the main colour of a product (dark basics are common).
COLOR_WEIGHTS = np.array([0.15, 0.10, 0.09, 0.09, 0.10, 0.08, 0.06, 0.04, 0.05, 0.07, 0.04, 0.06, 0.07])
#: How often each colour is the second colour of a pattern or a trim.
COLOR2_WEIGHTS = np.array([0.20, 0.24, 0.07, 0.08, 0.06, 0.07, 0.05, 0.04, 0.05, 0.04, 0.03, 0.03, 0.04])

CATEGORIES = ("t-shirt", "shirt", "dress", "skirt", "trousers", "shorts", "jacket", "shoe", "bag", "hat")
CATEGORY_WEIGHTS = np.array([0.12, 0.11, 0.11, 0.09, 0.11, 0.08, 0.10, 0.10, 0.09, 0.09])
ACCESSORIES = ("shoe", "bag", "hat")

PATTERNS = ("plain", "stripes", "dots", "checks", "floral", "chevron")
PATTERN_CLOTHING = [0.40, 0.16, 0.10, 0.14, 0.10, 0.10]
PATTERN_ACCESSORY = [0.62, 0.14, 0.08, 0.10, 0.02, 0.04]

MATERIALS = (
    "cotton", "jersey", "linen", "polyester", "silk", "denim", "wool", "leather",
    "corduroy", "nylon", "canvas", "suede", "straw", "felt",
)
#: Materials per category (name: probability).
CATEGORY_MATERIALS: dict[str, dict[str, float]] = {
    "t-shirt": {"cotton": 0.6, "jersey": 0.2, "linen": 0.1, "polyester": 0.1},
    "shirt": {"cotton": 0.55, "linen": 0.2, "silk": 0.15, "denim": 0.1},
    "dress": {"cotton": 0.35, "silk": 0.25, "jersey": 0.2, "linen": 0.2},
    "skirt": {"cotton": 0.3, "denim": 0.3, "wool": 0.15, "leather": 0.1, "silk": 0.15},
    "trousers": {"cotton": 0.35, "denim": 0.35, "wool": 0.15, "linen": 0.1, "corduroy": 0.05},
    "shorts": {"denim": 0.4, "cotton": 0.4, "linen": 0.2},
    "jacket": {"denim": 0.25, "leather": 0.25, "wool": 0.2, "cotton": 0.15, "nylon": 0.15},
    "shoe": {"leather": 0.5, "canvas": 0.3, "suede": 0.2},
    "bag": {"leather": 0.45, "canvas": 0.3, "suede": 0.1, "nylon": 0.15},
    "hat": {"wool": 0.35, "straw": 0.25, "cotton": 0.3, "felt": 0.1},
}
#: Materials that only come in some colours (denim is blue-ish, straw is pale ...).
MATERIAL_COLORS: dict[str, tuple[str, ...]] = {
    "denim": ("blue", "navy", "black", "grey", "white"),
    "straw": ("beige", "brown", "white", "black"),
    "leather": ("black", "brown", "beige", "red", "white", "navy", "grey"),
    "suede": ("brown", "beige", "grey", "navy", "green", "black"),
}
#: Materials that are nearly always plain (no printed pattern).
PLAIN_MATERIALS = ("denim", "leather", "suede", "straw", "corduroy")

FITS = ("slim", "regular", "loose")
FIT_WEIGHTS = [0.3, 0.45, 0.25]
ACCESSORY_FIT = "one size"
FIT_WIDTH = {"slim": 0.86, "regular": 1.0, "loose": 1.17, ACCESSORY_FIT: 1.0}
GENDERS = ("women", "men", "unisex")
GENDER_WEIGHTS = [0.45, 0.4, 0.15]

#: Per category: sub-types (variants), lengths and optional details, each with a probability.
VARIANTS: dict[str, dict[str, float]] = {
    "t-shirt": {"crew neck": 0.6, "v-neck": 0.4},
    "shirt": {"button-down": 1.0},
    "dress": {"sleeveless": 0.5, "short sleeves": 0.5},
    "skirt": {"skirt": 1.0},
    "trousers": {"trousers": 1.0},
    "shorts": {"shorts": 1.0},
    "jacket": {"lapels": 0.7, "hood": 0.3},
    "shoe": {"sneaker": 0.5, "boot": 0.3, "heel": 0.2},
    "bag": {"tote": 0.4, "shoulder bag": 0.35, "backpack": 0.25},
    "hat": {"brimmed": 0.4, "cap": 0.35, "beanie": 0.25},
}
LENGTHS: dict[str, dict[str, float]] = {
    "dress": {"mini": 0.3, "knee-length": 0.45, "maxi": 0.25},
    "skirt": {"mini": 0.35, "knee-length": 0.4, "midi": 0.25},
}
DETAILS: dict[str, dict[str, float]] = {
    "t-shirt": {"pocket": 0.3},
    "shirt": {"pocket": 0.5},
    "dress": {"belt": 0.35},
    "skirt": {"pleats": 0.3},
    "trousers": {"cuffs": 0.25},
    "shorts": {"cuffs": 0.35, "drawstring": 0.3},
    "jacket": {"zip": 0.5, "pockets": 0.6},
    "shoe": {},
    "bag": {"buckle": 0.4},
    "hat": {"band": 0.6, "pompom": 0.5},
}
MAX_DETAILS = 2

SKIN_TONES = ((241, 204, 176), (224, 172, 135), (198, 140, 100), (150, 100, 66), (102, 66, 44))


@dataclass(frozen=True)
class Spec:
    """What one product looks like: enough to draw it and to describe it."""

    category: str
    variant: str
    length: str  # "" when the category has no length
    details: tuple[str, ...]
    color: str
    color2: str  # second colour of the pattern, the sole, the band ...
    pattern: str
    material: str
    fit: str
    gender: str
    rgb: tuple[int, int, int]  # the main colour with a small per-product shade shift
    rgb2: tuple[int, int, int]
    pattern_geom: tuple[float, ...]  # period, thickness, phase x, phase y, orientation, shape jitter x3

    def has(self, detail: str) -> bool:
        """True when the product has the drawn ``detail`` (``"zip"``, ``"pockets"``...)."""
        return detail in self.details
