"""tf.data for images: the layers' twins as map functions, decoding with an error policy,
and a directory loader. TensorFlow only.

- `maps`: `resize_fn`, `random_resized_crop_fn` / `random_resized_crop`,
  `resize_to_side(_fn)`, `side_size`, `to_ragged`;
- `decoding`: `decode_fn`, `decode_and_resize_fn`, `batched_decode_and_resize`,
  `decode_random_resized_crop(_fn)` and `batched_decode_random_resized_crop` (decode
  only a JPEG's crop),
  `decode_images` / `DecodedImages` (skips or raises, naming the element);
- `directory`: `image_dataset_from_directory`.
"""

from keras_resize_layers.data.decoding import (DecodedImages, batched_decode_and_resize,
                                               batched_decode_random_resized_crop,
                                               decode_and_resize_fn, decode_fn, decode_images,
                                               decode_random_resized_crop,
                                               decode_random_resized_crop_fn)
from keras_resize_layers.data.directory import image_dataset_from_directory
from keras_resize_layers.data.maps import (random_resized_crop, random_resized_crop_fn,
                                           resize_fn, resize_to_side, resize_to_side_fn,
                                           side_size, to_ragged)

__all__ = ["resize_fn", "random_resized_crop_fn", "random_resized_crop", "side_size",
           "resize_to_side", "resize_to_side_fn", "decode_fn", "decode_and_resize_fn",
           "batched_decode_and_resize", "decode_random_resized_crop_fn",
           "decode_random_resized_crop", "batched_decode_random_resized_crop",
           "decode_images", "DecodedImages", "to_ragged",
           "image_dataset_from_directory"]
