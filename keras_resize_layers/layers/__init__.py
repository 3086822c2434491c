"""Keras 3 preprocessing layers; importable without TensorFlow."""

from keras_resize_layers.layers.learned_resizer import LearnedResizer
from keras_resize_layers.layers.random_brightness_scale import RandomBrightnessScale
from keras_resize_layers.layers.random_resized_crop import RandomResizedCrop
from keras_resize_layers.layers.random_resolution import RandomResolution
from keras_resize_layers.layers.resize import Resize

__all__ = ["Resize", "RandomResizedCrop", "RandomResolution", "RandomBrightnessScale",
           "LearnedResizer"]
