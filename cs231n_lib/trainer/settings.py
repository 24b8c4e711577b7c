"""The trainer's hyperparameters: mutable while it trains, checked when set."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

__all__ = ["Settings"]


def _number(name, value, low, high=math.inf, *, high_open=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a number; got {value!r}.")
    value = float(value)
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or value < low or too_high:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}; got {value!r}.")
    return value


@dataclass
class Settings:
    """What the next training step uses; a change applies from the next step on.

    ``lr``: learning rate (>= 0); ``momentum``: in [0, 1); ``batch_size``:
    examples per step (>= 1); ``weight_decay``: L2 strength (>= 0).
    """

    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 20
    weight_decay: float = 1e-4

    def __setattr__(self, name, value):
        if name == "lr":
            value = _number("lr", value, 0.0)
        elif name == "momentum":
            value = _number("momentum", value, 0.0, 1.0, high_open=True)
        elif name == "weight_decay":
            value = _number("weight_decay", value, 0.0)
        elif name == "batch_size":
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"batch_size must be a whole number >= 1; got {value!r}.")
            value = int(value)
        elif name not in {f.name for f in fields(self)}:
            raise AttributeError(f"unknown setting {name!r}; the settings are lr, momentum, "
                                 "batch_size and weight_decay.")
        object.__setattr__(self, name, value)

    def copy(self) -> Settings:
        return Settings(**asdict(self))

    def as_dict(self) -> dict:
        return asdict(self)
