"""Backend-agnostic math (internal): kernels, geometry, resampling, taps, augmentation
boxes, annotations and option checks, written with Keras backend ops."""
