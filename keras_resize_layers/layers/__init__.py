"""Keras 3 preprocessing layers; importable without TensorFlow."""

from keras_resize_layers.layers.resize import Resize

__all__ = ["Resize"]
