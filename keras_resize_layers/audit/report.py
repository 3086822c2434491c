"""The audit's report: Markdown, a plot and JSON."""

import json
import os

import numpy as np

from keras_resize_layers.audit.variants import needs_extra

def percent(interval):
    return (f"{100 * interval['value']:.1f}% [{100 * interval['low']:.1f}, "
            f"{100 * interval['high']:.1f}]")


def markdown(result):
    head = ["# Resize sensitivity audit", "", result["recommendation"], "",
            f"{result['images']} images, model input {result['size'][0]}x{result['size'][1]}, "
            f"reference `{result['reference']}`. Intervals: 95% (Wilson for proportions, "
            "bootstrap over images for means; accuracy differences paired, McNemar's exact "
            "test). images/s: the preprocessing alone, one process, first calls (and this "
            "library's XLA compiles) included.", ""]
    cols = "| variant | family | same top-1 as reference | KL(ref ‖ variant) | top-5 overlap |"
    sep = "|---|---|---|---|---|"
    if result["labels"]:
        cols += " accuracy | Δ accuracy | McNemar p |"
        sep += "---|---|---|"
    cols += " images/s |"
    sep += "---|"
    lines = head + [cols, sep]
    for r in sorted(result["rows"], key=lambda r: -r["agreement"]["value"]):
        kl = r["kl"]
        cells = [f"`{r['name']}`" + (" (reference)" if r.get("reference") else ""),
                 r["family"] + (f"; {r['note']}" if r["note"] else ""), percent(r["agreement"]),
                 f"{kl['value']:.4f} [{kl['low']:.4f}, {kl['high']:.4f}]",
                 f"{r['top5_overlap']['value']:.3f} [{r['top5_overlap']['low']:.3f}, "
                 f"{r['top5_overlap']['high']:.3f}]"]
        if result["labels"]:
            d = r["accuracy_difference"]
            cells += [percent(r["accuracy"]),
                      f"{100 * d['value']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]",
                      f"{r['mcnemar_p']:.3g}"]
        cells.append(f"{r['images_per_s']:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    if result["skipped"]:
        lines += ["", "Not run:"] + [f"- `{s['name']}`: {s['reason']}" for s in result["skipped"]]
    if result.get("skipped_files"):
        lines += ["", f"Files skipped (not decodable, {len(result['skipped_files'])}):"] + [
            f"- `{s['file']}`: {s['reason']}" for s in result["skipped_files"]]
    return "\n".join(lines) + "\n"


def plot(result, path):
    """Variants sorted with their intervals, the method x antialias grid, the resolution curve."""
    plt = needs_extra("matplotlib.pyplot")
    rows = sorted(result["rows"], key=lambda r: r["agreement"]["value"])
    fig, axes = plt.subplots(1, 3, figsize=(17, max(6, 0.28 * len(rows))),
                             gridspec_kw={"width_ratios": [2.2, 1, 1]})
    ax = axes[0]
    y = np.arange(len(rows))
    value = np.array([100 * (1 - r["agreement"]["value"]) for r in rows])
    low = np.array([100 * (1 - r["agreement"]["high"]) for r in rows])
    high = np.array([100 * (1 - r["agreement"]["low"]) for r in rows])
    ax.errorbar(value, y, xerr=[np.maximum(value - low, 0), np.maximum(high - value, 0)],
                fmt="o", capsize=3)
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=8)
    ax.set_xlabel("top-1 changed vs the reference (% of images, 95% Wilson interval)")
    ax.set_title(f"{result['images']} images, reference {result['reference']}", fontsize=10)
    grid_rows = [r for r in result["rows"] if r["name"].startswith("krl:") and " " not in r["name"]]
    methods = sorted({r["name"][4:].replace("+aa", "") for r in grid_rows})
    grid = np.full((len(methods), 2), np.nan)
    for r in grid_rows:
        m = r["name"][4:].replace("+aa", "")
        grid[methods.index(m), 0 if r["name"].endswith("+aa") or m in ("area", "nearest")
             else 1] = 100 * r["agreement"]["value"]
    ax = axes[1]
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks([0, 1], ["antialias", "no antialias"])
    ax.set_yticks(range(len(methods)), methods)
    for (i, j), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w")
    ax.set_title("this library: same top-1 (%)", fontsize=10)
    fig.colorbar(image, ax=ax)
    ax = axes[2]
    sweep = sorted(((int(r["name"].split(":")[1].split("x")[0]), r) for r in result["rows"]
                    if r["name"].startswith("size:")), key=lambda pair: pair[0])
    if sweep:
        sizes = [s for s, _ in sweep] + [result["size"][0]]
        kls = [r["kl"]["value"] for _, r in sweep] + [0.0]
        order = np.argsort(sizes)
        ax.plot(np.array(sizes)[order], 100 * (1 - np.array(
            [r["agreement"]["value"] for _, r in sweep] + [1.0]))[order], "o-",
            label="top-1 changed (%)")
        ax.plot(np.array(sizes)[order], np.array(kls)[order] * 100, "s--", label="KL x 100")
        ax.axvline(result["size"][0], color="grey", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_xlabel("test resolution (side, px)")
    ax.set_title("resolution sweep (reference recipe)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result, output_dir):
    """Writes `audit.json`, `audit.md` and `audit.png` in `output_dir`; returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {k: os.path.join(output_dir, f"audit.{k}") for k in ("json", "md", "png")}
    with open(paths["json"], "w") as f:
        json.dump(result, f, indent=1, default=float)
    with open(paths["md"], "w") as f:
        f.write(markdown(result))
    plot(result, paths["png"])
    return paths
