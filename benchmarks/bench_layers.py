"""Benchmark: the library's fast layers against PyTorch's CPU operators.

One process, one thread (numpy's BLAS through threadpoolctl, torch through
``torch.set_num_threads``), float64. Each measurement is the median of
several repeats, ours and torch's interleaved so that a slow moment of the
machine hits both. Reports the ratio ours / torch for each operation against
its target, and the speedup of the fast conv and pool layers over the naive
ones.

Shapes: conv x=(50, 64, 32, 32), w=(64, 64, 3, 3), stride 1, pad 1; max pool
2x2 stride 2 on the same x; batch normalisation x=(256, 1024) in train mode.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        .venv/bin/python benchmarks/bench_layers.py [--repeats 9] [--json results.json]

(those two variables are meant for old OpenBLAS builds and slow down the one
numpy ships; the script reports whether they are set). torch is a
benchmark-only dependency: ``.venv/bin/pip install torch==2.13.0``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cs231n_lib import fast_layers  # noqa: E402
from cs231n_lib.batchnorm import (  # noqa: E402
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
)
from cs231n_lib.conv import (  # noqa: E402
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from cs231n_lib.fast_layers import (  # noqa: E402
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

# Largest acceptable ours / torch ratio per operation.
TARGETS = {
    "conv forward": 1.0,
    "conv backward": 1.2,
    "max pool forward": 0.5,
    "max pool backward": 5.0,
    "batchnorm forward": 3.0,
    "batchnorm backward": 2.0,
}
OPENBLAS_TUNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TORCH_MISSING = (
    "bench_layers.py compares the fast layers with PyTorch's CPU operators, but torch is not "
    "installed in this environment. torch is a benchmark-only dependency (the pyproject's "
    "'bench' extra), not part of requirements.txt. Install it with:\n"
    "    .venv/bin/pip install torch==2.13.0\n"
    "then run this script again."
)


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def machine_description() -> dict:
    """CPU model and core count (from lscpu when available), OS and versions."""
    info = {"cpu": platform.processor() or platform.machine(), "logical_cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return info
    fields = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    info["cpu"] = fields.get("Model name", info["cpu"])
    for key, name in (("Core(s) per socket", "cores_per_socket"), ("Socket(s)", "sockets"),
                      ("Thread(s) per core", "threads_per_core"), ("L2 cache", "l2_cache"),
                      ("L3 cache", "l3_cache")):
        if key in fields:
            info[name] = fields[key]
    return info


def blas_description() -> list[dict]:
    """What threadpoolctl sees: the BLAS libraries loaded, their kernels and thread counts."""
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{k: lib.get(k) for k in keep if k in lib} for lib in threadpool_info()]


@dataclass
class Timing:
    """Median times of one operation, in milliseconds.

    ``wall`` is elapsed time; ``cpu`` is the CPU time of the calling thread
    (user + system, page faults included), which a busy machine disturbs less
    because time spent waiting for a core is not counted. Both libraries do
    their work in the calling thread here (one thread each).
    """

    wall: float
    cpu: float


def _timed(fn):
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - wall, time.thread_time() - cpu


def _median(samples) -> Timing:
    return Timing(wall=1e3 * statistics.median(s[0] for s in samples),
                  cpu=1e3 * statistics.median(s[1] for s in samples))


def time_pair(ours, theirs, repeats: int) -> tuple[Timing, Timing]:
    """Median times of two callables, run alternately after one warm-up each."""
    ours()
    theirs()
    ours_s, theirs_s = [], []
    for _ in range(repeats):
        ours_s.append(_timed(ours))
        theirs_s.append(_timed(theirs))
    return _median(ours_s), _median(theirs_s)


def time_one(fn, repeats: int) -> Timing:
    fn()
    return _median([_timed(fn) for _ in range(repeats)])


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def run(torch, repeats: int, naive_repeats: int, seed: int = 0):
    """Time every operation; returns (rows against torch, rows naive vs fast)."""
    import torch.nn.functional as TF

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((50, 64, 32, 32))
    w = rng.standard_normal((64, 64, 3, 3)) * 0.05
    b = rng.standard_normal(64)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    xb = rng.standard_normal((256, 1024)) * 3.0 + 1.0
    gamma = rng.standard_normal(1024)
    beta = rng.standard_normal(1024)

    rows = []

    def record(name, ours, theirs, max_rel_diff):
        rows.append({"operation": name, "ours_ms": ours.wall, "torch_ms": theirs.wall,
                     "ratio": ours.wall / theirs.wall, "ours_cpu_ms": ours.cpu,
                     "torch_cpu_ms": theirs.cpu, "cpu_ratio": ours.cpu / theirs.cpu,
                     "target": TARGETS[name], "met": ours.wall / theirs.wall <= TARGETS[name],
                     "max_rel_diff_vs_torch": max_rel_diff})

    # --- convolution --------------------------------------------------------
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    out, conv_cache = conv_forward_fast(x, w, b, conv_param)
    with torch.no_grad():
        out_t = TF.conv2d(xt, wt, bt, stride=1, padding=1)
        diff = _rel(out, out_t.numpy())
        ours, theirs = time_pair(lambda: conv_forward_fast(x, w, b, conv_param),
                                      lambda: TF.conv2d(xt, wt, bt, stride=1, padding=1),
                                      repeats)
    record("conv forward", ours, theirs, diff)

    dout = rng.standard_normal(out.shape)
    dout_t = torch.from_numpy(dout)
    out_t = TF.conv2d(xt, wt, bt, stride=1, padding=1)
    grads = conv_backward_fast(dout, conv_cache)
    grads_t = torch.autograd.grad(out_t, (xt, wt, bt), dout_t, retain_graph=True)
    diff = max(_rel(g, gt.numpy()) for g, gt in zip(grads, grads_t, strict=True))
    ours, theirs = time_pair(
        lambda: conv_backward_fast(dout, conv_cache),
        lambda: torch.autograd.grad(out_t, (xt, wt, bt), dout_t, retain_graph=True), repeats)
    record("conv backward", ours, theirs, diff)

    # --- max pooling --------------------------------------------------------
    pooled, pool_cache = max_pool_forward_fast(x, pool_param)
    with torch.no_grad():
        diff = _rel(pooled, TF.max_pool2d(xt, 2, 2).numpy())
        ours, theirs = time_pair(lambda: max_pool_forward_fast(x, pool_param),
                                      lambda: TF.max_pool2d(xt, 2, 2), repeats * 3)
    record("max pool forward", ours, theirs, diff)

    dpool = rng.standard_normal(pooled.shape)
    dpool_t = torch.from_numpy(dpool)
    pooled_t = TF.max_pool2d(xt, 2, 2)
    diff = _rel(max_pool_backward_fast(dpool, pool_cache),
                torch.autograd.grad(pooled_t, (xt,), dpool_t, retain_graph=True)[0].numpy())
    ours, theirs = time_pair(
        lambda: max_pool_backward_fast(dpool, pool_cache),
        lambda: torch.autograd.grad(pooled_t, (xt,), dpool_t, retain_graph=True),
        repeats * 3)
    record("max pool backward", ours, theirs, diff)

    # --- batch normalisation (train mode) ------------------------------------
    xbt = torch.from_numpy(xb).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    bet = torch.from_numpy(beta).requires_grad_()
    running_mean_t = torch.zeros(1024, dtype=torch.float64)
    running_var_t = torch.ones(1024, dtype=torch.float64)

    def torch_bn():
        return TF.batch_norm(xbt, running_mean_t, running_var_t, gt, bet, training=True,
                             momentum=0.1, eps=1e-5)

    bn_param = {"mode": "train"}
    bn_out, bn_cache = batchnorm_forward(xb, gamma, beta, bn_param)
    with torch.no_grad():
        diff = _rel(bn_out, torch_bn().numpy())
        ours, theirs = time_pair(lambda: batchnorm_forward(xb, gamma, beta, bn_param),
                                      torch_bn, repeats * 5)
    record("batchnorm forward", ours, theirs, diff)

    dbn = rng.standard_normal(bn_out.shape)
    dbn_t = torch.from_numpy(dbn)
    bn_out_t = torch_bn()
    grads = batchnorm_backward_alt(dbn, bn_cache)
    grads_t = torch.autograd.grad(bn_out_t, (xbt, gt, bet), dbn_t, retain_graph=True)
    diff = max(_rel(g, g_t.numpy()) for g, g_t in zip(grads, grads_t, strict=True))
    ours, theirs = time_pair(
        lambda: batchnorm_backward_alt(dbn, bn_cache),
        lambda: torch.autograd.grad(bn_out_t, (xbt, gt, bet), dbn_t, retain_graph=True),
        repeats * 5)
    record("batchnorm backward", ours, theirs, diff)
    staged = time_one(lambda: batchnorm_backward(dbn, bn_cache), repeats * 5)
    rows[-1]["staged_backward_ms"] = staged.wall
    rows[-1]["staged_ratio"] = staged.wall / theirs.wall
    rows[-1]["staged_cpu_ratio"] = staged.cpu / theirs.cpu

    # --- naive vs fast -------------------------------------------------------
    speedups = []
    if naive_repeats > 0:
        _, naive_conv_cache = conv_forward_naive(x, w, b, conv_param)
        _, naive_pool_cache = max_pool_forward_naive(x, pool_param)
        pairs = [
            ("conv forward", lambda: conv_forward_naive(x, w, b, conv_param),
             lambda: conv_forward_fast(x, w, b, conv_param)),
            ("conv backward", lambda: conv_backward_naive(dout, naive_conv_cache),
             lambda: conv_backward_fast(dout, conv_cache)),
            ("max pool forward", lambda: max_pool_forward_naive(x, pool_param),
             lambda: max_pool_forward_fast(x, pool_param)),
            ("max pool backward", lambda: max_pool_backward_naive(dpool, naive_pool_cache),
             lambda: max_pool_backward_fast(dpool, pool_cache)),
        ]
        for name, naive, fast in pairs:
            naive_t = time_one(naive, naive_repeats)
            fast_t = time_one(fast, repeats)
            speedups.append({"operation": name, "naive_ms": naive_t.wall,
                             "fast_ms": fast_t.wall, "speedup": naive_t.wall / fast_t.wall,
                             "cpu_speedup": naive_t.cpu / fast_t.cpu})
    return rows, speedups


def format_tables(rows, speedups) -> str:
    lines = ["| operation | ours (ms) | torch (ms) | ours / torch | target | met "
             "| ours / torch, CPU time |",
             "|---|---:|---:|---:|---:|:---:|---:|"]
    for r in rows:
        lines.append(f"| {r['operation']} | {r['ours_ms']:.2f} | {r['torch_ms']:.2f} | "
                     f"{r['ratio']:.2f}x | <= {r['target']:.1f}x | "
                     f"{'yes' if r['met'] else 'NO'} | {r['cpu_ratio']:.2f}x |")
        if "staged_backward_ms" in r:
            lines.append(f"| batchnorm backward, staged form | {r['staged_backward_ms']:.2f} | "
                         f"{r['torch_ms']:.2f} | {r['staged_ratio']:.2f}x | (reference) | | "
                         f"{r['staged_cpu_ratio']:.2f}x |")
    if speedups:
        lines += ["", "| operation | naive (ms) | fast (ms) | naive / fast | same, CPU time |",
                  "|---|---:|---:|---:|---:|"]
        for s in speedups:
            lines.append(f"| {s['operation']} | {s['naive_ms']:.1f} | {s['fast_ms']:.2f} | "
                         f"{s['speedup']:.1f}x | {s['cpu_speedup']:.1f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9,
                        help="timed runs per conv operation (median reported; max pooling runs "
                             "3x and batchnorm 5x as many, they are quick); default 9")
    parser.add_argument("--naive-repeats", type=int, default=3,
                        help="timed runs of each naive layer; 0 skips them; default 3")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the results here")
    parser.add_argument("--column-chunk-mib", type=float, metavar="MIB",
                        help="im2col columns built at once by the fast conv layers (default "
                             f"{fast_layers.COLUMN_CHUNK_BYTES / 2**20:g}); a large value "
                             "builds the whole batch's columns in one go")
    args = parser.parse_args(argv)
    if args.column_chunk_mib is not None:
        fast_layers.COLUMN_CHUNK_BYTES = int(args.column_chunk_mib * 2**20)

    torch = _import_torch()
    if torch is None:
        print(TORCH_MISSING, file=sys.stderr)
        return 2
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    machine = machine_description()
    tuning = {name: os.environ[name] for name in OPENBLAS_TUNING_VARIABLES if name in os.environ}
    with threadpool_limits(limits=1):
        blas = blas_description()
        print(f"machine: {machine['cpu']}, {machine.get('cores_per_socket', '?')} cores x "
              f"{machine.get('sockets', '?')} socket(s), {machine['logical_cpus']} logical CPUs")
        for lib in blas:
            if lib.get("user_api") == "blas":
                print(f"numpy's BLAS (threadpoolctl): {lib.get('internal_api')} "
                      f"{lib.get('version')}, kernel {lib.get('architecture')}, "
                      f"{lib.get('num_threads')} thread(s)")
            else:
                print(f"also loaded: {lib.get('internal_api')} ({lib.get('user_api')}), "
                      f"{lib.get('num_threads')} thread(s)")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
              f"numpy {np.__version__}; float64; median of {args.repeats} runs (conv), "
              f"{3 * args.repeats} (pool), {5 * args.repeats} (batchnorm); conv columns "
              f"in chunks of {fast_layers.COLUMN_CHUNK_BYTES / 2**20:g} MiB")
        if tuning:
            print("warning: " + ", ".join(f"{k}={v}" for k, v in tuning.items()) +
                  " is set; it slows the OpenBLAS that numpy ships. Run with "
                  "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`.")
        load_before = os.getloadavg()
        rows, speedups = run(torch, args.repeats, args.naive_repeats)
        load_after = os.getloadavg()

    print(f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f} "
          f"on {machine['logical_cpus']} logical CPUs")
    print()
    print(format_tables(rows, speedups))
    missed = [r["operation"] for r in rows if not r["met"]]
    print()
    print("all targets met" if not missed else "targets missed: " + ", ".join(missed))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "machine": machine, "blas": blas, "openblas_tuning_env": tuning,
            "torch": torch.__version__, "numpy": np.__version__, "threads": 1,
            "dtype": "float64", "repeats": args.repeats,
            "column_chunk_bytes": fast_layers.COLUMN_CHUNK_BYTES,
            "load_average_1min": [load_before[0], load_after[0]], "results": rows,
            "naive_vs_fast": speedups}, indent=2) + "\n")
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
