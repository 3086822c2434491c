"""TensorFlow-only internals: ragged batches, run-time checks, device choice, TF
kernels and the taps as XLA programs."""
