"""Drawing the generated demo catalog: silhouettes, patterns, materials, shop and street views.

Private helper of :mod:`fashionsim.data.demo`. Everything here is a pure
function of a :class:`Spec` (what the product looks like) and of a seeded
``numpy.random.Generator`` (how one photo of it is taken), so the same seed
draws the same pixels. Garments are drawn at twice the output size with
Pillow ``ImageDraw`` polygons and reduced 2x (anti-aliasing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# ----------------------------------------------------------------- vocabulary
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
_PATTERN_CLOTHING = [0.40, 0.16, 0.10, 0.14, 0.10, 0.10]
_PATTERN_ACCESSORY = [0.62, 0.14, 0.08, 0.10, 0.02, 0.04]

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
        return detail in self.details


# ------------------------------------------------------------- the recorder
class _Drawing:
    """Shapes in unit coordinates (0..1, y down), recorded then rendered at ``size`` px.

    ``body`` shapes are filled with the product's pattern and material;
    ``solid`` shapes are drawn on top in one colour (soles, bands, collars);
    ``lines`` are seams and outlines.
    """

    def __init__(self) -> None:
        self.body: list[tuple[str, list[float]]] = []
        self.solid: list[tuple[str, list[float], tuple[int, ...], float]] = []
        self.anchors: dict[str, float] = {}

    def poly(self, pts: list[tuple[float, float]]) -> None:
        self.body.append(("poly", [c for p in pts for c in p]))

    def ellipse(self, box: tuple[float, float, float, float]) -> None:
        self.body.append(("ellipse", list(box)))

    def chord(self, box: tuple[float, float, float, float]) -> None:
        """Upper half of the ellipse in ``box`` (a dome)."""
        self.body.append(("chord", list(box)))

    def solid_poly(self, pts, color) -> None:
        self.solid.append(("poly", [c for p in pts for c in p], tuple(color), 0.0))

    def solid_ellipse(self, box, color) -> None:
        self.solid.append(("ellipse", list(box), tuple(color), 0.0))

    def line(self, pts, color, width: float) -> None:
        self.solid.append(("line", [c for p in pts for c in p], tuple(color), width))

    def arc(self, box, start: float, end: float, color, width: float) -> None:
        self.solid.append(("arc", [*box, start, end], tuple(color), width))


def _shade(rgb, factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, round(c * factor)))) for c in rgb)


def _edge(rgb) -> tuple[int, int, int]:
    """An outline colour that stands out from ``rgb`` (darker, or mid grey for black)."""
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (90, 90, 94) if lum < 50 else _shade(rgb, 0.55)


def _sym(pts_left: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Close a left half-outline (top to bottom) with its mirror image about x = 0.5."""
    return pts_left + [(1.0 - x, y) for x, y in reversed(pts_left)]


# ------------------------------------------------------------ silhouettes
def _tshirt(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    bw, y0, y1 = 0.19 * w, 0.14, 0.86 + 0.04 * j[0]
    nw, depth = 0.075, (0.05 if s.variant == "crew neck" else 0.15)
    sl = 0.17 + 0.03 * j[1]
    left = [(0.5 - nw, y0), (0.5 - bw - 0.04, 0.17), (0.5 - bw - sl, 0.31), (0.5 - bw - sl + 0.07, 0.43),
            (0.5 - bw, 0.36), (0.5 - bw, y1)]
    body = _sym(left)
    neck = [(0.5 + nw, y0), (0.5 + nw * 0.55, y0 + depth * 0.75), (0.5, y0 + depth), (0.5 - nw * 0.55, y0 + depth * 0.75)]
    if s.variant == "v-neck":
        neck = [(0.5 + nw, y0), (0.5, y0 + depth)]
    d.poly(body + neck)
    edge = _edge(s.rgb)
    d.solid_poly([(0.5 - nw, y0), (0.5 + nw, y0)] + neck[1:], _shade(s.rgb, 0.62))
    d.line([(0.5 - nw, y0)] + neck[::-1][:-1] + [(0.5 + nw, y0)], edge, 0.012)
    for sign in (-1, 1):  # sleeve hems
        d.line([(0.5 + sign * (bw + sl - 0.015), 0.33), (0.5 + sign * (bw + sl - 0.075), 0.42)], edge, 0.008)
    d.line([(0.5 - bw, y1 - 0.03), (0.5 + bw, y1 - 0.03)], edge, 0.006)
    if s.has("pocket"):
        x = 0.5 + bw * 0.3
        d.line([(x, 0.3), (x, 0.4), (x + 0.09, 0.4), (x + 0.09, 0.3), (x, 0.3)], edge, 0.008)
    d.anchors.update(neck_y=y0, hem_y=y1, half=bw, sleeve_y=0.43, sleeve_x=bw + sl - 0.04)


def _shirt(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    bw, y0, y1 = 0.18 * w, 0.13, 0.87 + 0.03 * j[0]
    nw = 0.065
    cuff_y = 0.8 + 0.04 * j[1]
    left = [(0.5 - nw, y0), (0.5 - bw - 0.05, 0.16), (0.5 - bw - 0.17 - 0.02 * w, cuff_y),
            (0.5 - bw - 0.08, cuff_y + 0.02), (0.5 - bw, 0.36), (0.5 - bw, y1)]
    d.poly(_sym(left) + [(0.5 + nw, y0), (0.5, y0 + 0.07)])
    edge, trim = _edge(s.rgb), _shade(s.rgb, 0.8)
    for sign in (-1, 1):  # collar points
        d.solid_poly([(0.5 + sign * (nw + 0.015), y0 - 0.01), (0.5 + sign * 0.006, y0 + 0.08),
                      (0.5 + sign * (nw + 0.035), y0 + 0.075)], trim)
        d.line([(0.5 + sign * (nw + 0.015), y0 - 0.01), (0.5 + sign * 0.006, y0 + 0.08),
                (0.5 + sign * (nw + 0.035), y0 + 0.075), (0.5 + sign * (nw + 0.015), y0 - 0.01)], edge, 0.007)
        xo = 0.5 + sign * (bw + 0.17 + 0.02 * w)
        xi = 0.5 + sign * (bw + 0.08)
        d.line([(xo + sign * -0.005, cuff_y - 0.06), (xi + sign * 0.006, cuff_y - 0.045)], edge, 0.008)
    d.line([(0.5, y0 + 0.08), (0.5, y1)], edge, 0.007)
    for k in range(5):
        y = y0 + 0.14 + k * (y1 - y0 - 0.18) / 4
        d.solid_ellipse((0.488, y - 0.012, 0.512, y + 0.012), _shade(s.rgb2, 1.0))
    if s.has("pocket"):
        x = 0.5 - bw * 0.3 - 0.09
        d.line([(x, 0.28), (x, 0.38), (x + 0.09, 0.38), (x + 0.09, 0.28)], edge, 0.008)
    d.anchors.update(neck_y=y0, hem_y=y1, half=bw, sleeve_y=cuff_y + 0.02, sleeve_x=bw + 0.13)


def _jacket(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    bw, y0, y1 = 0.215 * w, 0.14, 0.86 + 0.04 * j[0]
    nw = 0.08
    if s.variant == "hood":
        d.ellipse((0.36, 0.03, 0.64, 0.24))
    left = [(0.5 - nw, y0), (0.5 - bw - 0.06, 0.17), (0.5 - bw - 0.21, 0.8 + 0.03 * j[1]),
            (0.5 - bw - 0.095, 0.83 + 0.03 * j[1]), (0.5 - bw, 0.38), (0.5 - bw - 0.01, y1)]
    d.poly(_sym(left) + [(0.5 + nw, y0)])
    edge = _edge(s.rgb)
    if s.variant == "hood":
        d.solid_ellipse((0.41, 0.07, 0.59, 0.2), _shade(s.rgb, 0.45))
        d.line([(0.5, 0.2), (0.5, y1)], edge, 0.012)
        d.line([(0.45, 0.2), (0.45, 0.3)], _shade(s.rgb2, 1.0), 0.01)
        d.line([(0.55, 0.2), (0.55, 0.3)], _shade(s.rgb2, 1.0), 0.01)
    else:
        inner = [(0.5 - nw, y0), (0.5 + nw, y0), (0.5, 0.45)]
        d.solid_poly(inner, (236, 236, 232) if sum(s.rgb) < 600 else (60, 60, 64))
        for sign in (-1, 1):  # lapels
            lap = [(0.5 + sign * nw, y0), (0.5 + sign * (nw + 0.06), 0.24), (0.5 + sign * 0.02, 0.45)]
            d.line(lap, edge, 0.01)
        if s.has("zip"):
            d.line([(0.5, 0.45), (0.5, y1)], edge, 0.012)
        else:
            d.line([(0.5, 0.45), (0.5, y1)], edge, 0.006)
    if not s.has("zip") and s.variant != "hood":
        for k in range(3):
            y = 0.52 + k * 0.11
            d.solid_ellipse((0.515, y - 0.016, 0.547, y + 0.016), _shade(s.rgb2, 1.0))
    elif s.variant == "hood" or s.has("zip"):
        d.solid_poly([(0.49, 0.45), (0.51, 0.45), (0.515, 0.5), (0.485, 0.5)], (190, 190, 196))
    if s.has("pockets"):
        for sign in (-1, 1):
            x = 0.5 + sign * bw * 0.55
            d.line([(x - 0.06, 0.66), (x + 0.06, 0.66), (x + 0.06, 0.7), (x - 0.06, 0.7), (x - 0.06, 0.66)], edge, 0.008)
    d.line([(0.5 - bw, y1 - 0.035), (0.5 + bw, y1 - 0.035)], edge, 0.008)
    d.anchors.update(neck_y=y0, hem_y=y1, half=bw, sleeve_y=0.83, sleeve_x=bw + 0.15)


def _dress(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    hem = {"mini": 0.66, "knee-length": 0.82, "maxi": 0.97}[s.length] + 0.02 * j[0]
    chest, waist = 0.13 * w, 0.105 * w
    flare = (0.17 + 0.08 * (hem - 0.66) / 0.31) * w * (1.0 + 0.15 * j[1])
    wy = 0.45
    if s.variant == "sleeveless":
        left = [(0.5 - 0.07, 0.07), (0.5 - 0.1, 0.07), (0.5 - chest, 0.2), (0.5 - chest, 0.3),
                (0.5 - waist, wy), (0.5 - flare, hem)]
        neck = [(0.5 + 0.07, 0.07), (0.5, 0.18)]
    else:
        left = [(0.5 - 0.06, 0.08), (0.5 - chest - 0.03, 0.11), (0.5 - chest - 0.12, 0.22),
                (0.5 - chest - 0.07, 0.3), (0.5 - chest, 0.26), (0.5 - waist, wy), (0.5 - flare, hem)]
        neck = [(0.5 + 0.06, 0.08), (0.5 + 0.035, 0.14), (0.5, 0.16), (0.5 - 0.035, 0.14)]
    d.poly(_sym(left) + neck)
    edge = _edge(s.rgb)
    d.line([(0.5 - waist, wy), (0.5 + waist, wy)], edge, 0.006)
    if s.has("belt"):
        d.solid_poly([(0.5 - waist - 0.005, wy - 0.025), (0.5 + waist + 0.005, wy - 0.025),
                      (0.5 + waist + 0.008, wy + 0.025), (0.5 - waist - 0.008, wy + 0.025)], s.rgb2)
        d.line([(0.48, wy - 0.02), (0.52, wy - 0.02), (0.52, wy + 0.02), (0.48, wy + 0.02), (0.48, wy - 0.02)],
               (200, 180, 90), 0.008)
    d.line([(0.5 - flare * 0.5, hem - 0.01), (0.5 - waist * 0.5, wy + 0.05)], edge, 0.005)
    d.line([(0.5 + flare * 0.5, hem - 0.01), (0.5 + waist * 0.5, wy + 0.05)], edge, 0.005)
    d.anchors.update(neck_y=0.07, hem_y=hem, half=flare, sleeve_y=0.3, sleeve_x=chest + 0.08)


def _skirt(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    hem = {"mini": 0.56, "knee-length": 0.74, "midi": 0.88}[s.length] + 0.02 * j[0]
    top, wb = 0.16, 0.15
    hw = {"slim": 0.175, "regular": 0.25, "loose": 0.32}[s.fit] * (1 + 0.08 * j[1]) * (0.8 + 0.3 * (hem - 0.56) / 0.32)
    hw = max(hw, wb + 0.01)
    d.poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.01, top + 0.1), (0.5 + hw, hem),
            (0.5 + hw * 0.5, hem + 0.015), (0.5, hem + 0.02), (0.5 - hw * 0.5, hem + 0.015), (0.5 - hw, hem),
            (0.5 - wb - 0.01, top + 0.1)])
    edge = _edge(s.rgb)
    d.solid_poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.002, top + 0.05), (0.5 - wb - 0.002, top + 0.05)],
                 _shade(s.rgb, 0.78))
    d.solid_ellipse((0.5 + wb - 0.05, top + 0.012, 0.5 + wb - 0.025, top + 0.037), s.rgb2)
    if s.has("pleats"):
        for k in range(1, 8):
            f = -1 + 2 * k / 8
            d.line([(0.5 + f * wb, top + 0.05), (0.5 + f * hw * 0.98, hem + 0.01 - 0.01 * abs(f))], edge, 0.006)
    d.anchors.update(waist_y=top, hem_y=hem, half=hw, waist_half=wb)


def _legwear(d: _Drawing, s: Spec, w: float, j: np.ndarray, *, short: bool) -> None:
    top, crotch = (0.2, 0.48) if short else (0.05, 0.4)
    wb = (0.19 if short else 0.165) * (0.85 + 0.15 * w)
    bottom = 0.76 + 0.04 * j[0] if short else 0.96
    leg = {"slim": 0.055, "regular": 0.075, "loose": 0.105}[s.fit] * (1 + 0.1 * j[1])
    if short:
        leg *= 1.75
    gap = 0.02
    out_x = 0.5 - gap - 2 * leg
    d.poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.015, crotch - 0.08), (1 - out_x, bottom),
            (0.5 + gap, bottom), (0.5, crotch), (0.5 - gap, bottom), (out_x, bottom), (0.5 - wb - 0.015, crotch - 0.08)])
    edge = _edge(s.rgb)
    d.solid_poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.002, top + 0.045), (0.5 - wb - 0.002, top + 0.045)],
                 _shade(s.rgb, 0.78))
    d.line([(0.5, top + 0.045), (0.5, crotch - 0.02)], edge, 0.007)
    for sign in (-1, 1):  # slanted pockets
        d.line([(0.5 + sign * (wb - 0.07), top + 0.045), (0.5 + sign * (wb + 0.005), top + 0.13)], edge, 0.007)
    if s.has("cuffs"):
        for x0, x1 in ((out_x, 0.5 - gap), (0.5 + gap, 1 - out_x)):
            d.solid_poly([(x0 - 0.004, bottom - 0.05), (x1 + 0.004, bottom - 0.05), (x1, bottom), (x0, bottom)],
                         _shade(s.rgb, 0.82))
            d.line([(x0 - 0.004, bottom - 0.05), (x1 + 0.004, bottom - 0.05)], edge, 0.006)
    if s.has("drawstring"):
        d.line([(0.48, top + 0.04), (0.465, top + 0.16)], s.rgb2, 0.01)
        d.line([(0.52, top + 0.04), (0.535, top + 0.15)], s.rgb2, 0.01)
    d.anchors.update(waist_y=top, hem_y=bottom, half=wb, waist_half=wb, leg_out=0.5 - out_x, gap=gap)


def _trousers(d, s, w, j) -> None:
    _legwear(d, s, w, j, short=False)


def _shorts(d, s, w, j) -> None:
    _legwear(d, s, w, j, short=True)


def _shoe(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    sole = s.rgb2
    edge = _edge(s.rgb)
    if s.variant == "heel":
        d.poly([(0.2, 0.44), (0.25, 0.47), (0.42, 0.56), (0.62, 0.6), (0.84, 0.68), (0.9, 0.74), (0.88, 0.78),
                (0.62, 0.76), (0.42, 0.7), (0.28, 0.63), (0.19, 0.62)])
        heel = _shade(s.rgb, 0.5) if sum(s.rgb) > 150 else (110, 110, 114)
        d.solid_poly([(0.19, 0.6), (0.27, 0.62), (0.245, 0.86), (0.215, 0.86)], heel)
        d.line([(0.19, 0.62), (0.28, 0.635), (0.42, 0.705), (0.62, 0.765), (0.89, 0.785)], heel, 0.02)
        d.line([(0.25, 0.47), (0.42, 0.56), (0.6, 0.6)], edge, 0.008)
        d.anchors.update(top_y=0.44, ankle_x=0.22)
        return
    sneaker = s.variant == "sneaker"
    top = 0.42 if sneaker else 0.16
    d.poly([(0.13, 0.66), (0.14, top), (0.3, top + 0.02) if sneaker else (0.42, top - 0.02),
            (0.44, 0.44 if sneaker else 0.40), (0.5, 0.38 if sneaker else 0.43), (0.56, 0.47),
            (0.76, 0.54 + 0.02 * j[0]), (0.87, 0.6), (0.89, 0.66)])
    sole_h = 0.075 if s.variant == "sneaker" else 0.06
    d.solid_poly([(0.12, 0.655), (0.9, 0.655), (0.9, 0.66 + sole_h), (0.14, 0.66 + sole_h), (0.12, 0.68)], sole)
    if s.variant == "boot":
        d.solid_poly([(0.13, 0.72), (0.26, 0.72), (0.25, 0.77), (0.135, 0.77)], _shade(sole, 0.8))
    d.line([(0.56, 0.5), (0.7, 0.54), (0.78, 0.6)], edge, 0.008)  # toe cap seam
    lace = (240, 240, 240) if sum(s.rgb) < 450 else (40, 40, 40)
    for k in range(4 if s.variant == "sneaker" else 5):
        x = 0.43 + k * 0.045 if s.variant == "sneaker" else 0.38 + k * 0.035
        y = 0.45 + k * 0.02 if s.variant == "sneaker" else 0.24 + k * 0.045
        d.line([(x - 0.025, y), (x + 0.03, y + 0.01)], lace, 0.012)
    d.anchors.update(top_y=top, ankle_x=0.28)


def _bag(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    edge = _edge(s.rgb)
    strap = _shade(s.rgb, 0.6)
    if s.variant == "tote":
        d.poly([(0.24, 0.4), (0.76, 0.4), (0.84, 0.88), (0.16, 0.88)])
        for x0 in (0.3, 0.54):
            d.arc((x0, 0.16, x0 + 0.16, 0.5), 180, 360, strap, 0.025)
        d.line([(0.24, 0.46), (0.76, 0.46)], edge, 0.007)
        top_y = 0.16
    elif s.variant == "shoulder bag":
        d.arc((0.2, 0.06, 0.8, 0.95), 195, 345, strap, 0.018)
        d.poly([(0.2, 0.46), (0.8, 0.46), (0.82, 0.84), (0.78, 0.87), (0.22, 0.87), (0.18, 0.84)])
        d.solid_poly([(0.2, 0.46), (0.8, 0.46), (0.79, 0.64), (0.5, 0.69), (0.21, 0.64)], _shade(s.rgb, 0.82))
        d.line([(0.2, 0.46), (0.21, 0.64), (0.5, 0.69), (0.79, 0.64), (0.8, 0.46)], edge, 0.008)
        top_y = 0.2
    else:  # backpack
        d.poly([(0.3, 0.22), (0.7, 0.22), (0.74, 0.3), (0.75, 0.88), (0.25, 0.88), (0.26, 0.3)])
        d.arc((0.42, 0.12, 0.58, 0.3), 180, 360, strap, 0.02)
        d.solid_poly([(0.32, 0.56), (0.68, 0.56), (0.68, 0.8), (0.32, 0.8)], _shade(s.rgb, 0.85))
        d.line([(0.32, 0.56), (0.68, 0.56), (0.68, 0.8), (0.32, 0.8), (0.32, 0.56)], edge, 0.008)
        d.line([(0.26, 0.3), (0.74, 0.3)], edge, 0.006)
        top_y = 0.12
    if s.has("buckle"):
        y = 0.66 if s.variant == "shoulder bag" else (0.6 if s.variant == "backpack" else 0.52)
        d.solid_poly([(0.46, y - 0.03), (0.54, y - 0.03), (0.54, y + 0.03), (0.46, y + 0.03)], (205, 180, 90))
        d.solid_poly([(0.475, y - 0.015), (0.525, y - 0.015), (0.525, y + 0.015), (0.475, y + 0.015)], s.rgb)
    d.anchors.update(top_y=top_y)


def _hat(d: _Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    edge = _edge(s.rgb)
    if s.variant == "brimmed":
        d.ellipse((0.06, 0.53, 0.94, 0.73))
        d.poly([(0.3, 0.64), (0.32, 0.36), (0.4, 0.29 + 0.02 * j[0]), (0.6, 0.29 + 0.02 * j[0]), (0.68, 0.36), (0.7, 0.64)])
        if s.has("band"):
            d.solid_poly([(0.305, 0.53), (0.695, 0.53), (0.7, 0.61), (0.3, 0.61)], s.rgb2)
        d.arc((0.06, 0.53, 0.94, 0.73), 20, 160, edge, 0.008)
        d.anchors.update(bottom_y=0.66, half=0.2)
    elif s.variant == "cap":
        d.chord((0.24, 0.3, 0.72, 0.9))
        d.poly([(0.66, 0.57), (0.94, 0.62), (0.92, 0.66), (0.62, 0.62)])
        d.solid_ellipse((0.465, 0.28, 0.5, 0.315), s.rgb2)
        d.line([(0.48, 0.31), (0.47, 0.6)], edge, 0.007)
        d.line([(0.48, 0.31), (0.34, 0.58)], edge, 0.007)
        d.line([(0.48, 0.31), (0.62, 0.58)], edge, 0.007)
        d.anchors.update(bottom_y=0.6, half=0.22)
    else:  # beanie
        d.chord((0.27, 0.26, 0.73, 0.94))
        d.poly([(0.26, 0.58), (0.74, 0.58), (0.75, 0.72), (0.25, 0.72)])
        for k in range(1, 12):
            x = 0.25 + k * 0.5 / 12
            d.line([(x, 0.59), (x, 0.71)], _shade(s.rgb, 0.72), 0.006)
        if s.has("pompom"):
            d.solid_ellipse((0.42, 0.14, 0.58, 0.3), s.rgb2)
        d.anchors.update(bottom_y=0.71, half=0.23)


#: Small products are drawn larger: (zoom, centre x, centre y) of the unit drawing.
_ZOOM = {"shoe": (1.18, 0.5, 0.56), "hat": (1.08, 0.5, 0.55)}

_DRAW = {
    "t-shirt": _tshirt, "shirt": _shirt, "dress": _dress, "skirt": _skirt, "trousers": _trousers,
    "shorts": _shorts, "jacket": _jacket, "shoe": _shoe, "bag": _bag, "hat": _hat,
}


# ------------------------------------------------------- pattern, material
def _pattern_mix(spec: Spec, size: int) -> np.ndarray:
    """(size, size) float32 weight of the second colour (0 = main colour) for the pattern."""
    period_u, thick_u, px, py, orient = spec.pattern_geom[:5]
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    scale = size / 192.0
    if spec.pattern == "plain":
        return np.zeros((size, size), np.float32)
    if spec.pattern == "stripes":
        period = (9 + 14 * period_u) * scale
        coord = y if orient < 0.6 else (x if orient < 0.85 else (x + y) * 0.7071)
        return (((coord + px * period) % period) < period * (0.25 + 0.3 * thick_u)).astype(np.float32)
    if spec.pattern == "dots":
        period = (13 + 12 * period_u) * scale
        row = np.floor((y + py * period) / period)
        xs = x + px * period + (row % 2) * period / 2
        dx = (xs % period) - period / 2
        dy = ((y + py * period) % period) - period / 2
        r = period * (0.17 + 0.12 * thick_u)
        return (dx * dx + dy * dy < r * r).astype(np.float32)
    if spec.pattern == "checks":
        period = (12 + 16 * period_u) * scale
        width = period * (0.3 + 0.25 * thick_u)
        h = ((y + py * period) % period) < width
        v = ((x + px * period) % period) < width
        return (0.5 * h + 0.5 * v).astype(np.float32)
    if spec.pattern == "floral":
        period = (20 + 12 * period_u) * scale
        cy = ((y + py * period) % period) - period / 2
        row = np.floor((y + py * period) / period)
        cx = ((x + px * period + (row % 2) * period / 2) % period) - period / 2
        rho = np.hypot(cx, cy)
        theta = np.arctan2(cy, cx) + 1.3 * orient
        r = period * (0.32 + 0.08 * thick_u)
        petals = rho < r * (0.45 + 0.55 * np.abs(np.cos(2.5 * theta)))
        mix = petals.astype(np.float32)
        mix[rho < r * 0.22] = 0.35  # the flower's heart, between the two colours
        return mix
    if spec.pattern == "chevron":
        period = (14 + 14 * period_u) * scale
        wave = period * 1.2
        tri = np.abs(((x + px * wave) % wave) - wave / 2) * (0.9 + 0.6 * orient)
        return (((y + tri + py * period) % period) < period * (0.3 + 0.25 * thick_u)).astype(np.float32)
    raise ValueError(f"unknown pattern {spec.pattern!r}")


def _material_texture(material: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size) float32 multiplicative shading of the material (1 = flat)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    s = size / 192.0
    tex = np.ones((size, size), np.float32)
    if material == "denim":
        tex -= 0.12 * ((((x + y) / s) % 7) < 2.5)
        tex += rng.normal(0, 0.05, (size, size)).astype(np.float32)
    elif material == "corduroy":
        tex -= 0.16 * (((x / s) % 8) < 3)
    elif material in ("wool", "felt"):
        tex += rng.normal(0, 0.09 if material == "wool" else 0.05, (size, size)).astype(np.float32)
    elif material in ("leather", "silk", "nylon"):
        amp = {"leather": 0.16, "silk": 0.24, "nylon": 0.1}[material]
        band = (x - 0.6 * y) / size
        tex += amp * np.exp(-((band - 0.15) ** 2) / 0.02) - 0.06
    elif material in ("canvas", "linen"):
        tex -= 0.08 * ((((x / s) % 6) < 1.5) | (((y / s) % 6) < 1.5))
    elif material == "straw":
        a = (((x + y) / s) % 10) < 3
        b = (((x - y) / s) % 10) < 3
        tex -= 0.14 * (a ^ b)
    else:  # cotton, jersey, polyester
        tex += rng.normal(0, 0.025, (size, size)).astype(np.float32)
    return tex


def _pixels(category: str, size: int):
    """The map from a flat list of unit coordinates (x, y, x, y ...) to pixels for ``category``."""
    zoom, cx, cy = _ZOOM.get(category, (1.0, 0.5, 0.5))

    def px(coords: list[float]) -> list[float]:
        return [((c - (cx if k % 2 == 0 else cy)) * zoom + 0.5) * size for k, c in enumerate(coords)]

    return px


def render_product(spec: Spec, size: int, rng: np.random.Generator) -> tuple[Image.Image, dict[str, float]]:
    """The product alone on a transparent ``size`` x ``size`` RGBA canvas, and its anchor points.

    ``rng`` only feeds the material's fine texture noise.
    """
    d = _Drawing()
    jitter = np.asarray(spec.pattern_geom[5:8], np.float32) - 0.5
    _DRAW[spec.category](d, spec, FIT_WIDTH[spec.fit], jitter)

    px = _pixels(spec.category, size)

    mask = Image.new("L", (size, size), 0)
    md = ImageDraw.Draw(mask)
    for kind, coords in d.body:
        if kind == "poly":
            md.polygon(px(coords), fill=255)
        elif kind == "ellipse":
            md.ellipse(px(coords), fill=255)
        else:  # chord: the upper half of the ellipse
            md.chord(px(coords), 180, 360, fill=255)

    main = np.asarray(spec.rgb, np.float32)
    second = np.asarray(spec.rgb2, np.float32)
    mix = _pattern_mix(spec, size)[..., None]
    tex = _material_texture(spec.material, size, rng)[..., None]
    shade = np.linspace(1.05, 0.93, size, dtype=np.float32)[:, None, None]
    rgb = ((1 - mix) * main + mix * second) * tex * shade
    fill = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")

    sprite = Image.new("RGBA", (size, size), (*_edge(spec.rgb), 0))
    sprite.paste(fill, (0, 0), mask)
    draw = ImageDraw.Draw(sprite)
    edge = (*_edge(spec.rgb), 255)
    width = max(1, round(size * 0.011))
    for kind, coords in d.body:  # outline of the patterned body
        if kind == "poly":
            p = px(coords)
            draw.line(p + p[:2], fill=edge, width=width, joint="curve")
        elif kind == "ellipse":
            draw.ellipse(px(coords), outline=edge, width=width)
        else:
            draw.chord(px(coords), 180, 360, outline=edge, width=width)
    for kind, coords, color, w in d.solid:
        color = (*color[:3], 255)
        if kind == "poly":
            draw.polygon(px(coords), fill=color)
        elif kind == "ellipse":
            draw.ellipse(px(coords), fill=color)
        elif kind == "line":
            draw.line(px(coords), fill=color, width=max(1, round(w * size)), joint="curve")
        else:  # arc
            draw.arc(px(coords[:4]), coords[4], coords[5], fill=color, width=max(1, round(w * size)))
    return sprite, d.anchors


# ------------------------------------------------------------------ views
def _affine(sprite: Image.Image, size: int, scale: float, angle_deg: float, tx: float, ty: float,
            flip: bool = False) -> Image.Image:
    """``sprite`` scaled about its centre, rotated, shifted by (tx, ty) pixels (and mirrored)."""
    if flip:
        sprite = sprite.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    c = size / 2.0
    t = math.radians(angle_deg)
    a, b = math.cos(t) / scale, math.sin(t) / scale
    dd, e = -math.sin(t) / scale, math.cos(t) / scale
    ox, oy = c + tx, c + ty
    data = (a, b, c - a * ox - b * oy, dd, e, c - dd * ox - e * oy)
    return sprite.transform((size, size), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)


def shop_view(sprite: Image.Image, out_size: int, u: np.ndarray) -> Image.Image:
    """A clean studio photo: light plain background, product centred, small scale/position change.

    ``u``: at least 6 uniform numbers in [0, 1) that fix this view.
    """
    size = sprite.size[0]
    level = 236 + 14 * u[0]
    tint = (u[1] - 0.5) * 8
    grad = np.linspace(1.0, 0.96, size, dtype=np.float32)[:, None, None]
    bg = np.clip(np.array([level + tint, level, level - tint], np.float32) * grad, 0, 255)
    bg = np.broadcast_to(bg, (size, size, 3)).astype(np.uint8)
    canvas = Image.fromarray(bg, "RGB").convert("RGBA")
    scale = 0.86 + 0.12 * u[2]
    moved = _affine(sprite, size, scale, (u[5] - 0.5) * 6, (u[3] - 0.5) * 0.08 * size, (u[4] - 0.5) * 0.08 * size)
    canvas.alpha_composite(moved)
    return canvas.convert("RGB").reduce(size // out_size)


def _street_background(size: int, rng: np.random.Generator) -> Image.Image:
    """A cluttered or textured scene: shop shelves, bricks, foliage, pavement or a street."""
    kind = int(rng.integers(5))
    rand_color = lambda lo=0, hi=256: tuple(int(v) for v in rng.integers(lo, hi, 3))  # noqa: E731
    if kind == 0:  # clutter of objects
        img = Image.new("RGB", (size, size), rand_color(40, 220))
        d = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(10, 22))):
            x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
            w, h = rng.uniform(0.1, 0.5, 2) * size
            box = [x0, y0, x0 + w, y0 + h]
            (d.rectangle if rng.random() < 0.5 else d.ellipse)(box, fill=rand_color())
    elif kind == 1:  # brick wall
        base = np.array([(150, 70, 50), (120, 120, 115), (190, 170, 140), (90, 60, 50)][int(rng.integers(4))])
        img = Image.new("RGB", (size, size), (200, 195, 185))
        d = ImageDraw.Draw(img)
        h = size / rng.uniform(7, 11)
        for r in range(int(size / h) + 1):
            off = (r % 2) * h
            for c in range(-1, int(size / (2 * h)) + 2):
                col = np.clip(base + rng.normal(0, 18, 3), 0, 255).astype(int)
                x0 = c * 2 * h + off
                d.rectangle([x0 + 1.5, r * h + 1.5, x0 + 2 * h - 1.5, (r + 1) * h - 1.5], fill=tuple(col))
    elif kind == 2:  # foliage
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(20, 80, 3)))
        d = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(60, 110))):
            x0, y0 = rng.uniform(-0.1, 1.0, 2) * size
            r = rng.uniform(0.03, 0.12) * size
            g = int(rng.integers(70, 200))
            col = (int(g * rng.uniform(0.3, 0.9)), g, int(g * rng.uniform(0.1, 0.5)))
            d.ellipse([x0, y0, x0 + r * 1.6, y0 + r], fill=col)
    elif kind == 3:  # pavement tiles
        grey = int(rng.integers(90, 190))
        img = Image.new("RGB", (size, size), (grey, grey - 5, grey - 12))
        d = ImageDraw.Draw(img)
        step = size / rng.uniform(3, 7)
        for k in range(-8, 9):
            off = k * step
            d.line([(off, 0), (off + size * 0.5, size)], fill=(grey - 45,) * 3, width=2)
            d.line([(0, off + size * 0.5), (size, off)], fill=(grey - 45,) * 3, width=2)
    else:  # street: sky, facades with windows, ground
        sky = np.array(rand_color(120, 240), np.float32)
        ground = np.array(rand_color(40, 140), np.float32)
        t = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
        arr = np.broadcast_to((1 - t) * sky + t * ground, (size, size, 3))
        img = Image.fromarray(arr.astype(np.uint8), "RGB")
        d = ImageDraw.Draw(img)
        x = -rng.uniform(0, 0.2) * size
        while x < size:
            w = rng.uniform(0.2, 0.45) * size
            top = rng.uniform(0.05, 0.5) * size
            d.rectangle([x, top, x + w, size * 0.85], fill=rand_color(60, 200))
            win = rand_color(20, 120)
            for wy in np.arange(top + 6, size * 0.8, size * 0.11):
                for wx in np.arange(x + 5, x + w - 10, size * 0.09):
                    d.rectangle([wx, wy, wx + size * 0.045, wy + size * 0.06], fill=win)
            x += w
    img = img.filter(ImageFilter.GaussianBlur(size / 192 * rng.uniform(0.5, 2.5)))
    return img


def _context(spec: Spec, anchors: dict[str, float], size: int, rng: np.random.Generator) -> Image.Image:
    """A person wearing or holding the product (skin and other clothes), drawn under the product."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    skin = (*SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], 255)
    other = (*(int(v) for v in rng.integers(0, 256, 3)), 255)
    hair = (*(int(v) for v in rng.integers(10, 120, 3)), 255)

    px = _pixels(spec.category, size)

    def P(pts):  # noqa: N802 - unit to pixels
        flat = px([c for p in pts for c in p])
        return list(zip(flat[::2], flat[1::2]))

    def box(p0, p1):  # a rectangle from any two corners, in pixels
        x0, y0, x1, y1 = px([*p0, *p1])
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    cat, a = spec.category, anchors
    if cat in ("t-shirt", "shirt", "jacket", "dress"):
        ny = a["neck_y"]
        d.rectangle(box((0.46, ny - 0.06), (0.54, ny + 0.04)), fill=skin)
        d.ellipse(box((0.4, ny - 0.26), (0.6, ny - 0.02)), fill=skin)
        d.chord(box((0.39, ny - 0.28), (0.61, ny - 0.06)), 180, 360, fill=hair)
        for sign in (-1, 1):  # forearms or hands out of the sleeves
            sx, sy = 0.5 + sign * a["sleeve_x"], a["sleeve_y"]
            d.line(P([(sx, sy - 0.02), (sx + sign * 0.02, min(sy + 0.22, 1.05))]), fill=skin, width=int(0.07 * size))
        if cat != "dress":
            hy = a["hem_y"]
            for sign in (-1, 1):
                d.rectangle(box((0.5 + sign * 0.02, hy - 0.02), (0.5 + sign * a["half"] * 0.95, 1.1)), fill=other)
        else:
            for sign in (-1, 1):
                d.rectangle(box((0.5 + sign * 0.03, a["hem_y"] - 0.05), (0.5 + sign * 0.1, 1.1)), fill=skin)
    elif cat in ("skirt", "trousers", "shorts"):
        wy, hw = a["waist_y"], a["waist_half"]
        d.polygon(P([(0.5 - hw - 0.02, wy + 0.02), (0.5 - hw - 0.06, wy - 0.4), (0.5 + hw + 0.06, wy - 0.4),
                     (0.5 + hw + 0.02, wy + 0.02)]), fill=other)
        if cat == "trousers":
            for sign in (-1, 1):
                x = 0.5 + sign * (a["gap"] + a["leg_out"]) / 2
                d.ellipse(box((x - 0.09, 0.92), (x + 0.09, 1.02)), fill=hair)
        else:
            for sign in (-1, 1):
                d.rectangle(box((0.5 + sign * 0.03, a["hem_y"] - 0.05), (0.5 + sign * 0.12, 1.1)), fill=skin)
    elif cat == "shoe":
        x = a["ankle_x"]
        d.rectangle(box((x - 0.12, -0.1), (x + 0.12, a["top_y"] + 0.06)), fill=other if rng.random() < 0.6 else skin)
    elif cat == "bag":
        d.line(P([(0.5, a["top_y"] + 0.02), (0.62, -0.2)]), fill=skin, width=int(0.07 * size))
        d.rectangle(box((0.58, -0.1), (1.1, 1.1)), fill=other)
    else:  # hat on a head
        by, hh = a["bottom_y"], a["half"]
        d.ellipse(box((0.5 - hh * 0.85, by - 0.15), (0.5 + hh * 0.85, by + 0.4)), fill=skin)
        d.rectangle(box((0.5 - hh * 1.6, by + 0.42), (0.5 + hh * 1.6, 1.2)), fill=other)
    return layer


def street_view(
    sprite: Image.Image, anchors: dict[str, float], spec: Spec, out_size: int, rng: np.random.Generator,
    *, occlude: bool,
) -> Image.Image:
    """A user photo: busy background, person, crop, rotation, lighting, blur, noise (and an occluder).

    The product covers less of the frame, is turned and cut at the edges, its
    colours move with the light; with ``occlude`` an arm, strap or object hides
    part of it.
    """
    size = sprite.size[0]
    canvas = _street_background(size, rng).convert("RGBA")
    scale = rng.uniform(0.68, 1.12)
    angle = rng.uniform(-20, 20)
    tx, ty = rng.uniform(-0.14, 0.14, 2) * size
    flip = bool(rng.random() < 0.5)
    if rng.random() < 0.65:
        canvas.alpha_composite(_affine(_context(spec, anchors, size, rng), size, scale, angle, tx, ty, flip))
    canvas.alpha_composite(_affine(sprite, size, scale, angle, tx, ty, flip))
    img = canvas.convert("RGB")
    if occlude:
        d = ImageDraw.Draw(img)
        kind = int(rng.integers(3))
        color = SKIN_TONES[int(rng.integers(len(SKIN_TONES)))] if kind == 0 else tuple(int(v) for v in rng.integers(0, 256, 3))
        cx, cy = size / 2 + tx + rng.uniform(-0.15, 0.15) * size, size / 2 + ty + rng.uniform(-0.15, 0.15) * size
        if kind == 0:  # an arm crossing from one side
            side = -1 if rng.random() < 0.5 else 1
            d.line([(cx + side * size, cy + rng.uniform(-0.3, 0.3) * size), (cx, cy)], fill=color,
                   width=int(rng.uniform(0.12, 0.2) * size))
            d.ellipse([cx - 0.08 * size, cy - 0.07 * size, cx + 0.08 * size, cy + 0.07 * size], fill=color)
        elif kind == 1:  # an object in front, from the bottom or a side
            w, h = rng.uniform(0.25, 0.45) * size, rng.uniform(0.25, 0.45) * size
            d.rounded_rectangle([cx - w / 2, cy, cx + w / 2, cy + h * 2], radius=int(0.05 * size), fill=color)
        else:  # a pole or strap across
            x0 = cx + rng.uniform(-0.1, 0.1) * size
            d.line([(x0 - 0.2 * size, -5), (x0 + 0.2 * size, size + 5)], fill=color, width=int(rng.uniform(0.08, 0.14) * size))
    img = img.reduce(size // out_size)
    # light: brightness, colour temperature, contrast, a directional shade, then blur and sensor noise
    arr = np.asarray(img, np.float32) / 255.0
    warm = rng.uniform(-0.2, 0.2)
    gains = rng.uniform(0.62, 1.22) * np.array([1 + warm, 1 + rng.uniform(-0.06, 0.06), 1 - warm], np.float32)
    arr = arr * gains
    mean = arr.mean()
    arr = (arr - mean) * rng.uniform(0.7, 1.15) + mean
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:out_size, 0:out_size].astype(np.float32) / out_size - 0.5
    arr = arr * (1 + rng.uniform(0.1, 0.35) * (np.cos(theta) * xx + np.sin(theta) * yy))[..., None]
    arr = np.clip(arr, 0, 1) ** rng.uniform(0.8, 1.25)
    img = Image.fromarray((arr * 255).astype(np.uint8), "RGB")
    img = img.filter(ImageFilter.GaussianBlur(out_size / 96 * rng.uniform(0.3, 1.3)))
    arr = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(2, 8), (out_size, out_size, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
