"""Writes a benchmark's JSON, Markdown and PNG files side by side."""

import json
import os


def write_json(output_dir, stem, report):
    """`output_dir/stem.json` from `report` (the folder made if needed)."""
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, f"{stem}.json"), "w") as f:
        json.dump(report, f, indent=1)


def write(output_dir, stem, report, markdown, plot):
    """`stem.json` and `stem.md` from `report`; `plot(report, output_dir)` draws the PNGs."""
    write_json(output_dir, stem, report)
    with open(os.path.join(output_dir, f"{stem}.md"), "w") as f:
        f.write(markdown(report))
    try:
        import matplotlib  # noqa: F401  (the [bench] extra; absent on some GPU machines)
    except ImportError:
        print(f"{stem}: matplotlib is not installed, no PNG plots written "
              '(pip install "keras_resize_layers[bench]").')
        return
    plot(report, output_dir)
