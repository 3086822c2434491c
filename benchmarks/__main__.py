"""The main job: the quick benchmark suite on the embedded offline dataset.

    python -m benchmarks [--output_dir=results] [--full] [--noaudit] [--update_readme=README.md]

Runs the resize sensitivity audit of EfficientNet-Lite0 on 100 of the natural photos (10
pipelines against the training recipe; `python -m benchmarks.audit_lite` runs all 34 on all 588),
then the
throughput benchmark and the accuracy study (quick settings unless
--full) and writes OUTPUT_DIR/report.md next to their JSON files and PNG plots.
The report opens with the accuracy study's five-sentence summary, generated from the run;
--update_readme writes the same sentences into README's summary block. Accuracy results are
cached per configuration and seed, so an interrupted run resumes.
"""

import os
import time

from absl import app, flags

from benchmarks import accuracy, audit_lite, throughput

FLAGS = flags.FLAGS
flags.DEFINE_bool("full", False, "Full settings instead of the quick suite (hours on 2 cores).")
flags.DEFINE_bool("audit", True, "Open the report with the audit of EfficientNet-Lite0 on "
                  "100 natural photos (10 pipelines).")
AUDIT_PHOTOS = 100  # of 588: the quick job's share, for its 6-minute budget


def main(argv):
    del argv
    start = time.perf_counter()
    quick = not FLAGS.full
    out = FLAGS.output_dir
    audit_section = []
    if FLAGS.audit:
        result = audit_lite.run(limit=0 if FLAGS.full else AUDIT_PHOTOS, output_dir=out,
                                names=audit_lite.MAIN_VARIANTS)
        audit_section = [open(result["paths"]["md"]).read().replace(
            "# Resize sensitivity audit", "## Resize sensitivity audit: EfficientNet-Lite0", 1),
            "![audit](audit.png)", ""]
    t = throughput.settings(quick)
    tp = throughput.run(t["source_sizes"], throughput.parse_size(FLAGS.target_size),
                        t["methods"], t["batch_size"], t["trials"], FLAGS.device, quick, out)
    cfg = accuracy.settings(quick)
    acc = accuracy.run(FLAGS.dataset, cfg, list(accuracy.EXPERIMENTS), FLAGS.model, out,
                       command="python -m benchmarks" + (" --full" if FLAGS.full else ""),
                       workers=FLAGS.workers or accuracy.default_workers())
    minutes = (time.perf_counter() - start) / 60
    m = tp["machine"]
    report = [
        "# keras_resize_layers benchmark report", "",
        f"{acc['date']} — {m['cpu_count']} CPU cores ({m['processor'] or m['platform']}), "
        f"device {m['device']}, Keras backend {m['backend']}, "
        f"{'quick' if quick else 'full'} settings, {minutes:.1f} minutes. "
        f"Command: `python -m benchmarks{' --full' if FLAGS.full else ''}"
        f"{'' if FLAGS.audit else ' --noaudit'}`.", "",
        "## Summary: what resizing does to accuracy (the accuracy study below)", "",
        *[f"{i + 1}. {sentence}" for i, sentence in enumerate(acc["summary"])], "",
        "Files: throughput.json / .md / .png, accuracy.json / .md, accuracy_*.png"
        + (", audit.json / .md / .png." if FLAGS.audit else "."), "",
        *audit_section,
        "![throughput](throughput.png)", "",
        throughput.markdown(tp).replace("# Throughput", "## Throughput", 1),
        accuracy.markdown(acc).replace("# Accuracy study", "## Accuracy study", 1)
        .replace("\n## ", "\n### "),
    ]
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(report))
    print(f"wrote {path} ({minutes:.1f} min)")
    if FLAGS.update_readme:
        accuracy.update_readme(FLAGS.update_readme, acc, "python -m benchmarks"
                               + (" --full" if FLAGS.full else ""))
        print(f"rewrote the accuracy summary in {FLAGS.update_readme}")


if __name__ == "__main__":
    app.run(main)
