"""Numpy reference library for CS231n lectures 4 to 6.

One module per lecture topic; ``cs231n_lib.layers`` gathers the layer
functions under CS231n's names. Arrays are float64 by default.
"""

__version__ = "0.1.0"
