import importlib

import pytest

from cs231n_lib import layers

# Every layer function issue 2 lists (sandwiches included), with the module that implements it.
EXPECTED = {
    "affine": ["affine_forward", "affine_backward"],
    "activations": [
        "relu_forward", "relu_backward",
        "leaky_relu_forward", "leaky_relu_backward",
        "prelu_forward", "prelu_backward",
        "elu_forward", "elu_backward",
        "sigmoid_forward", "sigmoid_backward",
        "tanh_forward", "tanh_backward",
        "maxout_forward", "maxout_backward",
    ],
    "losses": ["softmax_loss", "svm_loss"],
    "batchnorm": [
        "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
        "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    ],
    "conv": [
        "conv_forward_naive", "conv_backward_naive",
        "max_pool_forward_naive", "max_pool_backward_naive",
    ],
    "layer_utils": [
        "affine_relu_forward", "affine_relu_backward",
        "affine_batchnorm_relu_forward", "affine_batchnorm_relu_backward",
        "conv_relu_forward", "conv_relu_backward",
        "conv_relu_pool_forward", "conv_relu_pool_backward",
    ],
}
CASES = [(module, name) for module, names in EXPECTED.items() for name in names]


@pytest.mark.parametrize("module, name", CASES, ids=[name for _, name in CASES])
def test_layer_is_reexported_not_reimplemented(module, name):
    topic = importlib.import_module(f"cs231n_lib.{module}")
    assert getattr(layers, name) is getattr(topic, name)
    assert name in layers.__all__


def test_all_names_exactly_the_reexported_functions():
    expected = {name for _, name in CASES}
    assert set(layers.__all__) >= expected
    assert len(layers.__all__) == len(set(layers.__all__))
    for name in layers.__all__:
        assert callable(getattr(layers, name))


def test_star_import_gives_the_cs231n_names():
    namespace = {}
    exec("from cs231n_lib.layers import *", namespace)
    assert {name for _, name in CASES} <= set(namespace)
