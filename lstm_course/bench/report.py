"""The benchmark's results as a Markdown table and as a figure."""

from lstm_course.bench.contenders import IMPLEMENTATIONS

LABELS = {"torch.nn": "torch.nn", "ours": "lstm_course.modules", "numpy": "NumPy scratch"}


def _cell(row, name):
    if name not in row["ms"]:
        return "-"
    return (
        f"{row['ms'][name]:.1f} ms · {row['gflops'][name]:.0f} GFLOP/s · "
        f"{100 * row['peak_fraction'][name]:.0f}%"
    )


def table(rows, implementations=IMPLEMENTATIONS):
    """One line per model and shape: time, GFLOP/s and % of the matmul ceiling of each
    implementation, then each one's time over torch.nn's."""
    others = [name for name in implementations if name != "torch.nn"]
    head = ["model", "(T, B, D, H)", "GFLOP"] + [LABELS[name] for name in implementations]
    head += [f"{LABELS[name]} / torch.nn" for name in others]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for r in rows:
        cells = [r["kind"].upper(), "(" + ", ".join(map(str, r["shape"])) + ")"]
        cells.append(f"{r['flops'] / 1e9:.2f}")
        cells += [_cell(r, name) for name in implementations]
        cells += [f"{r['ratio'][name]:.2f}x" if name in r["ratio"] else "-" for name in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, path, implementations=IMPLEMENTATIONS, title=None):
    """Bars of forward+backward time (log scale) and of the share of the matmul ceiling."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = [f"{r['kind'].upper()}\n" + ",".join(map(str, r["shape"])) for r in rows]
    x = np.arange(len(rows))
    width = 0.8 / len(implementations)
    fig, (ax_t, ax_f) = plt.subplots(2, 1, figsize=(max(6.0, 1.1 * len(rows)), 6), sharex=True)
    for k, name in enumerate(implementations):
        offset = (k - (len(implementations) - 1) / 2) * width
        ms = [r["ms"].get(name, np.nan) for r in rows]
        frac = [100 * r["peak_fraction"].get(name, np.nan) for r in rows]
        ax_t.bar(x + offset, ms, width, label=LABELS[name])
        ax_f.bar(x + offset, frac, width, label=LABELS[name])
    ax_t.set_yscale("log")
    ax_t.set_ylabel("forward + backward (ms)")
    ax_f.set_ylabel("% of matmul ceiling")
    ax_f.set_xticks(x, groups, fontsize=8)
    ax_f.set_xlabel("model and (T, B, D, H)")
    ax_t.legend(fontsize=8)
    ax_t.set_title(title or "Recurrent forward + backward: time and achieved matmul throughput")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
