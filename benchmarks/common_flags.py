"""absl flags shared by the benchmark entry points (defined once)."""

from absl import flags

flags.DEFINE_bool("quick", False, "Small run: the main job's settings (< 10 minutes on "
                  "2 cores for the suite, < 2 minutes for throughput alone).")


def define_once(define, name, default, help_text):
    """`define(name, default, help_text)` (an absl `flags.DEFINE_*`) unless a benchmark
    imported earlier into this process (the suite, the tests) defined `name` already: absl
    refuses a second definition, and the first one (its default) stands."""
    if name not in flags.FLAGS:
        define(name, default, help_text)


define_once(flags.DEFINE_string, "output_dir", "results",
            "Where to write reports, plots and the cache.")
