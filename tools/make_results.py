"""Run every experiment of ``cs231n_lib.experiments``; write ``docs/results.md`` and its figures.

Usage::

    python tools/make_results.py                  # docs/results.md, docs/figures/*.png
    python tools/make_results.py --out /tmp/r     # somewhere else
    python tools/make_results.py --quick          # tiny settings: checks the pipeline only
    python tools/make_results.py --only fine_tuning   # one claim: its row, section, figures

Every number and every figure in the page comes from the experiments run
by this script; nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread, set before numpy loads: the experiments' matrices are small, so
# threads cost more than they save on a busy machine, and one thread sums in one
# fixed order, so the page repeats to the last digit wherever it is built.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from cs231n_lib import experiments as ex  # noqa: E402
from cs231n_lib.experiments import plots, tuning_plots  # noqa: E402
from cs231n_lib.experiments._common import first_crossing  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DPI = 72


@dataclass(frozen=True)
class Claim:
    """One row of the table and one section of the page."""

    key: str
    title: str
    source: str
    source_figure: str
    run: Callable[[dict, bool], object]
    summary: Callable[[object], tuple[str, str]]  # -> (ours, setting)
    discussion: Callable[[object], str]


def _fmt(x: float, digits: int = 2, missing: str = "never") -> str:
    return missing if not math.isfinite(x) else f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# ------------------------------------------------------------------ claim 1
def _run_init(data, quick):
    if quick:
        return ex.init_depth(num_layers=4, hidden=60, num_samples=100)
    return ex.init_depth()


def _init_numbers(r):
    def std(nl, s):
        return r.layer_std(nl, s)

    def ratio(nl, s):
        v = std(nl, s)
        return float(np.exp(np.mean(np.log(v[1:] / v[:-1]))))

    i_tanh, j_large = r.index("tanh", "large 1.0")
    return std, ratio, float(r.saturated[i_tanh, j_large].mean())


def _init_summary(r):
    std, ratio, sat = _init_numbers(r)
    ours = (f"std at layer 1 -> {r.num_layers}: small {_fmt(std('tanh', 'small 0.01')[0])} -> "
            f"{_fmt(std('tanh', 'small 0.01')[-1])} (tanh); large+tanh {_pct(sat)} of outputs "
            f"beyond +-0.99; Xavier+tanh {_fmt(std('tanh', 'Xavier')[0])} -> "
            f"{_fmt(std('tanh', 'Xavier')[-1])}; ReLU std per layer x{ratio('relu', 'Xavier'):.2f}"
            f" (Xavier) vs x{ratio('relu', 'He'):.2f} (He)")
    setting = (f"{r.num_layers} layers x {r.hidden} units, {r.num_samples} unit-Gaussian "
               "inputs, no training")
    return ours, setting


def _init_discussion(r):
    std, ratio, sat = _init_numbers(r)
    small = std("tanh", "small 0.01")
    xavier = std("tanh", "Xavier")
    relu_x, relu_he = ratio("relu", "Xavier"), ratio("relu", "He")
    return (
        f"- **Small (0.01) weights:** the spread shrinks by a factor of about "
        f"{ratio('tanh', 'small 0.01'):.2f} per tanh layer, from {_fmt(small[0])} to "
        f"{_fmt(small[-1])} at layer {r.num_layers}: the activations (and with them the "
        "weight gradients) collapse towards zero, as the lecture says.\n"
        f"- **Large (1.0) weights with tanh:** {_pct(sat)} of all outputs are beyond +-0.99 "
        "(saturated: local gradient below 0.02).\n"
        f"- **Xavier with tanh:** the spread goes from {_fmt(xavier[0])} to {_fmt(xavier[-1])} "
        f"over {r.num_layers} layers: no collapse, but not perfectly constant either: it "
        f"drifts down slowly (factor {ratio('tanh', 'Xavier'):.2f} per layer on average, "
        "less and less from layer to layer), because tanh is below the identity away from 0.\n"
        f"- **ReLU:** with Xavier the std falls by a factor {relu_x:.2f} per layer, i.e. the "
        f"*variance* halves ({relu_x ** 2:.2f}) layer by layer: the lecture's 'halves' is the "
        f"variance; the std falls by sqrt(2). He's doubled variance holds it (factor "
        f"{relu_he:.2f} per layer).\n")


# ------------------------------------------------------------------ claim 2
def _run_saturation(data, quick):
    if quick:
        return ex.saturation_gradients(scales=(0.1, 10.0, 1000.0), num_layers=3, hidden=20,
                                       num_samples=30)
    return ex.saturation_gradients()


def _saturation_summary(r):
    drops = ", ".join(f"{a} {r.drop(a):.3g}x" for a in r.activations)
    ours = (f"gradient reaching the inputs falls from scale {r.scales[0]:g} to "
            f"{r.scales[-1]:g} by: {drops}")
    setting = (f"{r.num_layers} layers x {r.hidden} units, Xavier, unit-Gaussian inputs "
               "times the scale, unit-Gaussian upstream gradient")
    return ours, setting


def _saturation_discussion(r):
    lines = []
    for i, a in enumerate(r.activations):
        lines.append(f"- **{a}:** mean local gradient of layer 1 {_fmt(r.local_grad[i, 0])} "
                     f"at scale {r.scales[0]:g}, {_fmt(r.local_grad[i, -1])} at "
                     f"{r.scales[-1]:g}; gradient norm reaching the inputs "
                     f"{_fmt(r.input_grad_norm[i, 0], 3)} -> "
                     f"{_fmt(r.input_grad_norm[i, -1], 3)} ({r.drop(a):.3g}x smaller).")
    scale_decades = math.log10(r.scales[-1] / r.scales[0])
    squashing = [a for a in r.activations if a in ("sigmoid", "tanh")]
    lost = max((math.log10(r.drop(a)) for a in squashing), default=0.0)
    relu = ("" if "relu" not in r.activations else
            f" ReLU's changes by a factor {r.drop('relu'):.3g}: on its positive side the "
            "local gradient is 1 whatever the scale.")
    return ("\n".join(lines) + "\n\nSaturated units pass back almost nothing, so the gradient "
            "that crosses the first layer of a squashing stack falls as the input scale "
            f"grows.{relu} Measured honestly, the fall is a power law, not a cliff: the mean "
            "local gradient goes like 1/scale and the norm like 1/sqrt(scale), because the "
            "few units whose inputs still land near zero keep passing gradient: "
            f"{scale_decades:.0f} decades of input scale cost at most {lost:.1f} decades of "
            "gradient. (The gradient on W1 itself also carries a factor of the input scale, "
            "so the plot shows the gradient that flows through the layer.)\n")


# ------------------------------------------------------------------ claim 3
def _run_convergence(data, quick):
    if quick:
        return ex.relu_vs_tanh(data, hidden_dims=(20,), learning_rates=(0.1,),
                               target_error=0.5, num_epochs=2, num_train=200)
    return ex.relu_vs_tanh(data, extra_seeds=(1, 2))


def _convergence_summary(r):
    ours = (f"tanh / ReLU epochs to {_pct(r.target_error)} training error: "
            f"{_fmt(r.best_epochs('tanh'))} / {_fmt(r.best_epochs('relu'))} = "
            f"**{_fmt(r.ratio, missing='n/a ')}x**")
    setting = (f"fully connected {len(r.hidden_dims) + 1}-layer net {list(r.hidden_dims)}, "
               f"{r.num_train} training images, SGD+momentum, best of "
               f"{len(r.learning_rates)} learning rates each, no regularisation")
    return ours, setting


def _convergence_discussion(r):
    if math.isfinite(r.ratio) and r.ratio >= 1.5:
        verdict = (f"ReLU was faster here, by {r.ratio:.2f}x (the paper: about 6x).")
    elif math.isfinite(r.ratio) and r.ratio > 1 / 1.5:
        verdict = (f"At this scale the two are about as fast ({r.ratio:.2f}x): the paper's "
                   "6x is **not** reproduced.")
    elif math.isfinite(r.ratio):
        verdict = (f"At this scale tanh was the faster one ({r.ratio:.2f}x, i.e. ReLU took "
                   f"{1 / r.ratio:.2f}x as many epochs): the paper's 6x is **not** reproduced.")
    else:
        verdict = "One of the nets never reached the target within the budget."
    rates = ", ".join(f"{a} {r.best_rate[i]:g}" for i, a in enumerate(r.activations))
    if len(r.seeds) > 1:
        verdict += (" With seeds " + ", ".join(map(str, r.seeds)) + " (weights and "
                    "minibatches) the ratio is " + ", ".join(_fmt(x) for x in r.seed_ratios)
                    + ".")
    quarter = " and ".join(
        f"{_fmt(first_crossing(r.epochs, 1.0 - r.best_curve(a), 0.75))} ({a})"
        for a in r.activations)
    return (f"{verdict} Best learning rates: {rates}. The paper's result is for a 4-layer "
            "*convolutional* net on CIFAR-10 trained for many epochs to 25% training error; "
            f"here the paper's 25% comes after {quarter} epochs, too early to compare, so "
            f"the target is {_pct(r.target_error)} and the count is in (interpolated) epochs "
            "of a short run. A shallow net on easy data hardly meets the saturation that "
            "ReLU was the cure for: the likely reason for the difference, and worth saying "
            "in class.\n")


# ------------------------------------------------------------------ claim 4
def _run_dead(data, quick):
    if quick:
        return ex.dead_relus(data, hidden_dims=(20, 20), step_sizes=(10.0,), biases=(-3.0,),
                             num_epochs=1, num_train=200)
    return ex.dead_relus(data)


def _dead_summary(r):
    dims = r.hidden_dims
    step = r.overall(r.step_dead_after, dims)
    bias = r.overall(r.bias_dead_after, dims)
    ours = (f"dead hidden units after training: healthy "
            f"{_pct(r.overall(r.healthy_dead, dims))}; after one step at lr "
            f"{r.step_sizes[-1]:g}: {_pct(step[-1])}; bias {r.biases[-1]:g}: {_pct(bias[-1])}")
    setting = (f"ReLU net {list(dims)}, He weights, {r.num_epochs} epochs at lr "
               f"{r.learning_rate:g} after the event")
    return ours, setting


def _dead_discussion(r):
    dims = r.hidden_dims
    rows = ["| event | dead right after | dead after training | training accuracy |",
            "|---|---|---|---|",
            f"| healthy run | - | {_pct(r.overall(r.healthy_dead, dims))} | "
            f"{_pct(r.healthy_accuracy)} |"]
    for k, size in enumerate(r.step_sizes):
        rows.append(f"| one step at lr {size:g} | {_pct(r.overall(r.step_dead_before[k], dims))}"
                    f" | {_pct(r.overall(r.step_dead_after[k], dims))} | "
                    f"{_pct(r.step_accuracy[k])} |")
    for k, bias in enumerate(r.biases):
        rows.append(f"| initial bias {bias:g} | {_pct(r.overall(r.bias_dead_before[k], dims))}"
                    f" | {_pct(r.overall(r.bias_dead_after[k], dims))} | "
                    f"{_pct(r.bias_accuracy[k])} |")
    before = np.concatenate([r.overall(r.step_dead_before, dims),
                             r.overall(r.bias_dead_before, dims)])
    after = np.concatenate([r.overall(r.step_dead_after, dims),
                            r.overall(r.bias_dead_after, dims)])
    revived = float(np.max(before - after))
    per_layer = np.concatenate([r.step_dead_after, r.bias_dead_after]).mean(axis=0)
    layers = ", ".join(f"layer {k + 1} {_pct(v)}" for k, v in enumerate(per_layer))
    return ("A unit is dead when its output is 0 on every training example; it passes back "
            "no gradient, so its own weights stop changing. "
            + ("The normal training that followed brought no dead unit back in any run, "
               if revived <= 0 else
               f"The normal training that followed revived at most {100 * revived:.1f}% of the "
               "hidden units in any run (a unit of a later layer can come back only if the "
               "layers below it change its inputs), ")
            + "and after a large step it killed more. Average dead share per hidden "
            f"layer over the damaged runs: {layers}.\n\n" + "\n".join(rows) + "\n")


# ------------------------------------------------------------------ claim 5
def _run_batchnorm(data, quick):
    if quick:
        return ex.batchnorm_training(data, hidden_dims=(20, 20), learning_rates=(0.3,),
                                     weight_scales=(0.01,), learning_rate=0.3,
                                     target_accuracy=0.3, num_epochs=2, num_train=200)
    return ex.batchnorm_training(data)


def _batchnorm_summary(r):
    ours = (f"steps to {_pct(r.target_accuracy)} training accuracy, fastest of "
            f"{len(r.learning_rates)} rates: {_fmt(r.fastest(None), 3)} without, "
            f"{_fmt(r.fastest('batchnorm'), 3)} with (**{_fmt(r.speedup, missing='n/a ')}x**); "
            f"trained at "
            f"{r.trained(None)} / {r.trained('batchnorm')} of {len(r.learning_rates)} rates and "
            f"{r.trained(None, 'scales')} / {r.trained('batchnorm', 'scales')} of "
            f"{len(r.weight_scales)} initial scales (without / with)")
    if r.unit_percentiles.size:
        ours += (f"; a sigmoid's median input wandered {r.drift(None):.2g} spreads without, "
                 f"{r.drift('batchnorm'):.2g} with")
    setting = (f"{len(r.hidden_dims)} x {r.hidden_dims[0]} {r.activation} units (the paper's "
               f"MNIST net), default data, SGD+momentum, {r.num_epochs} epochs")
    return ours, setting


def _batchnorm_verdict(r) -> str:
    faster = math.isfinite(r.fastest("batchnorm")) and not r.speedup < 1
    wider = r.trained("batchnorm") >= r.trained(None)
    sturdier = r.trained("batchnorm", "scales") >= r.trained(None, "scales")
    if faster and wider and sturdier:
        return ("The pattern of the paper holds: with batchnorm the net reaches the target in "
                "fewer steps, at at least as many learning rates and from at least as many "
                "initial scales.")
    missing = [name for name, ok in (("fewer steps", faster), ("more learning rates", wider),
                                     ("more initial scales", sturdier)) if not ok]
    return ("The paper's pattern does **not** fully hold here: with batchnorm we did not see "
            f"{', '.join(missing)}.")


def _distribution_text(r) -> str:
    if r.unit_percentiles.size == 0:
        return "The input-distribution panels are measured for sigmoid nets only.\n"
    plain, normed = r.drift(None), r.drift("batchnorm")
    verdict = ("steadier with batchnorm, as in the paper" if normed < plain else
               "**not** steadier with batchnorm here, unlike the paper")
    return ("Second figure, the paper's panels (b, c): the input of one sigmoid of the last "
            "hidden layer over training (validation set, learning rate "
            f"{r.distribution_rate:g}, the plain net's best). Its median wandered "
            f"{plain:.2f} of its typical spread without batchnorm and {normed:.2f} with it: "
            f"{verdict}.\n")


def _batchnorm_discussion(r):
    def row(values):
        return " | ".join(_pct(v) for v in values)

    rates = " | ".join(f"{v:g}" for v in r.learning_rates)
    scales = " | ".join(f"{v:g}" for v in r.weight_scales)
    return (
        f"Final training accuracy after {r.num_epochs} epochs.\n\n"
        f"| learning rate | {rates} |\n|---|{'---|' * len(r.learning_rates)}\n"
        f"| without batchnorm | {row(r.rate_accuracy[0, :, -1])} |\n"
        f"| with batchnorm | {row(r.rate_accuracy[1, :, -1])} |\n\n"
        f"| initial weight std (lr {r.learning_rate:g}) | {scales} |\n"
        f"|---|{'---|' * len(r.weight_scales)}\n"
        f"| without batchnorm | {row(r.scale_accuracy[0, :, -1])} |\n"
        f"| with batchnorm | {row(r.scale_accuracy[1, :, -1])} |\n\n"
        + _batchnorm_verdict(r) +
        " Our speed-up "
        f"({_fmt(r.speedup)}x) is measured on a tiny net and data set, not the paper's "
        "ImageNet 14x.\n\n" + _distribution_text(r))


# ------------------------------------------------------------------ claim 6
def _run_centering(data, quick):
    if quick:
        return ex.zero_centering(data, hidden_dims=(20,), learning_rates=(0.1,),
                                 target_accuracy=0.3, num_epochs=2, num_train=200)
    return ex.zero_centering(data)


def _centering_summary(r):
    ours = (f"epochs to {_pct(r.target_accuracy)} training accuracy, fastest rate each: "
            f"centred {_fmt(r.fastest('centred'))}, raw {_fmt(r.fastest('raw'))} "
            f"(**{_fmt(r.ratio, missing='n/a ')}x**); centred first at {r.faster_at} of "
            f"{len(r.learning_rates)} rates")
    setting = (f"{r.activation} net {list(r.hidden_dims)}, same scale for both, raw inputs "
               f"have mean {r.input_mean[1]:.2f} (std 1)")
    return ours, setting


def _centering_verdict(r) -> str:
    if not math.isfinite(r.ratio):
        return "One of the conditions never reached the target."
    if r.ratio >= 1.5:
        return f"Centring clearly helps: {r.ratio:.2f}x fewer epochs."
    if r.ratio > 1.0:
        return f"Centring helps, but modestly at this scale: {r.ratio:.2f}x fewer epochs."
    return f"Centring did **not** speed training up here ({r.ratio:.2f}x)."


def _centering_discussion(r):
    rates = " | ".join(f"{v:g}" for v in r.learning_rates)
    rows = "\n".join(f"| {c} | " + " | ".join(_fmt(v) for v in r.epochs_to_target[k]) + " |"
                     for k, c in enumerate(r.conditions))
    return (f"Epochs to {_pct(r.target_accuracy)} training accuracy ('never': not within "
            f"{r.num_epochs} epochs).\n\n| learning rate | {rates} |\n"
            f"|---|{'---|' * len(r.learning_rates)}\n{rows}\n\n"
            + _centering_verdict(r) + " The raw inputs are off-centre by "
            f"{r.input_mean[1]:.2f} of their standard deviation; the first layer's biases "
            "can absorb part of a constant offset, so a larger offset should matter more.\n")


# ------------------------------------------------------------------ claim 7
def _run_small(data, quick):
    if quick:
        return ex.small_data_checks(data, num_examples=20, hidden_dims=(30,), num_epochs=3,
                                    class_counts=(2, 10), num_loss_examples=50)
    return ex.small_data_checks(data)


def _small_summary(r):
    when = (f"100% after epoch {r.epochs_to_perfect}" if r.epochs_to_perfect is not None
            else f"{_pct(r.train_acc_history[-1])}, never 100%")
    ours = (f"{r.num_examples} examples: {when} (validation {_pct(r.val_acc_history[-1])}); "
            f"initial loss within {100 * r.max_relative_deviation:.2g}% of log(C) for C = "
            f"{', '.join(str(c) for c in r.num_classes)}")
    setting = f"ReLU net {list(r.hidden_dims)}, no regularisation, SGD+momentum"
    return ours, setting


def _small_discussion(r):
    rows = "\n".join(f"| {c} | {np.log(c):.3f} | {loss:.3f} | {large:.3g} |"
                     for c, loss, large in zip(r.num_classes, r.initial_loss,
                                               r.initial_loss_large, strict=True))
    memorised = ("memorises the small set (training accuracy 100%)" if r.epochs_to_perfect
                 is not None else "does **not** reach 100% training accuracy on the small set")
    return (f"The net {memorised}; validation accuracy ends at "
            f"{_pct(r.val_acc_history[-1])}: memorising is not learning. Before training, "
            "weights of 0.01 * randn give "
            "every class about the same score, so the loss is log(C):\n\n"
            f"| C | log(C) | initial loss, 0.01 * randn | initial loss, "
            f"{r.large_scale:g} * randn |\n|---|---|---|---|\n{rows}\n\n"
            "Larger weights give confident, random scores and a loss far above log(C): the "
            "number the check is there to catch.\n")


# ------------------------------------------------------------------ claim 8
def _run_search(data, quick):
    if quick:
        return ex.random_vs_grid(data, budgets=(4,), num_repeats=3, hidden_dims=(20,),
                                 num_epochs=1, num_train=200)
    return ex.random_vs_grid(data)


def _search_summary(r):
    medians = np.median(r.random_best, axis=1)
    pairs = "; ".join(f"{b}: grid {_pct(g)}, random {_pct(m)} (beats grid in {_pct(w)})"
                      for b, g, m, w in zip(r.budgets, r.grid_best, medians, r.win_rate,
                                            strict=True))
    ours = f"best validation accuracy per budget, random = median of searches: {pairs}"
    setting = (f"ReLU net {list(r.hidden_dims)}, {r.num_epochs}-epoch trials on "
               f"{r.num_train} images, {' and '.join(r.names)} on log scales, "
               f"{r.random_best.shape[1]} random searches per budget")
    return ours, setting


def _search_discussion(r):
    grid_lr, random_lr = r.distinct("learning_rate")
    importance = ", ".join(f"{n} {100 * v:.1f} points" for n, v in zip(r.names, r.importance,
                                                                       strict=True))
    rows = "\n".join(
        f"| {b} | {g} | {_pct(gb)} | {_pct(np.median(rb))} | {_pct(rb.min())} - "
        f"{_pct(rb.max())} | {_pct(w)} | {_pct(t)} |"
        for b, g, gb, rb, w, t in zip(r.budgets, r.grid_trials, r.grid_best, r.random_best,
                                      r.win_rate, r.tie_rate, strict=True))
    wins = r.win_rate
    if np.all(wins > 0.5):
        verdict = "Random search beat the grid in most searches at every budget, as in the paper."
    elif np.any(wins > 0.5):
        verdict = ("Random search beat the grid in most searches at "
                   + ", ".join(str(b) for b, w in zip(r.budgets, wins, strict=True) if w > 0.5)
                   + " trials but **not** at "
                   + ", ".join(str(b) for b, w in zip(r.budgets, wins, strict=True)
                               if w <= 0.5)
                   + ": there a grid value happened to land near the best learning rate. "
                   "Bergstra & Bengio's claim is about the odds over many problems, and a "
                   "single grid can be lucky.")
    else:
        verdict = "Random search did **not** beat the grid here."
    return (f"How much each hyperparameter matters (spread of the mean score over "
            f"{len(r.names)} x 5 bins of the random trials): {importance}. With the largest "
            f"budget the grid tried {grid_lr} learning rates and random search {random_lr}: "
            "when one hyperparameter matters and the other hardly does, the grid spends most "
            "of its trials repeating the same few learning rates.\n\n"
            "| budget | grid trials | grid best | random best (median) | random range | "
            "random beats grid | ties |\n|---|---|---|---|---|---|---|\n" + rows + "\n\n"
            + verdict + " Our searches are small (two hyperparameters, short runs on the "
            "digits); the paper's tune neural nets and deep belief nets with many more "
            "hyperparameters, of which, on each data set, only a few mattered.\n")


# ------------------------------------------------------------------ claim 9
def _run_fine_tuning(data, quick):
    if quick:
        return ex.fine_tuning(data, hidden_dims=(20,), num_examples=20, pretrain_epochs=1,
                              num_epochs=2, target_accuracy=0.3, seeds=(0,))
    return ex.fine_tuning(data)


def _fine_tuning_summary(r):
    ours = (f"median steps to {_pct(r.target_accuracy)} validation accuracy on the new "
            f"classes: fine-tuned {_fmt(r.median_steps('fine-tuned'), 3)}, random init "
            f"{_fmt(r.median_steps('random init'), 3)} (**{_fmt(r.speedup, missing='n/a ')}x**);"
            f" final accuracy {_pct(r.final_accuracy[0])} / {_pct(r.final_accuracy[1])}")
    setting = (f"ReLU net {list(r.hidden_dims)} pretrained on classes "
               f"{r.pretrain_classes[0]}-{r.pretrain_classes[-1]}, then "
               f"{r.num_examples} examples of classes {r.new_classes[0]}-"
               f"{r.new_classes[-1]}, lr {r.learning_rate:g}, {len(r.seeds)} seeds")
    return ours, setting


def _fine_tuning_discussion(r):
    faster = math.isfinite(r.speedup) and r.speedup >= 1.2
    if faster:
        verdict = f"Fine-tuning reached the target {r.speedup:.2f}x sooner, as the notes say."
    else:
        verdict = ("Fine-tuning did **not** reach the target sooner here "
                   f"({_fmt(r.speedup)}x). The notes' advice is for nets pretrained on a "
                   "large dataset (ImageNet) whose early layers compute generic features; "
                   f"our pretrained net saw {len(r.pretrain_classes)} classes of 8x8 digits, "
                   "and a fresh net of this size learns the other digits from "
                   f"{r.num_examples} examples about as fast on its own.")
    steps = " | ".join(f"{_fmt(a, 3)} / {_fmt(b, 3)}" for a, b in zip(*r.steps_to_target,
                                                                        strict=True))
    return (f"The pretrained nets reach {_pct(r.pretrain_accuracy.mean())} validation "
            "accuracy on their own classes. Steps to the target per seed (fine-tuned / random "
            f"init): {steps}.\n\n{verdict}\n")


# ------------------------------------------------------------------ claim 10
def _run_update_ratio(data, quick):
    if quick:
        return ex.update_ratio_sweep(data, learning_rates=(1e-3, 1e-1, 10.0), hidden_dims=(20,),
                                     num_steps=20, target_accuracy=0.3, num_train=200)
    return ex.update_ratio_sweep(data)


def _update_ratio_summary(r):
    mean = r.mean_ratio()
    if r.fastest >= 0:
        ours = (f"fastest rate {r.learning_rates[r.fastest]:.2g} "
                f"({_fmt(r.steps_to_target[r.fastest], 3)} steps to "
                f"{_pct(r.target_accuracy)}), median ratio there "
                f"**{mean[r.fastest]:.1e}** (geometric mean over layers)")
    else:
        ours = "no rate reached the target"
    near = int(np.nanargmin(np.abs(np.log10(mean) + 3)))
    ours += f"; ratio closest to 1e-3 at rate {r.learning_rates[near]:.2g}"
    setting = (f"ReLU net {list(r.hidden_dims)}, He, SGD+momentum 0.9, "
               f"{r.loss_history.shape[1]} steps of {r.batch_size}, "
               f"{len(r.learning_rates)} rates")
    return ours, setting


def _update_ratio_discussion(r):
    rows = "\n".join(
        f"| {lr:.2g} | " + " | ".join(_fmt(v, 2, missing="-") for v in r.ratio[i])
        + f" | {_fmt(r.steps_to_target[i], 3)} | {_pct(np.nan_to_num(r.train_accuracy[i, -1]))}"
        f" | {r.verdicts[i]} |"
        for i, lr in enumerate(r.learning_rates))
    header = " | ".join(r.layers)
    mean = r.mean_ratio()
    fastest = mean[r.fastest] if r.fastest >= 0 else math.nan
    near = int(np.nanargmin(np.abs(np.log10(mean) + 3)))
    if not math.isfinite(fastest):
        verdict = "No run reached the target."
    elif 10 ** -3.5 <= fastest <= 10 ** -2.5:
        verdict = (f"The fastest rate's ratio, {fastest:.1e}, is the lecture's 1e-3 to within "
                   "half a decade.")
    else:
        verdict = (f"The fastest rate's ratio is {fastest:.1e}, **not** the lecture's 1e-3; the "
                   f"rate whose ratio is closest to 1e-3 ({r.learning_rates[near]:.2g}) took "
                   f"{_fmt(r.steps_to_target[near], 3)} steps against the fastest's "
                   f"{_fmt(r.steps_to_target[r.fastest], 3)}.")
    return ("Median over the run's steps of each layer's ratio of the step taken to the "
            "weights ('-': the run diverged), steps to the target ('never': not reached, or "
            "not held to the end), final training accuracy and the loss curve's verdict "
            "(`cs231n_lib.babysit.learning_rate_verdict`).\n\n"
            f"| learning rate | {header} | steps | final accuracy | verdict |\n"
            f"|---|{'---|' * len(r.layers)}---|---|---|\n{rows}\n\n"
            f"{verdict} The ratio grows with the rate while training is stable (more slowly "
            "than the rate itself); training gets faster up to the rate just below the one "
            "where it blows up, so at this scale the fastest runs sit at the top of the "
            "healthy range. Rates beyond it explode at once and leave every ReLU dead, "
            "after which the ratio falls to almost nothing: a tiny ratio can mean a dead "
            "net as well as a rate that is too low.\n")


CLAIMS = (
    Claim("init_depth", "Initialisation and depth",
          "lecture 6; Glorot & Bengio 2010; He et al. 2015",
          "small init collapses, large saturates tanh, Xavier holds tanh, He holds ReLU",
          _run_init, _init_summary, _init_discussion),
    Claim("saturation", "Saturated units kill the gradient", "lecture 6",
          "sigmoid/tanh gradients vanish for large inputs; ReLU's do not",
          _run_saturation, _saturation_summary, _saturation_discussion),
    Claim("relu_vs_tanh", "ReLU converges faster than tanh",
          "Krizhevsky et al. 2012, Figure 1",
          "about 6x fewer epochs to 25% training error (CIFAR-10, 4-layer convnet)",
          _run_convergence, _convergence_summary, _convergence_discussion),
    Claim("dead_relu", "Dead ReLUs", "lecture 6",
          "a large step or a negative bias leaves units that never activate again",
          _run_dead, _dead_summary, _dead_discussion),
    Claim("batchnorm", "Batch normalisation", "Ioffe & Szegedy 2015, Figure 1",
          "faster training, higher learning rates, less care about initialisation "
          "(14x fewer steps on ImageNet)",
          _run_batchnorm, _batchnorm_summary, _batchnorm_discussion),
    Claim("zero_centering", "Zero-centred data", "lecture 6",
          "all-positive inputs give same-sign weight gradients and slower, zig-zag training",
          _run_centering, _centering_summary, _centering_discussion),
    Claim("small_data", "Overfit a small dataset first", "lecture 6",
          "100% training accuracy on ~50 examples; initial loss about log(C)",
          _run_small, _small_summary, _small_discussion),
    Claim("random_search", "Random search beats grid search",
          "lecture 6; Bergstra & Bengio 2012, Figure 1",
          "at equal budget random search finds better settings when few hyperparameters "
          "matter", _run_search, _search_summary, _search_discussion),
    Claim("fine_tuning", "Fine-tuning pretrained weights", "lecture 6 notes (initialisation)",
          "start from a net pretrained on other data, fine-tune on yours: better with "
          "little data", _run_fine_tuning, _fine_tuning_summary, _fine_tuning_discussion),
    Claim("update_ratio", "Update-to-weight ratio", "lecture 6",
          "the size of each update over the size of the weights (norms) is about 1e-3 per "
          "layer at a good learning rate",
          _run_update_ratio, _update_ratio_summary, _update_ratio_discussion),
)


def _figure_names(claim: Claim, result) -> list[tuple[str, Callable]]:
    functions = {**plots.PLOTS, **tuning_plots.PLOTS}[type(result)]
    if len(functions) == 1:
        return [(f"{claim.key}.png", functions[0])]
    return [(f"{claim.key}_{k + 1}.png", f) for k, f in enumerate(functions)]


def _run_claim(number: int, claim: Claim, data: dict, quick: bool, figures_dir: Path,
               verbose: bool) -> tuple[str, str, float, list[Path]]:
    """Run one claim, save its figures; (table row, section, seconds, figure paths)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = claim.run(data, quick)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    images, written = [], []
    for name, draw in _figure_names(claim, result):
        path = figures_dir / name
        draw(result).savefig(path, dpi=DPI, metadata={"Software": None})
        written.append(path)
        images.append(f"![{claim.title}](figures/{name})")
    ours, setting = claim.summary(result)
    row = (f"| {number}. {claim.title} | {claim.source}: {claim.source_figure} | "
           f"{ours} | {setting} |")
    section = (f"## {number}. {claim.title}\n\n*Source:* {claim.source}: "
               f"{claim.source_figure}.  \n*Ours:* {ours}.  \n*Setting:* {setting}."
               f"\n\n" + "\n\n".join(images) + "\n\n" + claim.discussion(result))
    if verbose:
        print(f"{number}. {claim.title}: {seconds:.1f} s ({cpu:.1f} s of CPU)", flush=True)
    return row, section, seconds, written


def _page(source: str, quick: bool, rows: list[str], sections: list[str]) -> str:
    return ("# The lectures' claims, measured\n\n"
            "Generated by `python tools/make_results.py` (`make results`) from "
            "`cs231n_lib.experiments`; do not edit by hand. Every run is seeded, so the "
            f"numbers repeat. Data: {source}."
            f"{' **Quick settings: a pipeline check only.**' if quick else ''}"
            "\n\n| claim | source | ours | setting |\n|---|---|---|---|\n"
            + "\n".join(rows) + "\n\n" + "\n".join(sections))


def _split_page(page: str) -> tuple[str, list[str], list[str]]:
    """(header, table rows, sections) of a page that ``_page`` wrote."""
    head, _, rest = page.partition("\n| claim | source | ours | setting |\n|---|---|---|---|\n")
    table, _, body = rest.partition("\n\n## ")
    # a claim's section starts with "## <number>. "; any other heading belongs to it
    sections = re.split(r"\n(?=## \d+\. )", "## " + body) if body else []
    return head, table.splitlines(), sections


def _splice(page: str, number: int, row: str, section: str) -> str:
    """``page`` with claim ``number``'s table row and section replaced (or added in order)."""
    head, rows, sections = _split_page(page)
    by_number = {int(r.split(".", 1)[0].strip("| ")): r for r in rows}
    by_number[number] = row
    numbered = {int(sec[3:].split(".", 1)[0]): sec for sec in sections}
    numbered[number] = section if section.endswith("\n") else section + "\n"
    return (head + "\n| claim | source | ours | setting |\n|---|---|---|---|\n"
            + "\n".join(by_number[k] for k in sorted(by_number)) + "\n\n"
            + "\n".join(numbered[k] for k in sorted(numbered)))


def build(out_dir: Path, *, quick: bool = False, verbose: bool = True,
          only: str | None = None) -> dict:
    """Run every claim (or the one named ``only``); write ``out_dir/results.md`` and figures.

    With ``only``, the other claims' rows, sections and figures already in
    ``out_dir`` are kept as they are, and only that claim's are rewritten.

    Returns
    -------
    dict
        ``seconds`` per claim key and ``total``; ``figures``: the PNG paths.
    """
    from cs231n_lib.data import load_default

    out_dir = Path(out_dir)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    data = load_default(subtract_mean=False)
    source = {"digits": "scikit-learn's 8x8 handwritten digits (embedded default)",
              "cifar10": "CIFAR-10 (first images of each split)"}[data["source"]]
    keys = [claim.key for claim in CLAIMS]
    if only is not None and only not in keys:
        raise SystemExit(f"--only must name a claim: {', '.join(keys)}; got {only!r}.")
    page_path = out_dir / "results.md"
    if only is not None and not page_path.is_file():
        raise SystemExit(f"--only updates an existing page, and {page_path} does not exist; "
                         "build the whole page first (without --only).")

    started, cpu_started = time.perf_counter(), time.process_time()
    rows, sections, seconds, written = [], [], {}, []
    for number, claim in enumerate(CLAIMS, start=1):
        if only is not None and claim.key != only:
            continue
        row, section, seconds[claim.key], paths = _run_claim(number, claim, data, quick,
                                                             figures_dir, verbose)
        rows.append(row)
        sections.append(section)
        written += paths
    seconds["total"] = time.perf_counter() - started
    seconds["cpu"] = time.process_time() - cpu_started
    if only is not None:
        number = keys.index(only) + 1
        page_path.write_text(_splice(page_path.read_text(), number, rows[0], sections[0]))
        return {"seconds": seconds, "figures": written}
    for stale in sorted(set(figures_dir.glob("*.png")) - set(written)):
        stale.unlink()  # a figure no claim draws any more must not linger in the page's folder
    page_path.write_text(_page(source, quick, rows, sections))
    return {"seconds": seconds, "figures": written}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs",
                        help="folder for results.md and figures/ (default: docs/)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings, to check the pipeline in seconds")
    parser.add_argument("--only", metavar="CLAIM",
                        help="run one claim (" + ", ".join(c.key for c in CLAIMS) + ") and "
                        "update its row, section and figures in an existing page")
    args = parser.parse_args(argv)
    report = build(args.out, quick=args.quick, only=args.only)
    print(f"wrote {args.out / 'results.md'} and {len(report['figures'])} figures in "
          f"{report['seconds']['total']:.1f} s ({report['seconds']['cpu']:.1f} s of CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
