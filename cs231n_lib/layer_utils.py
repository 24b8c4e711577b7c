"""Sandwich layers: common stacks of layers as one forward/backward pair.

A sandwich's forward pass runs its layers in order and keeps every layer's
cache; its backward pass runs the layers' backward passes in reverse order,
each one's ``dx`` becoming the ``dout`` of the layer before it (the chain
rule, one layer at a time). Nothing here computes a gradient of its own: every
number comes from the layer modules, so a sandwich is correct exactly when
its layers are.

Forward passes return ``(out, cache)``; backward passes take
``(dout, cache)`` and return the gradients of the forward inputs in their
order (``dx, dw, db`` then ``dgamma, dbeta`` when there is a batchnorm).
"""

from __future__ import annotations

from cs231n_lib.activations import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.batchnorm import batchnorm_backward_alt, batchnorm_forward
from cs231n_lib.checks import require_choice
from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

__all__ = [
    "ACTIVATION_LAYERS",
    "affine_relu_forward", "affine_relu_backward",
    "affine_batchnorm_relu_forward", "affine_batchnorm_relu_backward",
    "affine_norm_activation_forward", "affine_norm_activation_backward",
    "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward",
]

#: Activation name -> (forward, backward), the choices of FullyConnectedNet.
#: Leaky ReLU and ELU use their default alpha (0.01 and 1.0).
ACTIVATION_LAYERS = {
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
}


# ------------------------------------------------ affine - [norm] - activation
def affine_norm_activation_forward(x, w, b, gamma=None, beta=None, bn_param=None,
                                   activation="relu"):
    """Affine layer, optional batchnorm, then an activation function.

    This is one hidden layer of ``FullyConnectedNet``; batch normalisation
    goes between the affine layer and the nonlinearity, as in the lecture.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
    w : ndarray, (D, M)
    b : ndarray, (M,)
    gamma, beta : ndarray, (M,), optional
        Batchnorm scale and shift; required together with ``bn_param``.
    bn_param : dict, optional
        Batchnorm settings (``mode`` etc.); None means no normalisation.
    activation : str
        A key of ``ACTIVATION_LAYERS``.

    Returns
    -------
    out : ndarray, (N, M)
        The layer's activations.
    cache : tuple
        For :func:`affine_norm_activation_backward`.
    """
    require_choice("activation", activation, tuple(ACTIVATION_LAYERS))
    normalize = bn_param is not None
    if normalize and (gamma is None or beta is None):
        raise ValueError("batchnorm needs gamma and beta, both of shape (M,); got "
                         f"gamma={'None' if gamma is None else 'an array'} and "
                         f"beta={'None' if beta is None else 'an array'}.")
    act_forward, _ = ACTIVATION_LAYERS[activation]

    a, fc_cache = affine_forward(x, w, b)
    bn_cache = None
    if normalize:
        a, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, act_cache = act_forward(a)
    return out, (activation, fc_cache, bn_cache, act_cache)


def affine_norm_activation_backward(dout, cache):
    """Backward pass of :func:`affine_norm_activation_forward`.

    Parameters
    ----------
    dout : ndarray, (N, M)
    cache : tuple
        From :func:`affine_norm_activation_forward`.

    Returns
    -------
    dx : ndarray, (N, d_1, ..., d_k)
    dw : ndarray, (D, M)
    db : ndarray, (M,)
    dgamma, dbeta : ndarray, (M,)
        Only when the forward pass had a batchnorm.
    """
    activation, fc_cache, bn_cache, act_cache = cache
    _, act_backward = ACTIVATION_LAYERS[activation]

    da = act_backward(dout, act_cache)
    if bn_cache is None:
        return affine_backward(da, fc_cache)
    da, dgamma, dbeta = batchnorm_backward_alt(da, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def affine_relu_forward(x, w, b):
    """Affine layer followed by a ReLU.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
    w : ndarray, (D, M)
    b : ndarray, (M,)

    Returns
    -------
    out : ndarray, (N, M)
    cache : tuple
    """
    return affine_norm_activation_forward(x, w, b, activation="relu")


def affine_relu_backward(dout, cache):
    """Backward pass of :func:`affine_relu_forward` -> ``(dx, dw, db)``."""
    return affine_norm_activation_backward(dout, cache)


def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
    """Affine layer, batch normalisation, ReLU.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
    w : ndarray, (D, M)
    b : ndarray, (M,)
    gamma, beta : ndarray, (M,)
    bn_param : dict
        Must hold ``mode`` (``'train'`` or ``'test'``).

    Returns
    -------
    out : ndarray, (N, M)
    cache : tuple
    """
    if bn_param is None:
        raise ValueError("bn_param is None; give a dict such as {'mode': 'train'}, or use "
                         "affine_relu_forward for a layer without batchnorm.")
    return affine_norm_activation_forward(x, w, b, gamma, beta, bn_param, activation="relu")


def affine_batchnorm_relu_backward(dout, cache):
    """Backward pass of :func:`affine_batchnorm_relu_forward`.

    Returns
    -------
    dx, dw, db, dgamma, dbeta
    """
    return affine_norm_activation_backward(dout, cache)


# ---------------------------------------------------------------- conv stacks
def conv_relu_forward(x, w, b, conv_param):
    """Convolution (fast version) followed by a ReLU.

    Parameters
    ----------
    x : ndarray, (N, C, H, W)
    w : ndarray, (F, C, HH, WW)
    b : ndarray, (F,)
    conv_param : dict
        ``stride`` and ``pad``.

    Returns
    -------
    out : ndarray, (N, F, H', W')
    cache : tuple
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward pass of :func:`conv_relu_forward` -> ``(dx, dw, db)``."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolution, ReLU, max pooling (fast versions).

    Parameters
    ----------
    x : ndarray, (N, C, H, W)
    w : ndarray, (F, C, HH, WW)
    b : ndarray, (F,)
    conv_param : dict
        ``stride`` and ``pad``.
    pool_param : dict
        ``pool_height``, ``pool_width`` and ``stride``.

    Returns
    -------
    out : ndarray, (N, F, H'', W'')
    cache : tuple
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Backward pass of :func:`conv_relu_pool_forward` -> ``(dx, dw, db)``."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)
