"""The training probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib

import numpy as np


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def ratio(lib, inputs):
    ratio = submodule(lib, "babysit").update_to_weight_ratio
    rates = [float(r) for r in inputs["rates"]]
    return {"dense": np.array([ratio(inputs["w"], inputs["dw"], r) for r in rates]),
            "conv": np.array([ratio(inputs["w_conv"], inputs["dw_conv"], r) for r in rates])}


def short_verdict(lib, inputs):
    verdict = submodule(lib, "babysit").learning_rate_verdict
    got = [verdict(c) for c in inputs["pairs"]] + [verdict(c) for c in inputs["triples"]]
    width = 2 + max(len(str(v)) for v in got)
    return {"verdicts": _codes(got, width), "width": np.array(width)}


def _codes(verdicts, width):
    """Each string as its character codes, padded with zeros to ``width``."""
    out = np.zeros((len(verdicts), width))
    for i, verdict in enumerate(verdicts):
        codes = [ord(ch) for ch in str(verdict)][:width]
        out[i, :len(codes)] = codes
        if len(str(verdict)) > width:
            out[i, -1] = -1.0  # longer than any verdict: a mismatch, not a silent cut
    return out


def verdict(lib, inputs):
    verdict = submodule(lib, "babysit").learning_rate_verdict
    curves = np.array(inputs["curves"], dtype=np.float64)
    for i, start in enumerate(inputs["nan_from"]):
        curves[i, int(start):] = np.nan
    tolerance, blowup = float(inputs["tolerance"]), float(inputs["blowup"])
    defaults = [verdict(c) for c in curves]
    drawn = [verdict(c, tolerance=tolerance, window=int(inputs["window"]), blowup=blowup)
             for c in curves]
    width = 2 + max(len(str(v)) for v in defaults + drawn)
    return {"default": _codes(defaults, width), "drawn": _codes(drawn, width),
            "width": np.array(width)}


def log_uniform(lib, inputs):
    sample = submodule(lib, "search").sample_log_uniform
    rng = np.random.default_rng(int(inputs["seed"]))
    low, high = float(inputs["low"]), float(inputs["high"])
    values = sample(rng, low, high, tuple(int(s) for s in inputs["shape"]))
    one = sample(rng, low, high)
    # the next draw shows whether the function took exactly one draw of each call
    return {"values": np.asarray(values), "one": np.asarray(one, dtype=np.float64),
            "next_draw": rng.standard_normal(3)}


def _space(lib, inputs):
    search = submodule(lib, "search")
    scales = ["log" if flag else "linear" for flag in inputs["is_log"]]
    return {f"h{i}": search.Range(float(lo), float(hi), scale) for i, (lo, hi, scale) in
            enumerate(zip(inputs["lows"], inputs["highs"], scales, strict=True))}


def _as_table(configs, names):
    return np.array([[float(c[n]) for n in names] for c in configs], dtype=np.float64)


def grid_trials(lib, inputs):
    space = _space(lib, inputs)
    configs = submodule(lib, "search").grid_search_configs(space, int(inputs["budget"]))
    return {"configs": _as_table(configs, list(space)),
            "names": np.array([[float(list(c) == list(space))] for c in configs])}


def random_trials(lib, inputs):
    space = _space(lib, inputs)
    rng = np.random.default_rng(int(inputs["seed"]))
    configs = submodule(lib, "search").random_search_configs(space, int(inputs["budget"]), rng)
    return {"configs": _as_table(configs, list(space)),
            "names": np.array([[float(list(c) == list(space))] for c in configs]),
            "next_draw": rng.standard_normal(3)}
