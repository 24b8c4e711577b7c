"""Draw a ``Value`` graph with its forward values and gradients, using matplotlib only.

Each ``Value`` is a box showing its label, ``data`` (forward) and ``grad``
(backward); each gate is a small circle naming its operation, between its
inputs and the value it produced. Inputs are on the left and the output on the
right, one column per depth, as in the lecture's circuit diagrams::

    >>> x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    >>> f = (x + y) * z
    >>> f.label = "f"
    >>> f.backward()
    >>> draw_graph(f)          # a matplotlib Figure; a notebook shows it inline

No graphviz or other system package is needed. ``to_svg`` returns the same
drawing as SVG text.
"""

from __future__ import annotations

import io
from collections import defaultdict

from matplotlib.patches import Circle, FancyBboxPatch

from cs231n_lib.graph import Value, topological_order
from cs231n_lib.viz import InlineFigure

__all__ = ["draw_graph", "to_svg", "node_text"]

# Layout in data units; the figure is sized from them so text never has to shrink.
_COLUMN = 3.0          # distance between value columns
_BOX_W, _BOX_H = 1.7, 1.0
_ROW = 1.35            # distance between boxes in a column
_SLOT = 0.3            # a gate's first input is wanted this much above its second
_OP_R = 0.36           # radius of a gate's circle
_OP_X = 1.35           # how far left of its output a gate sits
_INCH_PER_UNIT = 0.62

_OP_NAMES = {"sigmoid": "σ", "neg": "−x", "-": "−", "*": "×", "/": "÷"}

_LEAF, _INNER, _OUTPUT = "#dbe9f6", "#f4f4f4", "#dff0d8"
_GATE = "#fde2c4"


def node_text(value: Value) -> str:
    """The text drawn in a value's box: its label (if any), data and grad."""
    lines = [value.label] if value.label else []
    lines += [f"data {value.data:.4g}", f"grad {value.grad:.4g}"]
    return "\n".join(lines)


def _columns(order: list[Value]) -> dict[int, int]:
    """Column of each node (by id): gates' outputs by their depth, inputs just left of use."""
    height: dict[int, int] = {}
    for node in order:  # children come before parents
        height[id(node)] = 1 + max((height[id(c)] for c in node.children), default=-1)
    first_use: dict[int, int] = {}
    for node in order:
        for child in node.children:
            first_use[id(child)] = min(first_use.get(id(child), height[id(node)]),
                                       height[id(node)])
    return {id(n): (height[id(n)] if n.children else max(first_use.get(id(n), 1) - 1, 0))
            for n in order}


def _rows(order: list[Value], column: dict[int, int]) -> dict[int, float]:
    """Vertical position of each node: placed from the output leftwards under its users."""
    users: dict[int, list[tuple[Value, int]]] = defaultdict(list)
    for node in order:
        for slot, child in enumerate(node.children):
            users[id(child)].append((node, slot))
    by_column: dict[int, list[Value]] = defaultdict(list)
    for node in order:
        by_column[column[id(node)]].append(node)
    y: dict[int, float] = {}
    for col in sorted(by_column, reverse=True):
        nodes = by_column[col]
        wanted = {}
        for rank, node in enumerate(nodes):
            placed = [(y[id(u)], slot, len(u.children)) for u, slot in users[id(node)]
                      if id(u) in y]
            if placed:
                # first argument above the second, both near the gate that uses them
                wanted[id(node)] = sum(py + ((n - 1) / 2 - s) * _SLOT
                                       for py, s, n in placed) / len(placed)
            else:
                wanted[id(node)] = -rank * _ROW
        nodes.sort(key=lambda n: -wanted[id(n)])
        centre = sum(wanted.values()) / len(nodes)
        top = centre + (len(nodes) - 1) / 2 * _ROW
        for i, node in enumerate(nodes):
            y[id(node)] = top - i * _ROW
    return y


def draw_graph(root: Value, *, title: str | None = None, max_nodes: int = 300) -> InlineFigure:
    """Draw the graph that computed ``root``.

    Parameters
    ----------
    root : Value
        The output; every value it depends on is drawn.
    title : str, optional
        A title above the drawing.
    max_nodes : int
        Refuse graphs larger than this: a drawing is for the small graphs of
        worked examples.

    Returns
    -------
    InlineFigure
        A matplotlib Figure that a notebook shows inline: one axes, one text
        per value (``node_text``), one circle per gate.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph takes a Value (the output of a graph); got "
                        f"{type(root).__name__}.")
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"the graph has {len(order)} values, more than max_nodes={max_nodes}; "
                         "draw a smaller example or raise max_nodes.")
    column = _columns(order)
    row = _rows(order, column)

    xs = [column[id(n)] * _COLUMN for n in order]
    ys = [row[id(n)] for n in order]
    x_min, x_max = min(xs) - _BOX_W / 2 - 0.3, max(xs) + _BOX_W / 2 + 0.3
    y_min, y_max = min(ys) - _BOX_H / 2 - 0.3, max(ys) + _BOX_H / 2 + 0.3
    width, height = x_max - x_min, y_max - y_min
    fig = InlineFigure(figsize=(max(width * _INCH_PER_UNIT, 3.0),
                          max(height * _INCH_PER_UNIT, 1.6) + (0.4 if title else 0)))
    ax = fig.add_axes((0, 0, 1, 0.9 if title else 1))
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        fig.suptitle(title)

    def centre(node):
        return column[id(node)] * _COLUMN, row[id(node)]

    def arrow(start, end):
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.0,
                                    shrinkA=0, shrinkB=0))

    for node in order:
        x, y = centre(node)
        colour = _OUTPUT if node is root else (_INNER if node.children else _LEAF)
        ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor=colour, edgecolor="#333333", lw=1.0))
        ax.text(x, y, node_text(node), ha="center", va="center", fontsize=8,
                family="monospace", gid="value")
        if not node.children:
            continue
        gx, gy = x - _OP_X, y
        ax.add_patch(Circle((gx, gy), _OP_R, facecolor=_GATE, edgecolor="#333333",
                            lw=1.0, gid="gate"))
        op = _OP_NAMES.get(node.op, node.op)
        ax.text(gx, gy, op, ha="center", va="center", fontsize=8 if len(op) <= 3 else 6,
                gid="op")
        arrow((gx + _OP_R, gy), (x - _BOX_W / 2, y))
        for child in node.children:
            cx, cy = centre(child)
            arrow((cx + _BOX_W / 2, cy), (gx - _OP_R, gy))
    return fig


def to_svg(root: Value, **kwargs) -> str:
    """The drawing of ``draw_graph(root, **kwargs)`` as SVG text."""
    buffer = io.StringIO()
    draw_graph(root, **kwargs).savefig(buffer, format="svg")
    return buffer.getvalue()
