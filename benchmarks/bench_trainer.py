"""Benchmark: the trainer against ConvNetJS on ConvNetJS's CIFAR-10 demo network.

The network: input 32x32x3, conv 5x5 16 (pad 2, ReLU) / pool 2x2 / conv 5x5
20 / pool / conv 5x5 20 / pool / softmax over 10 classes, SGD with momentum
0.9, weight decay 1e-4, batches of 20 on both sides. ConvNetJS is npm's
``convnetjs`` 0.3.0, run in node (one thread; it computes in float64), from
``benchmarks/convnetjs/`` (installed there with ``npm ci`` if missing). Ours
is ``cs231n_lib.trainer`` with numpy's BLAS limited to one thread.

Measured, in rounds that alternate the contenders so that a slow moment of a
shared machine hits all of them:

- training throughput (examples per second, whole steps: batch sampling,
  forward, backward, update) of ConvNetJS, ours in float32, ours in float64;
- ours in float64 on the background thread with the live dashboard attached
  (``Dashboard`` with its default refresh interval, 0.4 s): dashboard refreshes per second and
  the share of the training time spent refreshing. No browser is connected:
  each widget message is JSON-encoded as the kernel would encode it, but not
  sent.

Inputs are random images with random labels on both sides (the cost of
either implementation does not depend on pixel values); no data is needed.
Reports medians over the rounds and the ratios ours / ConvNetJS.

Usage::

    .venv/bin/python benchmarks/bench_trainer.py [--rounds 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_layers import machine_description  # noqa: E402

from cs231n_lib.trainer import CIFAR10_DEMO, Network, Trainer  # noqa: E402

CONVNETJS_DIR = Path(__file__).resolve().parent / "convnetjs"
BATCH = 20
TARGET_RATIO = 10.0
TARGET_REFRESHES_PER_S = 2.0
TARGET_REFRESH_SHARE = 0.10
NODE_MISSING = (
    "bench_trainer.py runs ConvNetJS in node, and `{tool}` is not on the PATH. Install "
    "Node.js with npm (Debian: `apt-get install nodejs npm`) and run this script again.")


def ensure_convnetjs() -> None:
    """Install the pinned ConvNetJS into benchmarks/convnetjs/node_modules if missing."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise SystemExit(NODE_MISSING.format(tool=tool))
    if not (CONVNETJS_DIR / "node_modules" / "convnetjs" / "package.json").is_file():
        print("installing convnetjs 0.3.0 (npm ci in benchmarks/convnetjs)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CONVNETJS_DIR, check=True)


def convnetjs_rate(examples: int, warmup: int, seed: int) -> tuple[float, float]:
    """ConvNetJS's training examples per second (node, one thread): wall clock, CPU time."""
    out = subprocess.run(["node", "train.js", str(examples), str(warmup), str(BATCH), str(seed)],
                         cwd=CONVNETJS_DIR, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["examples_per_s"], examples / result["cpu_seconds"]


def random_data(seed: int, n: int = 1000) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 3, 32, 32))
    y = rng.integers(0, 10, n)
    return {"X_train": X, "y_train": y, "X_val": X[:100], "y_val": y[:100],
            "X_test": X[100:200], "y_test": y[100:200]}


def make_trainer(data, dtype) -> Trainer:
    net = Network(CIFAR10_DEMO, input_shape=(3, 32, 32), num_classes=10, dtype=dtype)
    # eval_every=0: the throughput is training alone, as ConvNetJS's is.
    trainer = Trainer(net, data, lr=0.01, momentum=0.9, batch_size=BATCH, weight_decay=1e-4,
                      eval_every=0)
    trainer.step(3)  # warm-up: first-call allocations
    return trainer


def ours_rate(data, dtype, steps: int) -> tuple[float, float]:
    """Our training examples per second on this thread: wall clock, CPU time of the thread."""
    trainer = make_trainer(data, dtype)
    start, cpu_start = time.perf_counter(), time.thread_time()
    trainer.step(steps)
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return steps * BATCH / wall, steps * BATCH / cpu


class EncodingComm:
    """A comm that JSON-encodes every message, as the kernel does, and drops it."""

    def __init__(self, *args, **kwargs):
        from comm.base_comm import BaseComm

        class _Comm(BaseComm):
            def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
                json.dumps(data, default=str)
                if buffers:
                    sum(len(memoryview(b)) for b in buffers)

        self.comm = _Comm(*args, **kwargs)


def with_dashboard(data, dtype, steps: int) -> dict:
    """Train ``steps`` steps on the background thread with the dashboard refreshing."""
    import comm

    from cs231n_lib.trainer.dashboard import Dashboard

    original = comm.create_comm
    comm.create_comm = lambda *a, **k: EncodingComm(*a, **k).comm
    try:
        trainer = make_trainer(data, dtype)
        board = Dashboard(trainer)
        refreshes, cost, cpu_cost = board.refreshes, board.refresh_seconds, \
            board.refresh_cpu_seconds
        # This thread only waits, and BLAS has one thread: the process's CPU
        # time is the training thread's.
        start, cpu_start = time.perf_counter(), time.process_time()
        trainer.start(steps=steps)
        trainer.wait_until_paused()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        trainer.stop()
    finally:
        comm.create_comm = original
    if trainer.errors:
        raise RuntimeError(trainer.errors[0])
    count = board.refreshes - refreshes
    return {"examples_per_s": steps * BATCH / elapsed, "cpu_examples_per_s": steps * BATCH / cpu,
            "refreshes_per_s": count / elapsed,
            "refresh_share": (board.refresh_seconds - cost) / elapsed,
            "refresh_cpu_share": (board.refresh_cpu_seconds - cpu_cost) / cpu,
            "refresh_ms": 1e3 * (board.refresh_seconds - cost) / max(count, 1)}


def matplotlib_figure_ms(data, repeats=3) -> float:
    """Median time to draw the static summary figure with matplotlib and encode its PNG.

    The live views avoid matplotlib; this is what one refresh would cost with it.
    """
    from cs231n_lib.trainer.summary import summary_figure

    trainer = make_trainer(data, np.float64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        summary_figure(trainer)._repr_png_()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def run(rounds: int, cj_examples: int, steps: int) -> dict:
    data = random_data(0)
    keys = ("convnetjs", "float32", "float64", "float64 + dashboard", "convnetjs cpu",
            "float32 cpu", "float64 cpu", "float64 + dashboard cpu", "refreshes_per_s",
            "refresh_share", "refresh_cpu_share", "refresh_ms")
    samples = {key: [] for key in keys}
    for r in range(rounds):
        for key, (wall, cpu) in (
                ("convnetjs", convnetjs_rate(cj_examples, 100, seed=r + 1)),
                ("float32", ours_rate(data, np.float32, steps)),
                ("float64", ours_rate(data, np.float64, steps))):
            samples[key].append(wall)
            samples[f"{key} cpu"].append(cpu)
        live = with_dashboard(data, np.float64, steps)
        samples["float64 + dashboard"].append(live["examples_per_s"])
        samples["float64 + dashboard cpu"].append(live["cpu_examples_per_s"])
        for key in ("refreshes_per_s", "refresh_share", "refresh_cpu_share", "refresh_ms"):
            samples[key].append(live[key])
        print(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{k} {v[-1]:.3g}" for k, v in samples.items()), flush=True)
    # Ratios per round (the contenders of a round ran back to back), then the median.
    ratios = {key: [a / b for a, b in zip(samples[key], samples[base], strict=True)]
              for key, base in (("float32", "convnetjs"), ("float64", "convnetjs"),
                                ("float64 + dashboard", "convnetjs"),
                                ("float32 cpu", "convnetjs cpu"),
                                ("float64 cpu", "convnetjs cpu"),
                                ("float64 + dashboard cpu", "convnetjs cpu"))}
    return {"samples": samples, "ratios": ratios,
            "matplotlib_figure_ms": matplotlib_figure_ms(data),
            "median": {k: statistics.median(v) for k, v in samples.items()},
            "median_ratio": {k: statistics.median(v) for k, v in ratios.items()}}


def report(result: dict, args) -> tuple[str, bool]:
    m, ratios, r = result["median"], result["ratios"], result["median_ratio"]
    rows = ["| contender | examples/s | ours / ConvNetJS (range) | same, CPU time | target "
            "| met |", "|---|---:|---:|---:|---:|---|"]
    met_all = True
    rows.append(f"| ConvNetJS 0.3.0 (node, float64) | {m['convnetjs']:.1f} | 1.00x | 1.00x "
                "| - | - |")
    for key in ("float32", "float64", "float64 + dashboard"):
        met = r[key] >= TARGET_RATIO
        met_all &= met
        cpu = f"{r[key + ' cpu']:.1f}x"
        rows.append(f"| ours, {key} | {m[key]:.1f} | {r[key]:.1f}x ({min(ratios[key]):.1f}-"
                    f"{max(ratios[key]):.1f}x) | {cpu} | >= {TARGET_RATIO:g}x | "
                    f"{'yes' if met else 'NO'} |")
    refresh_ok = m["refreshes_per_s"] >= TARGET_REFRESHES_PER_S
    share_ok = m["refresh_share"] < TARGET_REFRESH_SHARE
    met_all &= refresh_ok and share_ok
    rows += ["", "| dashboard while training (float64) | value | target | met |",
             "|---|---:|---:|---|",
             f"| refreshes per second | {m['refreshes_per_s']:.2f} | >= "
             f"{TARGET_REFRESHES_PER_S:g} | {'yes' if refresh_ok else 'NO'} |",
             f"| share of training time spent refreshing | {100 * m['refresh_share']:.1f}% | "
             f"< {100 * TARGET_REFRESH_SHARE:g}% | {'yes' if share_ok else 'NO'} |",
             f"| same, in CPU time | {100 * m['refresh_cpu_share']:.1f}% | - | - |",
             f"| time per refresh | {m['refresh_ms']:.1f} ms | - | - |",
             f"| for comparison: one matplotlib summary figure, drawn and encoded | "
             f"{result['matplotlib_figure_ms']:.0f} ms | - | - |"]
    return "\n".join(rows), met_all


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--convnetjs-examples", type=int, default=600,
                        help="examples ConvNetJS trains on per round (after 100 warm-up)")
    parser.add_argument("--steps", type=int, default=150,
                        help=f"steps of {BATCH} examples ours trains per round and dtype")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the results here")
    args = parser.parse_args(argv)
    ensure_convnetjs()
    from threadpoolctl import threadpool_limits

    machine = machine_description()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs; node {node}; "
          f"numpy {np.__version__} (BLAS limited to 1 thread); batch {BATCH}")
    load_before = os.getloadavg()[0]
    with threadpool_limits(limits=1):
        result = run(args.rounds, args.convnetjs_examples, args.steps)
    load_after = os.getloadavg()[0]
    table, met = report(result, args)
    print(f"load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
    print(f"medians of {args.rounds} rounds:\n{table}")
    if args.json:
        result.update(machine=machine, node=node, load=[load_before, load_after],
                      args=vars(args) | {"json": str(args.json)})
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
