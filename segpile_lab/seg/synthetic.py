"""A small *learnable* segmentation dataset: coloured shapes pasted on real photos.

Each image is a random crop of one of the demo photos (`segpile_lab.seg.images.demo_images`),
resized to `size`², with 1–4 shapes pasted on it. Every shape class has its own base colour
(jittered per shape) and form, so a model can learn them in a few hundred steps on a CPU,
while the photo behind them keeps the task from being trivial:

====  ==========  =======================
 id   name        look
====  ==========  =======================
 0    background  the photo
 1    disc        reddish ellipse
 2    square      greenish axis-aligned box
 3    triangle    bluish triangle
====  ==========  =======================

The data is seeded (same `seed` → same pixels) and labelled synthetic
(`SegmentationDataset.synthetic`), so every summary made from it says so.
"""

from __future__ import annotations

import numpy as np

from segpile_lab.seg.dataset import SegmentationDataset

SHAPE_CLASSES: dict[int, str] = {0: "background", 1: "disc", 2: "square", 3: "triangle"}
_BASE_COLOURS = {1: (220, 50, 40), 2: (40, 200, 60), 3: (40, 80, 230)}
_COLOUR_JITTER = 35  # ± per channel


def synthetic_shapes(
    count: int = 64,
    *,
    size: int = 256,
    max_shapes: int = 4,
    seed: int = 0,
) -> SegmentationDataset:
    """`count` images `(size, size, 3)` uint8 with masks `(size, size)` of `SHAPE_CLASSES` ids.

    Shapes span 12–40 % of the side; later shapes cover earlier ones (the mask says which is
    on top).
    """
    from PIL import Image, ImageDraw

    from segpile_lab.seg.images import demo_images

    photos = demo_images()
    names = list(photos)
    rng = np.random.default_rng(seed)
    images, masks, sources = [], [], []
    for _ in range(count):
        behind = names[int(rng.integers(len(names)))]
        photo = photos[behind]
        sources.append(f"shapes on {behind}")
        side = int(rng.uniform(0.5, 1.0) * min(photo.size))
        left = int(rng.integers(photo.size[0] - side + 1))
        top = int(rng.integers(photo.size[1] - side + 1))
        canvas = photo.crop((left, top, left + side, top + side)).resize((size, size))
        mask = Image.new("L", (size, size), 0)
        draw_image, draw_mask = ImageDraw.Draw(canvas), ImageDraw.Draw(mask)
        for _ in range(int(rng.integers(1, max_shapes + 1))):
            label = int(rng.integers(1, len(SHAPE_CLASSES)))
            extent = rng.uniform(0.12, 0.40) * size
            x0, y0 = rng.uniform(0, size - extent, size=2)
            box = (x0, y0, x0 + extent, y0 + extent)
            colour = tuple(
                int(np.clip(c + rng.integers(-_COLOUR_JITTER, _COLOUR_JITTER + 1), 0, 255))
                for c in _BASE_COLOURS[label]
            )
            for draw, fill in ((draw_image, colour), (draw_mask, label)):
                if label == 1:
                    draw.ellipse(box, fill=fill)
                elif label == 2:
                    draw.rectangle(box, fill=fill)
                else:
                    draw.polygon([(x0 + extent / 2, y0), (box[2], box[3]), (x0, box[3])], fill=fill)
        images.append(np.asarray(canvas))
        masks.append(np.asarray(mask))
    return SegmentationDataset(
        images,
        masks,
        label_format="index",
        name=f"synthetic shapes (seed {seed})",
        synthetic=True,
        id2label=dict(SHAPE_CLASSES),
        sources=sources,
    )
