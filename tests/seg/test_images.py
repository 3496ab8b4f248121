"""`load_image`: every image case of the bad-input catalog (items 29–37)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from segpile_lab.errors import ImageLoadError, MultiFrameImageWarning
from segpile_lab.seg.images import demo_images, load_image


def _save(tmp_path, image, name, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def test_bomb_above_twice_the_limit_raises(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2_000)  # 10,000 px > 2 × 2,000: Pillow's error
    with pytest.raises(ImageLoadError, match=r"big\.png.*decompression bomb"):
        load_image(path)


def test_between_one_and_two_times_the_limit_raises_too(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "band.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)  # 10,000 px: Pillow would only warn
    with pytest.raises(ImageLoadError, match=r"band\.png.*exceeds the limit of 6,000"):
        load_image(path)


def test_max_pixels_lets_a_large_image_through(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "ok.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)
    assert load_image(path, max_pixels=10_000).size == (100, 100)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_raises(tmp_path, fmt, rgb_image):
    buffer = io.BytesIO()
    Image.fromarray(rgb_image).resize((200, 150)).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match=rf"cut\.{fmt.lower()}"):
        load_image(path)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"this is not an image\n", "not an image"), (None, "no such image file")],
)
def test_not_an_image_raises(tmp_path, content, message):
    path = tmp_path / "photo.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=rf"photo\.jpg.*{message}"):
        load_image(path)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 20))  # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = _save(tmp_path, image, "rot.jpg", exif=exif, quality=95)
    loaded = load_image(path)
    assert loaded.size == (20, 40)
    top = np.asarray(loaded)[2, 10]
    assert top[0] > 200 and top[2] < 60  # the red band is now at the top


@pytest.mark.parametrize(
    ("make", "expected_pixel"),
    [
        (lambda: Image.new("L", (3, 2), 77), (77, 77, 77)),
        (lambda: Image.new("1", (3, 2), 1), (255, 255, 255)),
        (lambda: Image.new("LA", (3, 2), (10, 0)), (255, 255, 255)),  # transparent → background
        (lambda: Image.new("RGBA", (3, 2), (200, 0, 0, 255)), (200, 0, 0)),
        (lambda: Image.new("RGBA", (3, 2), (0, 0, 0, 128)), (127, 127, 127)),  # half over white
        (lambda: Image.new("CMYK", (3, 2), (0, 255, 255, 0)), (255, 0, 0)),
        (lambda: Image.new("I;16", (3, 2), 65535), (255, 255, 255)),
        (lambda: Image.new("I;16", (3, 2), 257 * 100), (100, 100, 100)),
        (lambda: Image.new("I", (3, 2), 257 * 10), (10, 10, 10)),
        (lambda: Image.new("I", (3, 2), 200), (200, 200, 200)),
        (lambda: Image.new("F", (3, 2), 0.5), (128, 128, 128)),
    ],
    ids=[
        "L",
        "1",
        "LA",
        "RGBA-opaque",
        "RGBA-half",
        "CMYK",
        "I16-max",
        "I16-mid",
        "I-16bit",
        "I-8bit",
        "F-unit",
    ],
)
def test_mode_conversions(make, expected_pixel):
    loaded = load_image(make())
    assert loaded.mode == "RGB" and loaded.size == (3, 2)
    assert tuple(np.asarray(loaded)[0, 0]) == pytest.approx(expected_pixel, abs=1)


def test_float_out_of_unit_range_is_stretched_min_to_max():
    values = np.array([[-5.0, 0.0], [5.0, float("nan")]], dtype=np.float32)
    loaded = np.asarray(load_image(Image.fromarray(values, mode="F")))[..., 0]
    assert loaded.tolist() == [[0, 128], [255, 128]]  # NaN → 0, then stretched


def test_palette_with_transparency_composites_on_background(tmp_path):
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 0, 0] + [0, 255, 0] * 255)
    image.info["transparency"] = 0
    path = _save(tmp_path, image, "p.png", transparency=0)
    assert tuple(np.asarray(load_image(path, background=(0, 0, 9)))[0, 0]) == (0, 0, 9)


def test_animated_gif_uses_frame_zero_and_warns(tmp_path):
    frames = [Image.new("P", (5, 5), i) for i in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 250, 0, 0, 0, 250, 0, 0, 0, 250] + [0] * 756)
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.warns(MultiFrameImageWarning, match=r"anim\.gif.*3 frames"):
        loaded = load_image(path)
    assert tuple(np.asarray(loaded)[0, 0]) == (250, 0, 0)


@pytest.mark.parametrize("size", [(1, 1), (1, 900), (900, 1), (17, 513)])
def test_any_size_is_kept(size):
    assert load_image(np.zeros((*size, 3), dtype=np.uint8)).size == size[::-1]


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((2, 2), 9, np.uint8), (9, 9, 9)),
        (np.full((2, 2, 1), 9, np.uint8), (9, 9, 9)),
        (np.full((2, 2), True), (255, 255, 255)),
        (np.full((2, 2, 3), 65535, np.uint16), (255, 255, 255)),
        (np.full((2, 2, 3), 1.0, np.float32), (255, 255, 255)),
        (np.dstack([np.full((2, 2, 3), 7, np.uint8), np.full((2, 2), 255, np.uint8)]), (7, 7, 7)),
    ],
    ids=["gray", "gray1", "bool", "uint16", "float", "rgba"],
)
def test_ndarray_inputs(array, expected):
    assert tuple(np.asarray(load_image(array))[0, 0]) == expected


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 2, 5), np.uint8), np.zeros((0, 3, 3), np.uint8), np.zeros((2, 2), np.int64)],
    ids=["5-channels", "empty", "int64"],
)
def test_bad_arrays_raise(bad):
    with pytest.raises(ImageLoadError, match="ndarray"):
        load_image(bad)


def test_unsupported_type_is_a_caller_mistake():
    with pytest.raises(TypeError, match="int"):
        load_image(42)


def test_demo_images_are_real_pictures():
    images = demo_images()
    assert images["grace_hopper"].size == (512, 600)
    assert all(im.mode == "RGB" for im in images.values())
    assert np.asarray(images["grace_hopper"]).std() > 30
