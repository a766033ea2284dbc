"""Benchmark: forward + backward time of RNN, LSTM and GRU in three implementations.

Run with ``make bench`` (or ``lstm-course bench``, ``python -m lstm_course.bench``). For each
model and shape it times torch.nn (oneDNN on the CPU, cuDNN on a GPU), our PyTorch modules and
our NumPy scratch code on the same weights, and reports milliseconds, the achieved GFLOP/s of
the matrix products (flops.py) and their share of this machine's matmul ceiling: the best
GFLOP/s of one large float32 matmul, measured at the start. It prints a Markdown table and can
write it, the raw rows (JSON) and a figure.

This is a measurement, not a test: the numbers depend on the machine and on what else runs on
it. So torch.nn and ours are timed in turn, repeat after repeat (background load hits both
alike), NumPy in a phase of its own after them (see run), each is reported by its median, and
ratios are only ever taken within one run.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from lstm_course.bench.contenders import IMPLEMENTATIONS, make_runs
from lstm_course.bench.flops import matmul_gflops, recurrent_flops
from lstm_course.bench.report import plot, table

# (T, B, D, H): a lecture-sized model, a larger one, and a long sequence of a small one.
SHAPES = [(50, 32, 64, 128), (100, 64, 128, 256), (200, 16, 32, 64)]
KINDS = ("lstm", "gru", "rnn")


def measure(runs, repeats=7, warmup=2):
    """Median seconds of each run (a dict name -> zero-argument callable), timed in turn,
    repeat after repeat, so that background load hits all of them alike."""
    times = {name: [] for name in runs}
    for i in range(warmup + repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def ceilings(device):
    """The matmul ceiling (GFLOP/s) for the torch implementations and for NumPy."""
    cpu = max(matmul_gflops("torch", "cpu"), matmul_gflops("numpy"))
    torch_ceiling = cpu if device.type == "cpu" else matmul_gflops("torch", device)
    return {"torch.nn": torch_ceiling, "ours": torch_ceiling, "numpy": cpu}


def run(
    kinds=KINDS,
    shapes=SHAPES,
    device=None,
    threads=2,
    repeats=7,
    implementations=IMPLEMENTATIONS,
    log=print,
):
    """Measure every kind and shape; returns (rows, ceilings). Each row is a dict."""
    import torch

    from lstm_course.runtime import device as best_device

    device = torch.device(device) if device is not None else best_device()
    torch.set_num_threads(threads)  # the CPU: torch's own work, and NumPy's side of a GPU run
    peak = ceilings(device)
    log(
        f"matmul ceiling: {peak['torch.nn']:.0f} GFLOP/s ({device}), NumPy's side "
        f"{peak['numpy']:.0f} GFLOP/s (cpu)"
    )
    # Two phases: torch (torch.nn and ours, in turn) for every cell, then NumPy for every cell.
    # Each library keeps its own pool of worker threads, and an idle pool spins for a while
    # before it sleeps: interleaved, NumPy's BLAS threads and torch's OpenMP threads take the
    # same 2 cores from each other (torch.nn's LSTM ran up to 8x slower that way here).
    cells = [(kind, shape) for kind in kinds for shape in shapes]
    phases = [
        [n for n in implementations if n != "numpy"],
        [n for n in implementations if n == "numpy"],
    ]
    seconds = {cell: {} for cell in cells}
    for phase in (p for p in phases if p):
        time.sleep(1.0)  # let the other library's threads go to sleep
        for kind, shape in cells:
            runs = make_runs(kind, shape, device, phase)
            seconds[kind, shape].update(measure(runs, repeats=repeats))
            log(
                f"  {kind} {shape}: "
                + ", ".join(f"{n} {1e3 * seconds[kind, shape][n]:.1f} ms" for n in phase)
            )
    rows = []
    for kind, shape in cells:
        s = {name: seconds[kind, shape][name] for name in implementations}
        flops = recurrent_flops(kind, shape)
        rows.append(
            {
                "kind": kind,
                "shape": list(shape),
                "device": str(device),
                "threads": threads,
                "flops": flops,
                "ms": {name: 1e3 * t for name, t in s.items()},
                "gflops": {name: flops / t / 1e9 for name, t in s.items()},
                "peak_fraction": {name: flops / t / 1e9 / peak[name] for name, t in s.items()},
                "ratio": {
                    name: t / s["torch.nn"]
                    for name, t in s.items()
                    if name != "torch.nn" and "torch.nn" in s
                },
            }
        )
    return rows, peak


def _shape(text):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected T,B,D,H (four positive ints), got {text!r}")
    return shape


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per cell")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument(
        "--shapes",
        nargs="+",
        type=_shape,
        default=SHAPES,
        metavar="T,B,D,H",
        help="shapes to time (default: " + " ".join(",".join(map(str, s)) for s in SHAPES) + ")",
    )
    parser.add_argument(
        "--implementations",
        nargs="+",
        default=list(IMPLEMENTATIONS),
        choices=IMPLEMENTATIONS,
        help="torch.nn is needed for the ratios",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--json", type=Path, help="also write the raw rows to this file")
    parser.add_argument("--plot", type=Path, help="also draw the results into this image")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeats < 1:
        parser.error("--threads and --repeats must be at least 1")
    implementations = [name for name in IMPLEMENTATIONS if name in args.implementations]
    rows, peak = run(
        args.kinds,
        args.shapes,
        args.device,
        args.threads,
        args.repeats,
        implementations,
        log=lambda line: print(line, flush=True),
    )
    print(table(rows, implementations))
    for path in (args.markdown, args.json, args.plot):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    if args.markdown:
        note = (
            f"\nMatmul ceiling: {peak['torch.nn']:.0f} GFLOP/s ({rows[0]['device']}, torch), "
            f"{peak['numpy']:.0f} GFLOP/s for NumPy (cpu); {args.threads} torch threads.\n"
        )
        args.markdown.write_text(table(rows, implementations) + "\n" + note)
    if args.json:
        args.json.write_text(json.dumps({"ceiling_gflops": peak, "rows": rows}, indent=2) + "\n")
    if args.plot:
        plot(rows, args.plot, implementations)
    return 0
