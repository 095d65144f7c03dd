"""One demo product drawn alone: its silhouette filled with the pattern and the material, then outlined.

Private helper of :mod:`fashionsim.data.demo`. A pure function of a
:class:`~fashionsim.data._garment_spec.Spec` and of a seeded ``numpy.random.Generator``, so the same
seed draws the same pixels. Garments are drawn at twice the output size with Pillow ``ImageDraw``
polygons and reduced 2x (anti-aliasing) by the views of :mod:`~fashionsim.data._garment_photos`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from fashionsim.data._garment_shapes import SILHOUETTES, Drawing, edge_color, unit_to_pixels
from fashionsim.data._garment_spec import FIT_WIDTH, Spec

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


def render_product(spec: Spec, size: int, rng: np.random.Generator) -> tuple[Image.Image, dict[str, float]]:
    """The product alone on a transparent ``size`` x ``size`` RGBA canvas, and its anchor points.

    ``rng`` only feeds the material's fine texture noise.
    """
    d = Drawing()
    jitter = np.asarray(spec.pattern_geom[5:8], np.float32) - 0.5
    SILHOUETTES[spec.category](d, spec, FIT_WIDTH[spec.fit], jitter)

    px = unit_to_pixels(spec.category, size)

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

    sprite = Image.new("RGBA", (size, size), (*edge_color(spec.rgb), 0))
    sprite.paste(fill, (0, 0), mask)
    draw = ImageDraw.Draw(sprite)
    edge = (*edge_color(spec.rgb), 255)
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
