"""How resizing choices change a trained model's predictions: the resize sensitivity audit.

    python -m keras_resize_layers.audit --model PATH (.keras or SavedModel)
        --data dir:PATH | tfds:NAME [--labels inferred] [--input_size 224x224]
        [--reference NAME] [--limit N] [--output_dir audit]

Every *variant* is a complete serving pipeline from the original image to the model's input:
this library's methods x antialias x policies, Pillow's and OpenCV's filters, `tf.image.resize`,
Keras's `Resizing`, `load_img(target_size=)` and `image_dataset_from_directory` defaults, a
test-resolution sweep, JPEG re-encoding and DCT-domain decoding. Each is compared with a
*reference* pipeline (the one training used) on the same images and the same model: top-1
agreement, KL divergence and top-5 overlap with 95% intervals; with labels, accuracy and the
paired difference to the reference with McNemar's exact test. Pillow and OpenCV variants need
the `[bench]` extra (`pip install "keras_resize_layers[bench]"`). The library's variants
and Keras's `Resizing` run on any Keras backend (JAX, PyTorch: give the images as arrays);
the tf.image, `image_dataset_from_directory` and DCT variants need TensorFlow and are
listed as skipped, with the reason, without it.
"""

from keras_resize_layers.audit.evaluation import resize_sensitivity
from keras_resize_layers.audit.report import write_report
from keras_resize_layers.audit.variants import (DEFAULT_REFERENCE, Variant, default_variants,
                                                library_variants)

__all__ = ["resize_sensitivity", "library_variants", "default_variants", "write_report",
           "Variant", "DEFAULT_REFERENCE"]
