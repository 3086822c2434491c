"""The speed ratios of several `benchmarks.throughput` runs side by side: each run's median
ratio (trial by trial, alternated within the run), then their median and range across runs.

    python -m benchmarks.across_runs RUN1/throughput.json RUN2/throughput.json ...
        [--ours="krl Resize uint8 out"] [--against=fast_image_resize,libvips,Pillow-SIMD]
        [--table=across_runs.md]

    # the JPEG pipeline against the bare decode, over runs of `--inputs=jpeg`:
    python -m benchmarks.across_runs --ours="tf.data batched_decode_and_resize (batches" \
        --against="tf.data bare decode_jpeg" RUN1/throughput.json ...

One run is one hour of one machine; the VM's speed and the rivals' standing move between
hours, so README quotes the median of at least three runs made at different hours, with the
lowest and highest run. For each source size, "fastest rival" is the rival with the most
images/s in that run (it can change from run to run).
"""

import json
import sys

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("ours", "krl Resize uint8 out", "The row whose speed is compared.")
flags.DEFINE_list("against", ["fast_image_resize", "libvips", "Pillow-SIMD"],
                  "Rivals: rows whose name starts with one of these.")
flags.DEFINE_string("table", None, "Also write the Markdown table to this file.")


def run_ratios(report, ours, against):
    """{source: {rival: (ratio median, images/s of the rival)}} of one report: per-trial
    time ratios, rival / ours (above 1: ours is faster)."""
    out = {}
    rows = [r for r in report["rows"] if "times_s" in r]
    for source in sorted({tuple(r["source"]) for r in rows}):
        here = [r for r in rows if tuple(r["source"]) == source]
        mine = [r for r in here if r["name"].startswith(ours)]
        if len(mine) != 1:
            continue
        here = [r for r in here if r["input"] == mine[0]["input"]]  # same input kind
        for rival in against:
            theirs = [r for r in here if r["name"].startswith(rival)]
            if len(theirs) != 1:
                continue
            per_trial = np.array(theirs[0]["times_s"]) / np.array(mine[0]["times_s"])
            out.setdefault(source, {})[rival] = (
                float(np.median(per_trial)), theirs[0]["images_per_s"]["median"])
    return out


def summarize(reports, ours, against):
    """Rows of (source, rival, [per-run medians], median, low, high); rival "fastest" is the
    run's fastest rival at that size."""
    per_run = [run_ratios(r, ours, against) for r in reports]
    sources = sorted({s for run in per_run for s in run})
    rows = []
    for source in sources:
        for rival in list(against) + ["fastest"]:
            values = []
            for run in per_run:
                found = run.get(source, {})
                if rival == "fastest" and found:
                    values.append(max(found.values(), key=lambda v: v[1])[0])
                elif rival in found:
                    values.append(found[rival][0])
            if values:
                rows.append((source, rival, values, float(np.median(values)), min(values),
                             max(values)))
    return rows


def per_core(reports, ours, against):
    """Rows of (source, name, median Mpx/s per core over the runs, median share of the
    measured memory bandwidth or None) of the in-memory rows: input megapixels per second
    per CPU core."""
    found = {}
    for report in reports:
        cores = report.get("machine", {}).get("cpu_count") or 1
        for r in report["rows"]:
            name = next((n for n in [ours] + list(against) if r["name"].startswith(n)), None)
            if name and "megapixels_per_s" in r and r["input"] == "array":
                found.setdefault((tuple(r["source"]), name), []).append(
                    (r["megapixels_per_s"] / cores, r.get("bandwidth_fraction")))
    rows = []
    for (source, name), values in sorted(found.items()):
        shares = [b for _, b in values if b is not None]
        rows.append((source, name, float(np.median([m for m, _ in values])),
                     float(np.median(shares)) if shares else None))
    return rows


def markdown(reports, rows, cores=(), ours="krl Resize uint8 out"):
    stamps = [f"{r['date']} {r.get('time', '')}".strip() for r in reports]
    lines = [f"{len(reports)} reports ({'; '.join(stamps)}). Speed of `{ours}` over each "
             "rival: median of the runs' median per-trial ratios (lowest–highest run; a "
             "run is one report holding both rows).", "",
             "| source | rival | median of runs | runs |", "|---|---|---|---|"]
    for source, rival, values, median, low, high in rows:
        lines.append(f"| {source[0]}² | {rival} | **{median:.2f}×** ({low:.2f}–{high:.2f}) | "
                     + ", ".join(f"{v:.2f}" for v in values) + " |")
    if cores:
        lines += ["", "Input megapixels per second per core and share of the run's measured "
                  "memory bandwidth (input read once + output written once), medians over the "
                  "runs:", "", "| source | row | Mpx/s per core | bandwidth share |",
                  "|---|---|---|---|"]
        for source, name, mpx, share in cores:
            lines.append(f"| {source[0]}² | {name} | {mpx:,.0f} | "
                         + ("—" if share is None else f"{100 * share:.0f}%") + " |")
    return "\n".join(lines) + "\n"


def main(argv):
    paths = argv[1:]
    if not paths:
        raise app.UsageError("give one or more throughput.json files")
    reports = [json.load(open(p)) for p in paths]
    text = markdown(reports, summarize(reports, FLAGS.ours, FLAGS.against),
                    per_core(reports, FLAGS.ours, FLAGS.against), FLAGS.ours)
    sys.stdout.write(text)
    if FLAGS.table:
        with open(FLAGS.table, "w") as f:
            f.write(text)


if __name__ == "__main__":
    app.run(main)
