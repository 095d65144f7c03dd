"""The silhouette of each demo category, recorded as shapes in unit coordinates.

Private helper of :mod:`fashionsim.data._garment_render`, which fills and draws them. A silhouette
function takes a :class:`Drawing`, the product's :class:`~fashionsim.data._garment_spec.Spec`, the
width factor of its fit and three jitter numbers, and records polygons, ellipses, solid parts, seams
and the anchor points (neck, sleeves, hem...) the street photos use to dress a person.
"""

from __future__ import annotations

import numpy as np

from fashionsim.data._garment_spec import Spec

class Drawing:
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


def edge_color(rgb) -> tuple[int, int, int]:
    """An outline colour that stands out from ``rgb`` (darker, or mid grey for black)."""
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (90, 90, 94) if lum < 50 else _shade(rgb, 0.55)


def _sym(pts_left: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Close a left half-outline (top to bottom) with its mirror image about x = 0.5."""
    return pts_left + [(1.0 - x, y) for x, y in reversed(pts_left)]


def _tshirt(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
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
    edge = edge_color(s.rgb)
    d.solid_poly([(0.5 - nw, y0), (0.5 + nw, y0)] + neck[1:], _shade(s.rgb, 0.62))
    d.line([(0.5 - nw, y0)] + neck[::-1][:-1] + [(0.5 + nw, y0)], edge, 0.012)
    for sign in (-1, 1):  # sleeve hems
        d.line([(0.5 + sign * (bw + sl - 0.015), 0.33), (0.5 + sign * (bw + sl - 0.075), 0.42)], edge, 0.008)
    d.line([(0.5 - bw, y1 - 0.03), (0.5 + bw, y1 - 0.03)], edge, 0.006)
    if s.has("pocket"):
        x = 0.5 + bw * 0.3
        d.line([(x, 0.3), (x, 0.4), (x + 0.09, 0.4), (x + 0.09, 0.3), (x, 0.3)], edge, 0.008)
    d.anchors.update(neck_y=y0, hem_y=y1, half=bw, sleeve_y=0.43, sleeve_x=bw + sl - 0.04)


def _shirt(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    bw, y0, y1 = 0.18 * w, 0.13, 0.87 + 0.03 * j[0]
    nw = 0.065
    cuff_y = 0.8 + 0.04 * j[1]
    left = [(0.5 - nw, y0), (0.5 - bw - 0.05, 0.16), (0.5 - bw - 0.17 - 0.02 * w, cuff_y),
            (0.5 - bw - 0.08, cuff_y + 0.02), (0.5 - bw, 0.36), (0.5 - bw, y1)]
    d.poly(_sym(left) + [(0.5 + nw, y0), (0.5, y0 + 0.07)])
    edge, trim = edge_color(s.rgb), _shade(s.rgb, 0.8)
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


def _jacket(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    bw, y0, y1 = 0.215 * w, 0.14, 0.86 + 0.04 * j[0]
    nw = 0.08
    if s.variant == "hood":
        d.ellipse((0.36, 0.03, 0.64, 0.24))
    left = [(0.5 - nw, y0), (0.5 - bw - 0.06, 0.17), (0.5 - bw - 0.21, 0.8 + 0.03 * j[1]),
            (0.5 - bw - 0.095, 0.83 + 0.03 * j[1]), (0.5 - bw, 0.38), (0.5 - bw - 0.01, y1)]
    d.poly(_sym(left) + [(0.5 + nw, y0)])
    edge = edge_color(s.rgb)
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


def _dress(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
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
    edge = edge_color(s.rgb)
    d.line([(0.5 - waist, wy), (0.5 + waist, wy)], edge, 0.006)
    if s.has("belt"):
        d.solid_poly([(0.5 - waist - 0.005, wy - 0.025), (0.5 + waist + 0.005, wy - 0.025),
                      (0.5 + waist + 0.008, wy + 0.025), (0.5 - waist - 0.008, wy + 0.025)], s.rgb2)
        d.line([(0.48, wy - 0.02), (0.52, wy - 0.02), (0.52, wy + 0.02), (0.48, wy + 0.02), (0.48, wy - 0.02)],
               (200, 180, 90), 0.008)
    d.line([(0.5 - flare * 0.5, hem - 0.01), (0.5 - waist * 0.5, wy + 0.05)], edge, 0.005)
    d.line([(0.5 + flare * 0.5, hem - 0.01), (0.5 + waist * 0.5, wy + 0.05)], edge, 0.005)
    d.anchors.update(neck_y=0.07, hem_y=hem, half=flare, sleeve_y=0.3, sleeve_x=chest + 0.08)


def _skirt(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    hem = {"mini": 0.56, "knee-length": 0.74, "midi": 0.88}[s.length] + 0.02 * j[0]
    top, wb = 0.16, 0.15
    hw = {"slim": 0.175, "regular": 0.25, "loose": 0.32}[s.fit] * (1 + 0.08 * j[1]) * (0.8 + 0.3 * (hem - 0.56) / 0.32)
    hw = max(hw, wb + 0.01)
    d.poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.01, top + 0.1), (0.5 + hw, hem),
            (0.5 + hw * 0.5, hem + 0.015), (0.5, hem + 0.02), (0.5 - hw * 0.5, hem + 0.015), (0.5 - hw, hem),
            (0.5 - wb - 0.01, top + 0.1)])
    edge = edge_color(s.rgb)
    d.solid_poly([(0.5 - wb, top), (0.5 + wb, top), (0.5 + wb + 0.002, top + 0.05), (0.5 - wb - 0.002, top + 0.05)],
                 _shade(s.rgb, 0.78))
    d.solid_ellipse((0.5 + wb - 0.05, top + 0.012, 0.5 + wb - 0.025, top + 0.037), s.rgb2)
    if s.has("pleats"):
        for k in range(1, 8):
            f = -1 + 2 * k / 8
            d.line([(0.5 + f * wb, top + 0.05), (0.5 + f * hw * 0.98, hem + 0.01 - 0.01 * abs(f))], edge, 0.006)
    d.anchors.update(waist_y=top, hem_y=hem, half=hw, waist_half=wb)


def _legwear(d: Drawing, s: Spec, w: float, j: np.ndarray, *, short: bool) -> None:
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
    edge = edge_color(s.rgb)
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


def _shoe(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    sole = s.rgb2
    edge = edge_color(s.rgb)
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


def _bag(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    edge = edge_color(s.rgb)
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


def _hat(d: Drawing, s: Spec, w: float, j: np.ndarray) -> None:
    edge = edge_color(s.rgb)
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

SILHOUETTES = {
    "t-shirt": _tshirt, "shirt": _shirt, "dress": _dress, "skirt": _skirt, "trousers": _trousers,
    "shorts": _shorts, "jacket": _jacket, "shoe": _shoe, "bag": _bag, "hat": _hat,
}


def unit_to_pixels(category: str, size: int):
    """The map from a flat list of unit coordinates (x, y, x, y ...) to pixels for ``category``."""
    zoom, cx, cy = _ZOOM.get(category, (1.0, 0.5, 0.5))

    def px(coords: list[float]) -> list[float]:
        return [((c - (cx if k % 2 == 0 else cy)) * zoom + 0.5) * size for k, c in enumerate(coords)]

    return px
