"""Photos of a drawn demo product: a clean ``shop`` view and a distorted ``street`` view.

Private helper of :mod:`fashionsim.data.demo`. Each view is a pure function of the product's sprite
(:func:`~fashionsim.data._garment_render.render_product`) and of uniforms or a seeded
``numpy.random.Generator``: busy backgrounds, a person wearing the product, crop, rotation, light,
blur, noise and occluders for the street; a plain studio background for the shop.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from fashionsim.data._garment_shapes import unit_to_pixels
from fashionsim.data._garment_spec import SKIN_TONES, Spec

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

    px = unit_to_pixels(spec.category, size)

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
