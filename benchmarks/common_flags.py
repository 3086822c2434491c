"""absl flags shared by the benchmark entry points (defined once)."""

from absl import flags

flags.DEFINE_bool("quick", False, "Small run: the main job's settings (< 10 minutes on "
                  "2 cores for the suite, < 2 minutes for throughput alone).")
flags.DEFINE_string("output_dir", "results", "Where to write reports, plots and the cache.")
