"""What the checks of ``test_source_notebooks.py`` need to know about each source notebook.

Plain data, one ``NotebookCase`` per assignment: the checks themselves live in
``notebook_contract.py`` and are the same for every notebook. A planted bug is
a ``(grade_id, bugs)`` pair: ``bugs`` holds the ``(module, function, mutation)``
triples ``notebook_contract.library_copy`` plants, and some probe of the test
cell ``grade_id`` must notice them.
"""

from __future__ import annotations

from dataclasses import dataclass

Bug = tuple[str, str, tuple[str, str] | None]


@dataclass(frozen=True)
class NotebookCase:
    name: str
    # Test cells that check answers typed into the notebook, not library code
    # (no library probe: their answer probes are checked by test_answer_probes.py).
    notebook_answers: frozenset[str]
    # Test cells whose probes must accept the reference library unchanged.
    faithful_cells: tuple[str, ...]
    planted_bugs: tuple[tuple[str, list[Bug]], ...]
    written_minimum: int
    # Whether check_answer_cells applies: it refuses an answer cell that is all
    # solution region, as the one answer cell of some notebooks is today.
    answer_cells_named: bool = True
    # Test cells that must exist in the notebook by name.
    required_cells: frozenset[str] = frozenset()
    # Calls that must appear in the notebook's code cells.
    required_calls: tuple[str, ...] = ()
    # Wrong code the *visible* part of a test cell must catch, with a message: a student who
    # passes the visible checks should have right code (ties, exact zeros at a mask's
    # boundary, fan-out, upstream gradients other than 1, ...).
    visible_bugs: tuple[tuple[str, list[Bug]], ...] = ()
    # Wrong answers typed into the notebook: (test cell, {answer cell: its wrong source}).
    wrong_answers: tuple[tuple[str, dict[str, str]], ...] = ()
    # A bug in one gap that a test cell of another gap (hidden part included) must not
    # notice: one bug, one penalty.
    independent_cells: tuple[tuple[str, list[Bug]], ...] = ()
    # A bug, and a snippet of a demo cell that must then say it is skipped and draw nothing.
    guarded_demos: tuple[tuple[list[Bug], str], ...] = ()


# (gate, its gradient line, the same line without the upstream gradient out.grad)
VALUE_GATES_WITHOUT_UPSTREAM = (
    ("__add__", "self.grad += 1.0 * out.grad", "self.grad += 1.0"),
    ("__sub__", "other.grad += -1.0 * out.grad", "other.grad += -1.0"),
    ("__mul__", "other.grad += self.data * out.grad", "other.grad += self.data"),
    ("__truediv__", "(1.0 / other.data) * out.grad", "(1.0 / other.data)"),
    ("__pow__", "k * self.data ** (k - 1) * out.grad", "k * self.data ** (k - 1)"),
    ("max", "(1.0 if self.data >= other.data else 0.0) * out.grad",
     "(1.0 if self.data >= other.data else 0.0)"),
    ("__neg__", "-1.0 * out.grad", "-1.0"),
    ("exp", "out.data * out.grad", "out.data"),
    ("tanh", "(1.0 - out.data ** 2) * out.grad", "(1.0 - out.data ** 2)"),
    ("sigmoid", "out.data * (1.0 - out.data) * out.grad", "out.data * (1.0 - out.data)"),
    ("relu", "(1.0 if self.data > 0 else 0.0) * out.grad", "(1.0 if self.data > 0 else 0.0)"),
)

BACKPROP = NotebookCase(
    name="backprop",
    # Numbers worked out by hand in the notebook.
    notebook_answers=frozenset({"test_hand_gradients", "test_gate_patterns"}),
    faithful_cells=("test_numerical_gradient", "test_value_backward", "test_affine_backward"),
    written_minimum=3,
    planted_bugs=(
        ("test_value_backward", [("graph", "Value.__mul__._backward", None)]),
        ("test_sigmoid_neuron", [("graph", "Value.sigmoid._backward", None)]),
        ("test_staged_gates", [("graph", "max_gate_backward", None)]),
        # ties of the max gate must go to x, as documented
        ("test_staged_gates", [("graph", "max_gate_backward",
                                ("dx = (x >= y) * dout", "dx = (x > y) * dout"))]),
        ("test_affine_backward", [("affine", "affine_backward", None)]),
        # a one-sided difference: right to first order only, off by about h f''/2
        ("test_numerical_gradient", [
            ("gradient_check", "eval_numerical_gradient", ("x[ix] = old - h", "x[ix] = old")),
            ("gradient_check", "eval_numerical_gradient", ("/ (2 * h)", "/ h")),
        ]),
        ("test_grad_check_sparse", [("gradient_check", "grad_check_sparse",
                                     ("/ (2 * h)", "/ (2.02 * h)"))]),
    ),
    visible_bugs=(
        # every gate of Value alone, with an upstream gradient other than 1
        *(("test_value_backward", [("graph", f"Value.{gate}._backward", (old, new))])
          for gate, old, new in VALUE_GATES_WITHOUT_UPSTREAM),
        # fan-out: the second contribution overwrites the first
        ("test_value_backward", [("graph", "Value.__mul__._backward",
                                  ("self.grad += other.data * out.grad",
                                   "self.grad = other.data * out.grad"))]),
        ("test_value_backward", [("graph", "Value.__add__._backward",
                                  ("other.grad += 1.0 * out.grad",
                                   "other.grad = 1.0 * out.grad"))]),
        # the kinks: ties of max go to self, relu's gradient at exactly 0 is 0
        ("test_value_backward", [("graph", "Value.max._backward",
                                  ("self.data >= other.data", "self.data > other.data"))]),
        ("test_value_backward", [("graph", "Value.relu._backward",
                                  ("self.data > 0", "self.data >= 0"))]),
        ("test_staged_gates", [("graph", "max_gate_backward",
                                ("dx = (x >= y) * dout", "dx = (x > y) * dout"))]),
        ("test_staged_gates", [("graph", "max_gate_backward",
                                ("dy = (y > x) * dout", "dy = (y >= x) * dout"))]),
        # one-sided differences, right only on functions linear in the perturbed entry
        ("test_numerical_gradient", [
            ("gradient_check", "eval_numerical_gradient_array", ("x[ix] = old - h", "x[ix] = old")),
            ("gradient_check", "eval_numerical_gradient_array", ("/ (2 * h)", "/ h")),
        ]),
        ("test_grad_check_sparse", [
            ("gradient_check", "grad_check_sparse", ("x[ix] = old - h", "x[ix] = old")),
            ("gradient_check", "grad_check_sparse", ("/ (2 * h)", "/ h")),
        ]),
        # checkers that leave x changed, found by a second check on the same array
        ("test_grad_check_sparse", [("gradient_check", "grad_check_sparse",
                                     ("finally:\n            x[ix] = old",
                                      "finally:\n            pass"))]),
        ("test_numerical_gradient", [("gradient_check", "eval_numerical_gradient",
                                      ("finally:\n            x[ix] = old",
                                       "finally:\n            pass"))]),
        # the transposed weight gradient: the message must name dw
        ("test_affine_backward", [("affine", "affine_backward",
                                   ("dw = x_rows.T @ dout", "dw = dout.T @ x_rows"))]),
    ),
    guarded_demos=(
        ([("graph", "Value.sigmoid._backward", None)], "def neuron_elementary"),
        ([("gradient_check", "eval_numerical_gradient", ("/ (2 * h)", "/ (2.02 * h)"))],
         "x = np.array([1.5, -0.8, 3e-6, 0.4, -2e-6])"),
    ),
)

CONV = NotebookCase(
    name="conv",
    # Numbers worked out by hand in the notebook.
    notebook_answers=frozenset({"test_output_sizes", "test_param_counts"}),
    faithful_cells=("test_conv_forward", "test_conv_backward", "test_max_pool_forward",
                    "test_max_pool_backward"),
    written_minimum=3,
    planted_bugs=(
        ("test_conv_backward", [("conv", "conv_backward_naive", None)]),
        ("test_max_pool_backward", [("conv", "max_pool_backward_naive", None)]),
        # windows that overlap must add their gradients, not overwrite them
        ("test_max_pool_backward", [("conv", "max_pool_backward_naive",
                                     ("] += dout[:, :, i, j]", "] = dout[:, :, i, j]"))]),
        # the padding's zeros are not part of the input (the sum must ignore them)
        ("test_conv_forward", [("conv", "conv_forward_naive",
                                ("((0, 0), (0, 0), (pad, pad), (pad, pad))",
                                 "((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                                 "constant_values=0.01"))]),
        # the window is pool_height x pool_width, not a single column
        ("test_max_pool_forward", [("conv", "max_pool_forward_naive",
                                    ("left:left + pw]", "left:left + 1]"))]),
    ),
    visible_bugs=(
        # ties: the last maximum of a window instead of the first
        ("test_max_pool_backward", [("conv", "max_pool_backward_naive",
                                     ("window.argmax(axis=2)",
                                      "(ph * pw - 1) - window[:, :, ::-1].argmax(axis=2)"))]),
        # overlapping windows and positions: = instead of +=
        ("test_max_pool_backward", [("conv", "max_pool_backward_naive",
                                     ("] += dout[:, :, i, j]", "] = dout[:, :, i, j]"))]),
        ("test_conv_backward", [("conv", "conv_backward_naive",
                                 ("dx_pad[:, :, top:top + HH, left:left + WW] +=",
                                  "dx_pad[:, :, top:top + HH, left:left + WW] ="))]),
        ("test_conv_backward", [("conv", "conv_backward_naive",
                                 ("dw += np.tensordot", "dw = np.tensordot"))]),
        ("test_conv_forward", [("conv", "conv_forward_naive",
                                ("((0, 0), (0, 0), (pad, pad), (pad, pad))",
                                 "((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                                 "constant_values=0.01"))]),
    ),
    guarded_demos=(
        ([("conv", "conv_forward_naive", ("((0, 0), (0, 0), (pad, pad), (pad, pad))",
                                          "((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                                          "constant_values=0.01"))],
         "rows, cols = np.mgrid[0:40, 0:40]"),
        ([("conv", "conv_backward_naive", None)], "def best_time(function, *args, repeats=3):"),
    ),
)

# Every gapped activation has its own graded test cell.
ACTIVATION_CELLS = ("test_sigmoid", "test_tanh", "test_leaky_relu", "test_prelu", "test_elu",
                    "test_maxout")

ACTIVATIONS = NotebookCase(
    name="activations",
    # The dead-unit counter is written in the notebook, not in the library.
    notebook_answers=frozenset({"test_dead_fraction"}),
    faithful_cells=tuple(sorted(ACTIVATION_CELLS)),
    written_minimum=3,
    required_cells=frozenset(ACTIVATION_CELLS),
    # The interactive explorers are the point of the notebook's second half.
    required_calls=("activation_explorer(", "figure_explorer("),
    planted_bugs=(
        ("test_sigmoid", [("activations", "sigmoid_backward", None)]),
        ("test_tanh", [("activations", "tanh_backward", None)]),
        ("test_leaky_relu", [("activations", "leaky_relu_backward", None)]),
        ("test_prelu", [("activations", "prelu_backward", None)]),
        ("test_elu", [("activations", "elu_backward", None)]),
        ("test_maxout", [("activations", "maxout_backward", None)]),
        # a per-channel alpha shares one slope over N, H and W: its gradient must sum over them
        ("test_prelu", [("activations", "prelu_backward",
                         ("range(x.ndim) if ax != 1", "range(x.ndim) if ax == 0"))]),
    ),
    visible_bugs=(
        # 4-D input with one alpha per channel: its gradient must sum over N, H and W
        ("test_prelu", [("activations", "prelu_backward",
                         ("range(x.ndim) if ax != 1", "range(x.ndim) if ax == 0"))]),
        # x exactly 0 on the wrong side of the mask
        ("test_leaky_relu", [("activations", "leaky_relu_backward",
                              ("np.where(x > 0, 1.0, alpha)", "np.where(x >= 0, 1.0, alpha)"))]),
        ("test_prelu", [("activations", "prelu_backward",
                         ("negative = x <= 0", "negative = x < 0"))]),
        ("test_elu", [("activations", "elu_backward",
                       ("np.where(x > 0, 1.0, out + alpha)",
                        "np.where(x >= 0, 1.0, out + alpha)"))]),
        ("test_sigmoid", [("activations", "sigmoid_backward", None)]),
    ),
    guarded_demos=(
        # with this bug, 5 stacked sigmoids would "pass" 0.25 of the gradient
        ([("activations", "sigmoid_backward", None)], "def stack_gradient(name, x, depth):"),
        ([("activations", "elu_backward", None)], "scales = np.logspace(-1, np.log10(30), 30)"),
    ),
)

INITIALIZATION = NotebookCase(
    name="initialization",
    # An answer typed into the notebook.
    notebook_answers=frozenset({"test_init_choice"}),
    faithful_cells=("test_mean_image", "test_channel_mean", "test_standardize",
                    "test_pca_whiten", "test_small_and_scaled", "test_xavier_he"),
    written_minimum=3,
    # Its answer cell is all solution region.
    answer_cells_named=False,
    planted_bugs=(
        # transform must leave its input alone (the caller still needs the raw data)
        ("test_mean_image", [("preprocess", "MeanImage.transform",
                              ("return X - self.mean_", "X -= self.mean_\n        return X"))]),
        # a median is not a mean
        ("test_channel_mean", [("preprocess", "ChannelMean.fit",
                                ("X_train.mean(axis=(0, 2, 3))",
                                 "np.median(X_train, axis=(0, 2, 3))"))]),
        # statistics of the set being transformed instead of the fitted ones
        ("test_channel_mean", [("preprocess", "ChannelMean.transform",
                                ("X - self.mean_[None, :, None, None]",
                                 "X - X.mean(axis=(0, 2, 3))[None, :, None, None]"))]),
        # the unbiased variance instead of the biased one the docstring asks for
        ("test_standardize", [("preprocess", "Standardize.fit",
                               ("X_train.var(axis=0)", "X_train.var(axis=0, ddof=1)"))]),
        # eigenvalues in ascending order: the *least* important directions kept
        ("test_pca_whiten", [("preprocess", "PCA.fit",
                              ("np.argsort(eigvals)[::-1][:k]", "np.argsort(eigvals)[:k]"))]),
        ("test_pca_whiten", [("preprocess", "Whiten.transform",
                              ("self.explained_variance_ + self.eps",
                               "self.explained_variance_"))]),
        # the std argument ignored
        ("test_small_and_scaled", [("init", "small_random",
                                    ("return std *", "return 0.01 *"))]),
        # a second draw from the generator
        ("test_small_and_scaled", [("init", "scaled_random",
                                    ("return scale * rng.standard_normal((fan_in, fan_out))",
                                     "rng.standard_normal(1)\n"
                                     "    return scale * rng.standard_normal((fan_in, fan_out))"
                                     ))]),
        # the transposed shape's draw
        ("test_xavier_he", [("init", "xavier",
                             ("rng.standard_normal((fan_in, fan_out))",
                              "rng.standard_normal((fan_out, fan_in)).T"))]),
        # He without its factor 2 is Xavier
        ("test_xavier_he", [("init", "he", ("np.sqrt(fan_in / 2.0)", "np.sqrt(fan_in)"))]),
    ),
    visible_bugs=(
        # Xavier scaled by the layer's outputs instead of its inputs
        ("test_xavier_he", [("init", "xavier", ("/ np.sqrt(fan_in)", "/ np.sqrt(fan_out)"))]),
        ("test_xavier_he", [("init", "he", ("np.sqrt(fan_in / 2.0)", "np.sqrt(fan_in)"))]),
    ),
    # the notebook's rule (spread kept in [1/4, 4], at most 5% of tanh units bent) as measured
    wrong_answers=tuple(
        ("test_init_choice", {"init_choice": f"good_init = {choice!r}"})
        for choice in ({"tanh": "he", "relu": "he"}, {"tanh": "small", "relu": "he"},
                       {"tanh": "xavier", "relu": "xavier"})),
    # the choice is measured with the schemes' definitions, not the student's he
    independent_cells=(
        ("test_init_choice", [("init", "he", ("np.sqrt(fan_in / 2.0)", "np.sqrt(fan_in)"))]),
    ),
    guarded_demos=(
        ([("init", "he", ("np.sqrt(fan_in / 2.0)", "np.sqrt(fan_in)"))],
         'SCHEMES = {"small: 0.01 * randn": "small"'),
        ([("preprocess", "PCA.fit", ("np.argsort(eigvals)[::-1][:k]", "np.argsort(eigvals)[:k]"))],
         "# The digits, whichever dataset the rest of the notebook uses."),
    ),
)

BATCHNORM = NotebookCase(
    name="batchnorm",
    # An answer typed into the notebook.
    notebook_answers=frozenset({"test_initial_loss"}),
    faithful_cells=("test_batchnorm_forward_train", "test_batchnorm_forward_test",
                    "test_batchnorm_backward", "test_batchnorm_backward_alt",
                    "test_spatial_batchnorm_forward", "test_spatial_batchnorm_backward"),
    written_minimum=3,
    # Its answer cell is all solution region.
    answer_cells_named=False,
    planted_bugs=(
        # the unbiased variance instead of the paper's biased one
        ("test_batchnorm_forward_train", [("batchnorm", "batchnorm_forward",
                                           ("x_centered) / N", "x_centered) / (N - 1)"))]),
        # momentum applied to the new statistics instead of the running ones
        ("test_batchnorm_forward_train", [("batchnorm", "batchnorm_forward",
                                           ("momentum * running_mean"
                                            " + (1 - momentum) * sample_mean",
                                            "(1 - momentum) * running_mean"
                                            " + momentum * sample_mean"))]),
        # test mode that centres with the batch's own mean
        ("test_batchnorm_forward_test", [("batchnorm", "batchnorm_forward",
                                          ("out = x - running_mean",
                                           "out = x - x.mean(axis=0)"))]),
        ("test_batchnorm_backward", [("batchnorm", "batchnorm_backward", None)]),
        # the variance's path forgotten where x_centered fans out
        ("test_batchnorm_backward", [("batchnorm", "batchnorm_backward",
                                      ("dx_centered += 2.0 * x_centered * dvar / N",
                                       "dx_centered = dx_centered"))]),
        ("test_batchnorm_backward_alt", [("batchnorm", "batchnorm_backward_alt", None)]),
        # channels and positions mixed up by a reshape without the transpose
        ("test_spatial_batchnorm_forward", [("batchnorm", "spatial_batchnorm_forward",
                                             ("x.transpose(0, 2, 3, 1).reshape(N * H * W, C)",
                                              "x.reshape(N * H * W, C)"))]),
        ("test_spatial_batchnorm_backward", [("batchnorm", "spatial_batchnorm_backward",
                                              None)]),
    ),
    visible_bugs=(
        ("test_batchnorm_backward", [("batchnorm", "batchnorm_backward", None)]),
        ("test_batchnorm_backward_alt", [("batchnorm", "batchnorm_backward_alt", None)]),
        ("test_spatial_batchnorm_backward", [("batchnorm", "spatial_batchnorm_backward",
                                              None)]),
    ),
    # a wrong staged backward costs its own cell only
    independent_cells=(
        ("test_batchnorm_backward_alt", [("batchnorm", "batchnorm_backward", None)]),
        ("test_spatial_batchnorm_backward", [("batchnorm", "batchnorm_backward", None)]),
    ),
    guarded_demos=(
        ([("batchnorm", "batchnorm_backward_alt", None)],
         "from cs231n_lib.experiments import batchnorm_training"),
    ),
)

TRAINING = NotebookCase(
    name="training",
    # Answers typed into the notebook.
    notebook_answers=frozenset({"test_initial_loss_five", "test_search_counts"}),
    faithful_cells=("test_learning_rate_verdict", "test_update_ratio",
                    "test_sample_log_uniform", "test_grid_and_random"),
    written_minimum=3,
    planted_bugs=(
        # the learning rate left out of the update
        ("test_update_ratio", [("babysit", "update_to_weight_ratio",
                                ("np.linalg.norm(learning_rate * dw.ravel())",
                                 "np.linalg.norm(dw.ravel())"))]),
        # an explosion that came back down goes unnoticed
        ("test_learning_rate_verdict", [("babysit", "learning_rate_verdict",
                                         (" or losses.max() > blowup * losses[0]", ""))]),
        # single losses instead of the window's means
        ("test_learning_rate_verdict", [("babysit", "learning_rate_verdict",
                                         ("start, end = losses[:window].mean(), "
                                          "losses[-window:].mean()",
                                          "start, end = losses[0], losses[-1]"))]),
        # base-10 exponents raised to the base e
        ("test_sample_log_uniform", [("search", "sample_log_uniform",
                                      ("return 10.0 ** exponents", "return np.exp(exponents)"))]),
        # uniform on the linear scale (then squashed by the power)
        ("test_sample_log_uniform", [("search", "sample_log_uniform",
                                      ("rng.uniform(np.log10(low), np.log10(high), size)",
                                       "np.log10(rng.uniform(low, high, size))"))]),
        # the grid on the ranges' ends instead of the cells' centres
        ("test_grid_and_random", [("search", "grid_search_configs",
                                   ("centres = (np.arange(k) + 0.5) / k",
                                    "centres = np.linspace(0.0, 1.0, k)"))]),
        # a log range sampled uniformly
        ("test_grid_and_random", [("search", "random_search_configs",
                                   ("columns[name] = sample_log_uniform(rng, r.low, r.high, "
                                    "budget)",
                                    "columns[name] = rng.uniform(r.low, r.high, budget)"))]),
    ),
)

CASES = (BACKPROP, CONV, ACTIVATIONS, INITIALIZATION, BATCHNORM, TRAINING)
