"""fashionsim.images: decoding every mode, EXIF, bad files, the bomb guard, fits, the pipeline, augmentations."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionsim import images
from fashionsim.images import ImageDecodeError, ImageTooLargeError, SkipReport, load_image

RED = (200, 30, 30)
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def solid(path: Path, mode: str, size=(12, 8), fmt: str | None = None) -> Path:
    """A uniform 12x8 red image converted to ``mode`` and saved (format from the suffix unless ``fmt``)."""
    img = Image.new("RGB", size, RED)
    if mode == "P":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE)
    else:
        img = img.convert(mode, dither=Image.Dither.NONE) if mode == "1" else img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt)
    return path


def pattern(path: Path, size=(40, 32), **save) -> Path:
    """A non-symmetric RGB picture (gradients) so that flips and rotations are told apart."""
    y, x = np.mgrid[: size[1], : size[0]]
    arr = np.stack([x * 255 // size[0], y * 255 // size[1], (x + 2 * y) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(arr, "RGB").save(path, **save)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height pixels (no pixel data): enough for Pillow's open."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


# ------------------------------------------------------------------------------------------- modes
@pytest.mark.parametrize("mode, suffix", [("RGB", ".png"), ("RGB", ".jpg"), ("CMYK", ".jpg"), ("CMYK", ".tif"),
                                          ("P", ".png"), ("LAB", ".tif"), ("RGBA", ".png")])
def test_colour_modes_decode_to_the_same_colour(tmp_path, mode, suffix):
    x = load_image(solid(tmp_path / f"img{suffix}", mode), 16)
    assert x.shape == (16, 16, 3) and x.dtype == np.float32
    tolerance = 6 / 255 if suffix == ".jpg" or mode == "LAB" else 1e-6
    np.testing.assert_allclose(x, np.broadcast_to(np.array(RED) / 255, x.shape), atol=tolerance)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grey_and_bilevel_modes_give_equal_channels(tmp_path, mode):
    x = load_image(solid(tmp_path / "img.png", mode), 8)
    assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2])
    expected = {"L": round(GREY_WEIGHTS @ np.array(RED)) / 255, "1": 0.0}[mode]  # red is dark: bilevel -> black
    np.testing.assert_allclose(x, expected, atol=1 / 255)


def test_alpha_is_composited_on_white(tmp_path):
    img = Image.new("RGBA", (10, 10), (*RED, 128))
    img.paste((0, 0, 0, 0), (0, 0, 5, 10))  # left half fully transparent black
    img.save(tmp_path / "rgba.png")
    img.convert("LA").save(tmp_path / "la.png")
    x = load_image(tmp_path / "rgba.png", 10)
    np.testing.assert_allclose(x[:, :5], 1.0)
    alpha = 128 / 255
    expected = (np.array(RED) * alpha + 255 * (1 - alpha)) / 255
    np.testing.assert_allclose(x[:, 6:], np.broadcast_to(expected, (10, 4, 3)), atol=1 / 255)
    la = load_image(tmp_path / "la.png", 10)
    np.testing.assert_allclose(la[:, :5], 1.0)
    grey = round(GREY_WEIGHTS @ np.array(RED))
    np.testing.assert_allclose(la[:, 6:], (grey * alpha + 255 * (1 - alpha)) / 255, atol=1 / 255)


def test_palette_transparency_and_pa_mode_are_composited_on_white(tmp_path):
    img = Image.new("P", (8, 8), 1)
    img.putpalette([0, 0, 0, *RED] + [0] * 762)
    img.paste(0, (0, 0, 4, 8))
    img.save(tmp_path / "p.png", transparency=0)
    x = load_image(tmp_path / "p.png", 8)
    np.testing.assert_allclose(x[:, :4], 1.0)
    np.testing.assert_allclose(x[:, 5:], np.broadcast_to(np.array(RED) / 255, (8, 3, 3)), atol=1e-6)
    pa = Image.new("RGBA", (8, 8), (*RED, 0)).convert("P").convert("PA")  # PA only lives in memory
    assert pa.mode == "PA"
    np.testing.assert_array_equal(np.asarray(images._to_rgb(pa)), 255)


@pytest.mark.parametrize("mode, suffix", [("I;16", ".png"), ("I;16", ".tif"), ("I;16B", ".tif"), ("I", ".tif")])
def test_high_bit_depth_is_scaled_not_clipped(tmp_path, mode, suffix):
    values = np.array([[0, 1000, 32768, 65535]] * 4, dtype=np.uint16)
    if mode == "I;16B":  # (Pillow's own convert("I;16B") clips at 255, so build it from bytes)
        img = Image.frombytes("I;16B", (4, 4), values.astype(">u2").tobytes())
    else:
        img = Image.fromarray(values) if mode != "I" else Image.fromarray(values.astype(np.int32))
    img.save(tmp_path / f"img{suffix}")
    with Image.open(tmp_path / f"img{suffix}") as reopened:
        assert reopened.mode == mode
    x = load_image(tmp_path / f"img{suffix}", 4)
    np.testing.assert_allclose(x[..., 0], values / 65535, atol=1e-6)
    assert 0.49 < x[0, 2, 0] < 0.51  # Pillow's convert("RGB") would clip 32768 to 255


def test_float_mode_uses_pillows_0_255_scale(tmp_path):
    Image.fromarray(np.full((4, 4), 127.5, np.float32), "F").save(tmp_path / "f.tif")
    np.testing.assert_allclose(load_image(tmp_path / "f.tif", 4), 0.5, atol=1 / 65535)


# ------------------------------------------------------------------------------------------- EXIF, fit
def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # stored: left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    assert images.image_size(tmp_path / "rotated.jpg") == (20, 40)
    x = load_image(tmp_path / "rotated.jpg", 20, fit="pad")
    np.testing.assert_allclose(x[:, :4], 1.0)  # tall picture: white bars left and right
    np.testing.assert_allclose(x[:, 16:], 1.0)
    assert x[3, 10, 0] > 0.9 and x[3, 10, 2] < 0.1  # top is red
    assert x[16, 10, 2] > 0.9 and x[16, 10, 0] < 0.1  # bottom is blue


def test_pad_keeps_aspect_on_white_and_stretch_fills(tmp_path):
    solid(tmp_path / "wide.png", "RGB", size=(40, 20))
    padded = load_image(tmp_path / "wide.png", 20, fit="pad")  # 40x20 -> white 40x40 square -> 20x20
    np.testing.assert_allclose(padded[:4], 1.0)
    np.testing.assert_allclose(padded[16:], 1.0)
    np.testing.assert_allclose(padded[6:14], np.broadcast_to(np.array(RED) / 255, (8, 20, 3)), atol=1e-6)
    assert (padded[4:6, :, 1] > RED[1] / 255).all() and (padded[4:6, :, 1] < 1).any()  # resampled edge
    stretched = load_image(tmp_path / "wide.png", 20, fit="stretch")
    np.testing.assert_allclose(stretched, np.broadcast_to(np.array(RED) / 255, (20, 20, 3)), atol=1e-6)


def test_large_jpeg_draft_decoding_matches_full_decode(tmp_path):
    path = pattern(tmp_path / "big.jpg", size=(800, 640), quality=95)
    with Image.open(path) as img:
        full = np.asarray(img.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR), np.float32) / 255
    assert np.abs(load_image(path, 64) - full).mean() < 0.01


# ------------------------------------------------------------------------------------------- bad files
def test_truncated_corrupt_empty_and_missing_files_name_the_file(tmp_path):
    good = pattern(tmp_path / "good.jpg", size=(64, 64), quality=90)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[:400])
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path in (truncated, corrupt, empty):
        with pytest.raises(ImageDecodeError, match=path.name) as info:
            load_image(path, 32)
        assert isinstance(info.value, ValueError)
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        load_image(tmp_path / "missing.jpg", 32)
    report = images.check_images([good, truncated, corrupt, empty], progress=False)
    assert report.paths == [str(truncated), str(corrupt), str(empty)]


def test_decompression_bomb_guard(tmp_path):
    small = solid(tmp_path / "small.png", "RGB", size=(40, 40))
    with pytest.raises(ImageTooLargeError, match="small.png.*1600 pixels exceeds max_pixels=1000"):
        load_image(small, 8, max_pixels=1000)
    assert load_image(small, 8, max_pixels=1600).shape == (8, 8, 3)
    ours = png_header_only(tmp_path / "ours.png", 10_000, 10_000)  # 100 MP: our default guard
    with pytest.raises(ImageTooLargeError, match="ours.png"):
        load_image(ours, 8)
    pillows = png_header_only(tmp_path / "pillows.png", 20_000, 20_000)  # 400 MP: Pillow's own hard limit
    with pytest.raises(ImageTooLargeError, match="pillows.png"):
        load_image(pillows, 8, max_pixels=None)
    assert not images.image_size_ok(ours) and images.image_size_ok(small, min_side=40)


def test_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        load_image("x.png", 0)
    with pytest.raises(ValueError, match="fit"):
        load_image("x.png", 8, fit="crop")
    with pytest.raises(ValueError, match="empty"):
        images.dataset([], 8, 2)
    with pytest.raises(ValueError, match="on_error"):
        images.dataset(["x.png"], 8, 2, on_error="ignore")
    with pytest.raises(ValueError, match="batch_size"):
        images.dataset(["x.png"], 8, 0)


# ------------------------------------------------------------------------------------------- pipeline
@pytest.fixture
def files(tmp_path) -> list[str]:
    """Seven small files of mixed formats and modes, one 16-bit."""
    out = []
    for i in range(6):
        suffix = ".jpg" if i % 2 else ".png"
        path = pattern(tmp_path / f"f{i}{suffix}", size=(40 + 4 * i, 32))
        if i == 4:
            with Image.open(path) as opened:
                rgba = opened.convert("RGBA")
            rgba.save(path)
        out.append(str(path))
    sixteen = tmp_path / "f6.png"
    Image.fromarray((np.arange(30 * 20).reshape(20, 30) * 100).astype(np.uint16)).save(sixteen)
    out.append(str(sixteen))
    return out


def test_dataset_equals_load_image_in_order(files):
    batches = [b.numpy() for b in images.dataset(files, 24, batch_size=3)]
    assert [b.shape for b in batches] == [(3, 24, 24, 3), (3, 24, 24, 3), (1, 24, 24, 3)]
    assert all(b.dtype == np.float32 for b in batches)
    expected = np.stack([load_image(p, 24) for p in files])
    np.testing.assert_array_equal(np.concatenate(batches), expected)  # bit for bit, 16-bit file included
    padded = np.concatenate([b.numpy() for b in images.dataset(files, 24, 4, fit="pad")])
    np.testing.assert_array_equal(padded, np.stack([load_image(p, 24, fit="pad") for p in files]))


def test_dataset_labels_drop_remainder_and_shuffle(files):
    labels = np.arange(len(files))
    out = list(images.dataset(files, 8, 3, labels=labels, drop_remainder=True))
    assert len(out) == 2 and [y.numpy().tolist() for _, y in out] == [[0, 1, 2], [3, 4, 5]]

    def order(seed):
        return np.concatenate([y.numpy() for _, y in images.dataset(files, 8, 4, labels=labels, shuffle=True, seed=seed)])

    first = order(3)
    assert sorted(first.tolist()) == labels.tolist()
    assert np.array_equal(first, order(3))
    assert any(not np.array_equal(first, order(s)) for s in (4, 5, 6))
    with pytest.raises(ValueError, match="labels has 2 entries"):
        images.dataset(files, 8, 3, labels=[0, 1])


def test_dataset_raise_names_the_file(files, tmp_path):
    import tensorflow as tf

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(Path(files[1]).read_bytes()[:200])
    with pytest.raises(tf.errors.OpError, match="broken.jpg"):
        list(images.dataset([files[0], str(broken), files[2]], 8, 2))


def test_dataset_skip_drops_and_reports(files, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(Path(files[1]).read_bytes()[:200])
    paths = [files[0], str(broken), files[2], str(tmp_path / "gone.png"), files[3]]
    report = SkipReport()
    out = list(images.dataset(paths, 8, 2, labels=np.arange(5), on_error="skip", report=report))
    assert np.concatenate([y.numpy() for _, y in out]).tolist() == [0, 2, 4]
    np.testing.assert_array_equal(out[0][0].numpy()[1], load_image(files[2], 8))
    assert report.paths == [str(broken), str(tmp_path / "gone.png")]
    assert report.reasons[str(broken)].startswith(f"cannot decode image {broken}") and len(report) == 2
    assert "not found" in report.reasons[str(tmp_path / "gone.png")]
    with pytest.warns(RuntimeWarning) as caught:
        assert sum(b.shape[0] for b in images.dataset(paths, 8, 2, on_error="skip")) == 3
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and "broken.jpg" in messages[0] and "gone.png" in messages[1]
    with pytest.raises(ValueError, match="on_error='skip'"):
        images.dataset(paths, 8, 2, report=SkipReport())


# ------------------------------------------------------------------------------------------- augmentations
def params(**columns) -> np.ndarray:
    """Uniforms that leave an image unchanged, with some columns set."""
    p = np.array([[0, 0, 0, 0, 0.9, 0, 0.9, 0.9, 0.5, 0.5, 0.5]], np.float32)
    for k, v in columns.items():
        p[0, int(k[1:])] = v
    return p


@pytest.fixture
def picture() -> np.ndarray:
    return np.random.default_rng(1).uniform(0.2, 0.8, (1, 12, 12, 3)).astype(np.float32)


def test_identity_parameters_leave_the_image(picture):
    np.testing.assert_array_equal(images.apply_augment_params(picture, params()).numpy(), picture)


@pytest.mark.parametrize("choice, expected", [
    (0, lambda a: a[:, ::-1]), (1, lambda a: a[::-1]), (2, lambda a: np.rot90(a, 1)),
    (3, lambda a: np.rot90(a, 2)), (4, lambda a: np.rot90(a, 3)), (5, lambda a: a.transpose(1, 0, 2)),
])
def test_dihedral_ops_match_pillow(picture, choice, expected):
    out = images.apply_augment_params(picture, params(c4=0.2, c5=(choice + 0.5) / 6)).numpy()[0]
    np.testing.assert_array_equal(out, expected(picture[0]))
    names = [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_90,
             Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE]
    as_pil = Image.fromarray((picture[0] * 255).round().astype(np.uint8)).transpose(names[choice])
    np.testing.assert_array_equal((out * 255).round().astype(np.uint8), np.asarray(as_pil))


def test_extra_horizontal_flip_composes(picture):
    out = images.apply_augment_params(picture, params(c4=0.2, c5=1.5 / 6, c6=0.1)).numpy()[0]  # flip TB + flip LR
    np.testing.assert_array_equal(out, picture[0, ::-1, ::-1])


def test_crop_and_colour_known_answers(picture):
    ramp = np.tile((np.arange(20, dtype=np.float32) / 20)[None, :, None, None], (1, 1, 20, 3))
    cropped = images.apply_augment_params(ramp, params(c0=1, c1=1, c2=1, c3=1)).numpy()[0, :, 0, 0]
    np.testing.assert_allclose(cropped[[0, -1]], [0.05 * 19 / 20, (19 - 0.05 * 19) / 20], atol=1e-6)
    x = picture[0]
    grey = x @ GREY_WEIGHTS
    cases = {
        "c7": (0.0, np.repeat(grey[..., None], 3, axis=2)),
        "c8": (1.0, np.clip(x * 1.1, 0, 1)),
        "c9": (0.0, (x - grey.mean()) * 0.9 + grey.mean()),
        "c10": (1.0, (x - grey[..., None]) * 1.1 + grey[..., None]),
    }
    for column, (value, expected) in cases.items():
        out = images.apply_augment_params(picture, params(**{column: value})).numpy()[0]
        np.testing.assert_allclose(out, expected, atol=1e-6, err_msg=column)


def test_augment_batch_is_seeded_per_element():
    batch = np.random.default_rng(2).uniform(0, 1, (6, 16, 16, 3)).astype(np.float32)
    a = images.augment_batch(batch, seed=5).numpy()
    assert a.shape == batch.shape and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, images.augment_batch(batch, seed=5).numpy())
    assert not np.allclose(a, images.augment_batch(batch, seed=6).numpy())
    part = images.augment_batch(batch[2:4], seed=5, keys=[2, 3]).numpy()
    np.testing.assert_allclose(part, a[2:4], atol=1e-6)  # keyed by element, not by batch position
    with pytest.raises(ValueError, match="square"):
        images.augment_batch(np.zeros((1, 8, 6, 3), np.float32), seed=0)


def test_dataset_augmentation_repeats_and_matches_augment_batch(files):
    import tensorflow as tf

    def run(seed, ds=None):
        ds = ds if ds is not None else images.dataset(files, 16, 4, augment=True, seed=seed)
        return np.concatenate([b.numpy() for b in ds])

    first = run(7)
    assert first.shape == (len(files), 16, 16, 3) and first.min() >= 0 and first.max() <= 1
    np.testing.assert_array_equal(first, run(7))
    assert not np.allclose(first, run(8))
    tf.random.set_seed(123)  # TensorFlow's global seed plays no part in a seeded pipeline
    np.testing.assert_array_equal(first, run(7))
    ds = images.dataset(files, 16, 4, augment=True, seed=None)
    assert not np.allclose(run(None, ds), run(None, ds))  # unseeded: each pass draws new augmentations
    # Same draws as augment_batch on load_image output; only the crop's resampling (the pipeline crops the
    # full-resolution picture while decoding) and the 8-bit rounding of the colour step differ.
    expected = images.augment_batch(np.stack([load_image(p, 16) for p in files]), 7).numpy()
    assert np.abs(first - expected).mean(axis=(1, 2, 3)).max() < 0.02
    assert np.abs(first - expected).mean() < 0.5 * np.abs(first - expected[::-1]).mean()


@pytest.mark.parametrize("fit", ["stretch", "pad"])
def test_decode_time_augmentation_equals_the_batch_version(files, fit):
    """The pipeline augments while decoding; with the same draws it must agree with apply_augment_params."""
    for path in (files[0], files[6]):  # 8-bit RGB and 16-bit grey
        source = load_image(path, 16, fit=fit)[None]
        for choice in range(6):  # flips and rotations: exact
            p = params(c4=0.2, c5=(choice + 0.5) / 6, c6=0.1 if choice == 1 else 0.9)
            decoded = images._decode(path, 16, fit, None, images._plan(p[0], 0.05))
            expected = images.apply_augment_params(source, p).numpy()[0]
            np.testing.assert_allclose(decoded / np.iinfo(decoded.dtype).max, expected, atol=1e-6)
        for column, value in (("c7", 0.0), ("c8", 1.0), ("c8", 0.0), ("c9", 0.0), ("c9", 1.0), ("c10", 1.0)):
            p = params(**{column: value})  # colour: Pillow's matrix, rounded to 8 bits
            decoded = images._decode(path, 16, fit, None, images._plan(p[0], 0.05))
            expected = images.apply_augment_params(source, p).numpy()[0]
            np.testing.assert_allclose(decoded / np.iinfo(decoded.dtype).max, expected, atol=0.51 / 255, err_msg=column)
    cropped = images._decode(files[0], 16, "stretch", None, images._plan(params(c0=1, c1=1, c2=1, c3=1)[0], 0.05))
    with Image.open(files[0]) as source:
        w, h = source.size
        box = (0.05 * w, 0.05 * h, 0.95 * w, 0.95 * h)
        np.testing.assert_array_equal(cropped, np.asarray(source.convert("RGB").resize((16, 16), Image.Resampling.BILINEAR, box=box)))


# ------------------------------------------------------------------------------------------- vocabulary
def test_old_size_keyword_still_works_with_a_future_warning(files):
    with pytest.warns(FutureWarning, match=r"load_image\(size=\.\.\.\) is deprecated: pass image_size="):
        old = load_image(files[0], size=8)
    np.testing.assert_array_equal(old, load_image(files[0], image_size=8))
    with pytest.warns(FutureWarning, match=r"dataset\(size=\.\.\.\)"):
        batch = next(iter(images.dataset(files[:2], size=8, batch_size=2))).numpy()
    np.testing.assert_array_equal(batch, np.stack([load_image(p, 8) for p in files[:2]]))
    with pytest.raises(ValueError, match="image_size must be a positive int"):
        images.dataset(files, image_size=0, batch_size=2)


def test_a_generator_seed_is_one_int_draw(files):
    def run(seed):
        ds = images.dataset(files[:3], 8, 3, augment=True, shuffle=True, seed=seed)
        return np.concatenate([b.numpy() for b in ds])

    drawn = int(np.random.default_rng(3).integers(2**31))
    np.testing.assert_array_equal(run(np.random.default_rng(3)), run(drawn))
    np.testing.assert_array_equal(images.augment_batch(np.ones((2, 8, 8, 3), np.float32), np.random.default_rng(3)),
                                  images.augment_batch(np.ones((2, 8, 8, 3), np.float32), drawn))
    with pytest.raises(TypeError, match="seed must be an int"):
        images.augment_params(2, 1.5)
