"""Draws the README figure: the three aspect policies and aliasing when shrinking.

    python -m benchmarks.figures --output=docs/policies_and_aliasing.png
"""

import os

import numpy as np
from absl import app, flags

from benchmarks import common_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "docs/policies_and_aliasing.png", "PNG to write.")
common_flags.define_once(flags.DEFINE_integer, "size", 224, "Output side of the policy panels.")


def zone_plate(n=512):
    """A chirp whose local frequency rises to Nyquist at the border."""
    y, x = np.mgrid[:n, :n].astype(np.float64) - n / 2
    return 0.5 + 0.5 * np.cos(np.pi * (x**2 + y**2) / n)


def make_figure(path, size=224):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage import data

    import keras_resize_layers as krl

    cat = data.chelsea()  # 300 x 451 photo
    fine = (zone_plate() * 255).astype("uint8")[..., None]
    brick = data.brick()[..., None]  # 512 x 512 photo of a brick wall
    panels = [
        ("original 300x451", cat),
        ("stretch", krl.resize(cat, (size, size), policy="stretch", dtype="uint8")),
        ("crop (crop_fraction=0.875)",
         krl.resize(cat, (size, size), policy="crop", crop_fraction=0.875, dtype="uint8")),
        ("pad (fill_value=128)",
         krl.resize(cat, (size, size), policy="pad", fill_value=128, dtype="uint8")),
    ]
    shrink = 96
    aliasing = []
    for name, image in (("zone plate", fine), ("brick photo", brick)):
        for antialias in (False, True):
            small = krl.resize(image, (shrink, shrink), antialias=antialias, dtype="uint8")
            aliasing.append((f"{name} 512->{shrink}\nantialias={antialias}", small))
    fig, axes = plt.subplots(2, 4, figsize=(14, 7.5))
    for ax, (title, image) in zip(list(axes[0]) + list(axes[1]), panels + aliasing):
        image = np.asarray(image)
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray",
                  vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("keras_resize_layers: aspect policies (top) and antialiasing "
                 "when shrinking (bottom), bilinear", fontsize=12)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv):
    del argv
    print(make_figure(FLAGS.output, FLAGS.size))


if __name__ == "__main__":
    app.run(main)
