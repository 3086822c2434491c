"""Benchmarks for keras_resize_layers: throughput, accuracy and figures.

Run with `python -m benchmarks` (the quick suite) or a sub-module, e.g.
`python -m benchmarks.figures`. The package never imports this folder.
"""
