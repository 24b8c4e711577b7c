"""Every layer function under CS231n's names, in one place.

``from cs231n_lib.layers import affine_forward, relu_backward, softmax_loss``
works as in CS231n's assignments. The functions live in one module per
lecture topic (``affine``, ``activations``, ``losses``, ``batchnorm``,
``conv``) and the sandwich layers in ``layer_utils``; this module only
re-exports them, so ``layers.relu_forward`` *is* ``activations.relu_forward``.
The fast conv and pooling layers stay in ``cs231n_lib.fast_layers``, as in
CS231n.
"""

from cs231n_lib.activations import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    maxout_backward,
    maxout_forward,
    prelu_backward,
    prelu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.batchnorm import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from cs231n_lib.conv import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from cs231n_lib.layer_utils import (
    affine_batchnorm_relu_backward,
    affine_batchnorm_relu_forward,
    affine_norm_activation_backward,
    affine_norm_activation_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n_lib.losses import softmax_loss, svm_loss

__all__ = [
    # lecture 4: fully connected
    "affine_forward",
    "affine_backward",
    # lecture 6: activations
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "prelu_forward",
    "prelu_backward",
    "elu_forward",
    "elu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "maxout_forward",
    "maxout_backward",
    # losses
    "softmax_loss",
    "svm_loss",
    # lecture 6: batch normalisation
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    # lecture 5: convolution and pooling
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    # sandwich layers
    "affine_relu_forward",
    "affine_relu_backward",
    "affine_batchnorm_relu_forward",
    "affine_batchnorm_relu_backward",
    "affine_norm_activation_forward",
    "affine_norm_activation_backward",
    "conv_relu_forward",
    "conv_relu_backward",
    "conv_relu_pool_forward",
    "conv_relu_pool_backward",
]
