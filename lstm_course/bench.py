"""Benchmark: forward + backward time of our recurrent modules against torch.nn's.

Run with ``make bench`` (or ``python -m lstm_course.bench``). It prints a Markdown table and can
write it (and the raw numbers as JSON) to files. This is a measurement, not a test: the
numbers depend on the machine and on what else runs on it, so the two implementations are
timed alternately, repeat after repeat, and each is reported by its median.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

# (T, B, D, H): the shapes the README's table reports.
SHAPES = [(50, 32, 64, 128), (100, 64, 128, 256)]
KINDS = ("lstm", "gru", "rnn")


def _build(kind, implementation, D, H, device):
    import torch

    from lstm_course import modules

    source = torch.nn if implementation == "torch.nn" else modules
    cls = {"lstm": source.LSTM, "gru": source.GRU, "rnn": source.RNN}[kind]
    torch.manual_seed(0)
    return cls(D, H).to(device)


def _time_once(module, X, dY, device):
    """Seconds for one forward and backward pass (synchronising the GPU around it)."""
    import torch

    module.zero_grad(set_to_none=True)
    X.grad = None
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    Y, _ = module(X)
    Y.backward(dY)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(kind, shape, device, repeats=7, warmup=2):
    """Median forward+backward seconds of torch.nn and ours for one kind and shape."""
    import torch

    T, B, D, H = shape
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(T, B, D, generator=gen).to(device).requires_grad_()
    dY = torch.randn(T, B, H, generator=gen).to(device)
    impls = {name: _build(kind, name, D, H, device) for name in ("torch.nn", "ours")}
    times = {name: [] for name in impls}
    for i in range(warmup + repeats):
        for name, module in impls.items():  # alternate, so background load hits both alike
            seconds = _time_once(module, X, dY, device)
            if i >= warmup:
                times[name].append(seconds)
    return {name: statistics.median(ts) for name, ts in times.items()}


def run(kinds=KINDS, shapes=SHAPES, device=None, threads=2, repeats=7):
    """Measure every kind and shape; returns a list of result rows (dicts)."""
    import torch

    from lstm_course.runtime import device as best_device

    device = torch.device(device) if device is not None else best_device()
    if device.type == "cpu":
        torch.set_num_threads(threads)
    rows = []
    for kind in kinds:
        for shape in shapes:
            t = measure(kind, shape, device, repeats=repeats)
            rows.append(
                {
                    "kind": kind,
                    "T, B, D, H": shape,
                    "device": str(device),
                    "threads": threads if device.type == "cpu" else None,
                    "torch.nn ms": 1e3 * t["torch.nn"],
                    "ours ms": 1e3 * t["ours"],
                    "ratio": t["ours"] / t["torch.nn"],
                }
            )
            print(_row(rows[-1]), flush=True)
    return rows


def _row(r):
    shape = ", ".join(map(str, r["T, B, D, H"]))
    return (
        f"| {r['kind'].upper()} | ({shape}) | {r['device']} | {r['torch.nn ms']:.1f} | "
        f"{r['ours ms']:.1f} | {r['ratio']:.2f}x |"
    )


def table(rows):
    """The results as a Markdown table."""
    head = (
        "| model | (T, B, D, H) | device | torch.nn fwd+bwd (ms) | lstm_course (ms) | ratio |\n"
        "|---|---|---|---:|---:|---:|"
    )
    return "\n".join([head] + [_row(r) for r in rows])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per cell")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--json", type=Path, help="also write the raw rows to this file")
    args = parser.parse_args(argv)
    print(table([]))
    rows = run(args.kinds, SHAPES, args.device, args.threads, args.repeats)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table(rows) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
