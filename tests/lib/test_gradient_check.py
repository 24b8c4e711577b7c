import numpy as np
import pytest

from cs231n_lib.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    prelu_backward,
    prelu_forward,
)
from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.batchnorm import batchnorm_backward, batchnorm_forward
from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import (
    GradientReport,
    PrecisionWarning,
    check_gradients,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


class Boom(RuntimeError):
    pass


# ---------------------------------------------------------------- rel_error
def test_rel_error_is_the_largest_relative_difference():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert rel_error(2.0, 1.0) == pytest.approx(1 / 3)


def test_rel_error_is_safe_at_zero():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)
    assert rel_error(np.empty((0, 2)), np.empty((0, 2))) == 0.0


def test_rel_error_refuses_to_broadcast():
    with pytest.raises(ShapeError, match=r"got \(3,\) and \(3, 1\)"):
        rel_error(np.zeros(3), np.zeros((3, 1)))


# ------------------------------------------------ numerical gradients
def test_numerical_gradient_of_a_quadratic(rng, capsys):
    a = rng.standard_normal((3, 4))
    x = rng.standard_normal((3, 4))
    grad = eval_numerical_gradient(lambda x_: np.sum(a * x_ ** 2), x, verbose=False)
    assert rel_error(grad, 2 * a * x) < 1e-8
    assert capsys.readouterr().out == ""
    eval_numerical_gradient(lambda x_: float(np.sum(x_)), np.zeros(2), verbose=True)
    assert capsys.readouterr().out.count("\n") == 2


def test_numerical_gradient_reads_x_through_a_closure(rng):
    # CS231n's idiom: f ignores its argument and reads the array it closes over.
    w = rng.standard_normal(5)
    grad = eval_numerical_gradient(lambda _: float(np.sum(np.sin(w))), w, verbose=False)
    assert rel_error(grad, np.cos(w)) < 1e-8


def test_non_scalar_f_is_a_clear_error_pointing_to_the_array_version():
    with pytest.raises(TypeError, match="use eval_numerical_gradient_array"):
        eval_numerical_gradient(lambda x_: x_ * 2, np.ones(3), verbose=False)


def test_numerical_gradient_array_is_the_vector_jacobian_product(rng):
    x = rng.standard_normal((4, 3))
    m = rng.standard_normal((3, 2))
    df = rng.standard_normal((4, 2))
    grad = eval_numerical_gradient_array(lambda x_: np.tanh(x_) @ m, x, df)
    assert rel_error(grad, (df @ m.T) * (1 - np.tanh(x) ** 2)) < 1e-8


def test_numerical_gradient_array_copes_with_f_reusing_its_output_buffer():
    buffer = np.empty(2)

    def f(x_):
        np.multiply(x_, 3.0, out=buffer)
        return buffer

    grad = eval_numerical_gradient_array(f, np.array([1.0, 2.0]), np.ones(2))
    assert rel_error(grad, np.array([3.0, 3.0])) < 1e-9


def test_numerical_gradient_array_checks_df_shape():
    with pytest.raises(ShapeError, match=r"df has shape \(3,\) but f\(x\) has shape \(2,\)"):
        eval_numerical_gradient_array(lambda x_: x_, np.ones(2), np.ones(3))


# ---------------------------------------------- inputs restored exactly
def _awkward_values(rng, shape, h=1e-5):
    """Values some of which x - h + h does not give back, so only an exact restore passes."""
    while True:
        x = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, size=shape)
        if np.any((x - h) + h != x) and np.any((x + h) - h != x):
            return x


def test_every_function_restores_x_bit_for_bit(rng):
    x = _awkward_values(rng, (3, 4))
    before = x.copy()
    eval_numerical_gradient(lambda x_: float(np.sum(x_ ** 3)), x, verbose=False)
    eval_numerical_gradient_array(lambda x_: x_ ** 3, x, np.ones_like(x))
    grad_check_sparse(lambda x_: float(np.sum(x_ ** 3)), x, 3 * x ** 2, num_checks=5, rng=rng)
    assert x.tobytes() == before.tobytes()


def _raise_on_call(n):
    calls = {"n": 0}

    def f(x_):
        calls["n"] += 1
        if calls["n"] >= n:
            raise Boom("f failed")
        return float(np.sum(x_))

    return f


@pytest.mark.parametrize("fail_at", [1, 2, 3, 6])
def test_x_is_restored_when_f_raises(fail_at, rng):
    x = _awkward_values(rng, (2, 3))
    before = x.copy()
    with pytest.raises(Boom):
        eval_numerical_gradient(_raise_on_call(fail_at), x, verbose=False)
    assert x.tobytes() == before.tobytes()
    with pytest.raises(Boom):
        grad_check_sparse(_raise_on_call(fail_at), x, np.ones_like(x), num_checks=5, rng=rng)
    assert x.tobytes() == before.tobytes()

    array_f = _raise_on_call(fail_at + 1)  # the first call only checks df's shape
    with pytest.raises(Boom):
        eval_numerical_gradient_array(lambda x_: np.atleast_1d(array_f(x_)), x, np.ones(1))
    assert x.tobytes() == before.tobytes()


# --------------------------------------------------------- float64 only
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_non_float64_input_is_refused_with_the_reason(dtype):
    x = np.ones(3, dtype=dtype)
    with pytest.raises(TypeError, match="Numerical gradients need float64") as err:
        eval_numerical_gradient(lambda x_: float(np.sum(x_)), x, verbose=False)
    assert "astype(np.float64)" in str(err.value)
    with pytest.raises(TypeError, match="expected float64"):
        eval_numerical_gradient_array(lambda x_: x_, x, np.ones(3))
    with pytest.raises(TypeError, match="expected float64"):
        grad_check_sparse(lambda x_: float(np.sum(x_)), x, np.ones(3))


def test_a_list_is_refused_because_it_cannot_be_perturbed_in_place():
    with pytest.raises(TypeError, match="perturbed in place"):
        eval_numerical_gradient(lambda x_: 0.0, [1.0, 2.0], verbose=False)


# ----------------------------------------------------- grad_check_sparse
def test_grad_check_sparse_returns_the_printed_errors(rng, capsys):
    x = rng.standard_normal((20, 30))
    errors = grad_check_sparse(lambda x_: float(np.sum(x_ ** 2)), x, 2 * x,
                               num_checks=7, rng=rng)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(errors) == 7 and len(printed) == 7
    assert all("relative error" in line for line in printed)
    assert max(errors) < 1e-7


def test_grad_check_sparse_exposes_a_wrong_gradient(rng, capsys):
    x = rng.standard_normal(50) + 3.0
    errors = grad_check_sparse(lambda x_: float(np.sum(x_ ** 2)), x, x, num_checks=5, rng=rng)
    assert min(errors) > 0.3


def test_grad_check_sparse_is_reproducible_with_a_seed(capsys):
    x = np.linspace(1.0, 2.0, 100)
    first = grad_check_sparse(lambda x_: float(np.sum(x_ ** 3)), x, 3 * x ** 2, rng=7)
    out_first = capsys.readouterr().out
    second = grad_check_sparse(lambda x_: float(np.sum(x_ ** 3)), x, 3 * x ** 2, rng=7)
    assert first == second and capsys.readouterr().out == out_first


# ------------------------------------------------------ check_gradients
def test_report_covers_every_input_of_a_forward_backward_pair(rng):
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    report = check_gradients(affine_forward, affine_backward, [x, w, b])
    assert isinstance(report, GradientReport)
    assert report.passed and bool(report)
    assert list(report.errors) == ["x", "w", "b"]  # names from forward's signature
    assert all(err < 1e-7 for err in report.errors.values())
    assert report["w"].shape == (6, 5)
    table = str(report)
    assert table.splitlines()[0] == "affine_forward / affine_backward"
    for fragment in ("input", "max rel. error", "(4, 2, 3)", "(6, 5)", "pass"):
        assert fragment in table


def test_report_fails_the_input_whose_gradient_is_wrong(rng):
    def bad_backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, 2 * db

    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    report = check_gradients(affine_forward, bad_backward, [x, w, b])
    assert not report.passed
    assert report["x"].passed and report["w"].passed and not report["b"].passed
    assert "FAIL" in str(report)


def test_a_gradient_of_the_wrong_shape_is_a_failed_row(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    report = check_gradients(affine_forward,
                             lambda d, c: (affine_backward(d, c)[0], affine_backward(d, c)[1].T,
                                           affine_backward(d, c)[2]),
                             [x, w, b])
    assert not report["w"].passed
    assert "backward returned shape (2, 3), expected (3, 2)" in str(report)
    # what a test cell's assert says: the input at fault and why
    message = report.failure_message()
    assert "dw: backward returned shape (2, 3), expected (3, 2)" in message
    assert "dx" not in message and "db" not in message


def test_the_failure_message_names_each_wrong_gradient_and_its_error(rng):
    def bad_backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return 1.5 * dx, dw, db

    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    report = check_gradients(affine_forward, bad_backward, [x, w, b])
    message = report.failure_message()
    assert message.startswith("a relative error is above 1e-07 in affine_forward / "
                              "bad_backward: dx (4, 3): relative error 2.00e-01")
    assert "dw" not in message
    assert check_gradients(affine_forward, affine_backward, [x, w, b]).failure_message() == ""


def test_scalar_parameter_is_checked_and_hyperparameters_pass_through(rng):
    x = rng.standard_normal((5, 4))
    x += np.sign(x) * 0.1
    report = check_gradients(prelu_forward, prelu_backward, [x, 0.25])
    assert report.passed, str(report)
    assert report["alpha"].shape == ()

    # leaky ReLU's alpha is a fixed float: backward returns dx only, so alpha
    # is passed through and reported as not checked.
    report = check_gradients(leaky_relu_forward, leaky_relu_backward, [x, 0.1])
    assert list(report.errors) == ["x"] and report.skipped == ["alpha"]
    assert "not checked (passed through): alpha" in str(report)


def test_dict_parameters_are_passed_through_untouched(rng):
    seen = []

    def scaled_forward(x, w, param):
        seen.append(param)
        return x * w * param["scale"], (x, w, param)

    def scaled_backward(dout, cache):
        x, w, param = cache
        return dout * w * param["scale"], np.sum(dout * x) * param["scale"]

    param = {"scale": 3.0, "mode": "train"}
    x = rng.standard_normal((3, 2))
    report = check_gradients(scaled_forward, scaled_backward, [x, 1.5, param])
    assert report.passed, str(report)
    assert report.skipped == ["param"]
    assert all(p is param for p in seen)
    assert param == {"scale": 3.0, "mode": "train"}


def test_check_gradients_never_perturbs_the_callers_arrays(rng):
    x = _awkward_values(rng, (3, 4))
    w, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    copies = [a.copy() for a in (x, w, b)]
    check_gradients(affine_forward, affine_backward, [x, w, b])
    for original, copy in zip((x, w, b), copies, strict=True):
        assert original.tobytes() == copy.tobytes()


def test_float32_inputs_warn_and_are_checked_in_float64(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    w, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    with pytest.warns(PrecisionWarning, match="need float64"):
        report = check_gradients(affine_forward, affine_backward, [x, w, b])
    assert report.passed
    assert x.dtype == np.float32


def test_named_inputs_explicit_wrt_and_given_dout(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((4, 2))

    def only_dw(dout_, cache):
        return affine_backward(dout_, cache)[1]

    report = check_gradients(affine_forward, only_dw, {"inp": x, "weights": w, "bias": b},
                             wrt=["weights"], dout=dout, title="dw only")
    assert list(report.errors) == ["weights"] and report.passed
    assert report.skipped == ["inp", "bias"]
    assert str(report).startswith("dw only")


def test_bad_arguments_are_clear_errors(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    with pytest.raises(ValueError, match="one name per input"):
        check_gradients(affine_forward, affine_backward, [x, w, b], param_names=["x", "w"])
    with pytest.raises(ValueError, match="not inputs"):
        check_gradients(affine_forward, affine_backward, [x, w, b], wrt=["x", "w", "c"])
    with pytest.raises(ValueError, match="only 1 float inputs"):
        check_gradients(affine_forward, affine_backward, [x, w.astype(int), b.astype(int)])
    with pytest.raises(ShapeError, match="dout has shape"):
        check_gradients(affine_forward, affine_backward, [x, w, b], dout=np.ones(3))
    with pytest.raises(TypeError, match="list of forward's positional arguments"):
        check_gradients(affine_forward, affine_backward, x)


def test_default_dout_does_not_collide_with_seed_zero_inputs():
    # Batchnorm's dx vanishes when dout equals x; a default dout drawn with
    # seed 0 would equal inputs drawn with seed 0 and hide the x row's errors.
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    bn_param = {"mode": "train"}
    report = check_gradients(batchnorm_forward, batchnorm_backward, [x, gamma, beta, bn_param])
    assert report.passed, str(report)
    assert report.skipped == ["bn_param"]
    assert "running_mean" in bn_param  # the same dict reached forward


# ------------------------------------------- a wrong gradient's likely mistake, named

def _affine_forward(x, w, b):
    return x @ w + b, (x, w, b)


@pytest.mark.parametrize(("backward_dw", "words"), [
    (lambda x, dout: x.T @ dout / x.shape[0], "divided by N (N = 5)"),
    (lambda x, dout: -(x.T @ dout), "sign flipped"),
    (lambda x, dout: dout.T @ x, "axes in the wrong order"),
])
def test_a_wrong_gradient_is_named_in_the_failure_message(backward_dw, words):
    """The same words (cs231n_lib.relations.explain) the grader's feedback uses."""
    from cs231n_lib.gradient_check import check_gradients

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)

    def backward(dout, cache):
        x, w, _ = cache
        return dout @ w.T, backward_dw(x, dout), dout.sum(axis=0)

    report = check_gradients(_affine_forward, backward, [x, w, b])
    message = report.failure_message()
    assert not report.passed and words in message, message
    assert "dx" not in message.split(":", 1)[1]  # only the wrong gradient is named
    assert ".." not in message, message
    # the printed table names it too, under the rows (the self-check shows the table)
    assert f"likely mistake in dw: {report['w'].mistake}" in str(report), str(report)


def test_a_right_gradient_names_nothing():
    from cs231n_lib.gradient_check import check_gradients

    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    report = check_gradients(_affine_forward,
                             lambda dout, c: (dout @ c[1].T, c[0].T @ dout, dout.sum(axis=0)),
                             [x, w, b])
    assert report.passed and report.failure_message() == ""


def test_a_transposed_gradient_is_named_with_the_shape_it_has():
    from cs231n_lib.gradient_check import check_gradients

    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    report = check_gradients(_affine_forward,
                             lambda dout, c: (dout @ c[1].T, dout.T @ c[0], dout.sum(axis=0)),
                             [x, w, b])
    assert "expected (4, 3)" in report["w"].note
    assert "wrong order (shape (3, 4))" in report["w"].mistake, report["w"].mistake
