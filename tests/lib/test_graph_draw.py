"""Drawing a Value graph: one labelled box per value, one circle per gate, SVG and PNG out."""

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from cs231n_lib.graph import Value, topological_order
from cs231n_lib.graph_draw import draw_graph, node_text, to_svg

matplotlib.use("Agg")  # the library never imports pyplot; this keeps any test headless


def _neuron():
    w = [Value(2.0, label="w0"), Value(-3.0, label="w1"), Value(-3.0, label="w2")]
    x = [Value(-1.0, label="x0"), Value(-2.0, label="x1")]
    f = (w[0] * x[0] + w[1] * x[1] + w[2]).sigmoid()
    f.label = "f"
    f.backward()
    return f


def _value_texts(fig):
    return [t for t in fig.axes[0].texts if t.get_gid() == "value"]


def test_one_label_per_value_with_data_and_grad():
    f = _neuron()
    fig = draw_graph(f)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    nodes = topological_order(f)
    texts = [t.get_text() for t in _value_texts(fig)]
    assert len(texts) == len(nodes) == 10
    assert sorted(texts) == sorted(node_text(n) for n in nodes)
    for text in texts:
        assert "data " in text and "grad " in text
    assert "w0\ndata 2\ngrad -0.1966" in texts
    assert "f\ndata 0.7311\ngrad 1" in texts


def test_gates_are_circles_named_by_their_op():
    f = _neuron()
    fig = draw_graph(f)
    ax = fig.axes[0]
    gates = [p for p in ax.patches if isinstance(p, Circle)]
    inner = [n for n in topological_order(f) if n.children]
    assert len(gates) == len(inner) == 5
    ops = sorted(t.get_text() for t in ax.texts if t.get_gid() == "op")
    assert ops == sorted(["×", "×", "+", "+", "σ"])


def test_inputs_on_the_left_output_on_the_right():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    f = q * z
    f.label = "f"
    f.backward()
    positions = {t.get_text().split("\n")[0]: t.get_position() for t in _value_texts(draw_graph(f))}
    assert positions["x"][0] < positions["f"][0]
    assert positions["x"][0] == positions["y"][0]
    assert positions["z"][0] > positions["x"][0]   # z sits next to the gate that uses it
    assert positions["f"][0] == max(p[0] for p in positions.values())


def test_svg_and_png():
    f = _neuron()
    svg = to_svg(f)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('id="value') == 10   # one labelled group per value
    assert svg.count('id="gate') == 5
    png = draw_graph(f)._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_a_single_leaf_and_a_gate_used_twice():
    leaf = Value(3.0, label="a")
    assert len(_value_texts(draw_graph(leaf))) == 1
    sq = leaf * leaf
    sq.backward()
    fig = draw_graph(sq, title="a * a")
    assert fig._suptitle.get_text() == "a * a"
    assert "a\ndata 3\ngrad 6" in [t.get_text() for t in _value_texts(fig)]


def test_bad_input():
    with pytest.raises(TypeError, match="takes a Value"):
        draw_graph(3.0)
    x = Value(1.0)
    y = x
    for _ in range(20):
        y = y + 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, max_nodes=10)
