"""Every colour photo shipped by scikit-image, scikit-learn and matplotlib, expanded by crops.

12 photos (scikit-image: astronaut, chelsea, coffee, hubble_deep_field, immunohistochemistry,
retina, rocket and the two views of stereo_motorcycle; scikit-learn's load_sample_images:
china, flower; matplotlib's sample data: grace_hopper) -> the whole photo plus crops at 6
scales (0.9 ... 0.4 of the height; the width scaled by 0.8, 1.0 or 1.25 times that, in turn,
so aspect ratios vary) x 9 positions (a 3x3 grid of anchors), repeats dropped: 588 inputs
of 56 native sizes (`tests/benchmarks/test_benchmark_audit.py` checks the count). No labels: the audit's metrics
compare pipelines with each other.
"""

import numpy as np

SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
ASPECTS = (1.0, 0.8, 1.25)
ANCHORS = (0.0, 0.5, 1.0)


def photos():
    """(name, uint8 (H, W, 3)) for the 12 photos."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data
    from sklearn.datasets import load_sample_images

    out = [(n, getattr(data, n)()) for n in ("astronaut", "chelsea", "coffee",
                                              "hubble_deep_field", "immunohistochemistry",
                                              "retina", "rocket")]
    left, right, _ = data.stereo_motorcycle()
    out += [("motorcycle_left", left), ("motorcycle_right", right)]
    sample = load_sample_images()
    out += [(path.rsplit("/", 1)[-1].split(".")[0], image)
            for path, image in zip(sample.filenames, sample.images)]
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        out.append(("grace_hopper", np.asarray(Image.open(f).convert("RGB"))))
    return [(n, np.ascontiguousarray(i[..., :3]).astype(np.uint8)) for n, i in out]


def crops(limit=None):
    """(names, images): every photo cropped at SCALES x ANCHORS (whole photo once)."""
    names, images = [], []
    for name, image in photos():
        h, w = image.shape[:2]
        seen = set()
        for k, scale in enumerate(SCALES):
            ch = max(16, int(h * scale))
            cw = min(w, max(16, int(w * scale * ASPECTS[k % 3])))
            for ay in ANCHORS:
                for ax in ANCHORS:
                    y, x = int((h - ch) * ay), int((w - cw) * ax)
                    if (y, x, ch, cw) in seen:
                        continue
                    seen.add((y, x, ch, cw))
                    names.append(f"{name}[{y}:{y + ch},{x}:{x + cw}]")
                    images.append(image[y:y + ch, x:x + cw])
    if limit:
        step = max(1, len(images) // limit)
        names, images = names[::step][:limit], images[::step][:limit]
    return names, images
