"""Shape arithmetic: output sizes, parameter counts, receptive fields, network tables."""

import numpy as np
import pytest

from cs231n_lib.shapes import (
    ALEXNET,
    ALEXNET_INPUT,
    FC,
    VGG16,
    VGG16_INPUT,
    Conv,
    Pool,
    affine_params,
    conv_output_size,
    conv_params,
    describe_network,
    receptive_field,
)


@pytest.mark.parametrize("n, f, s, p, expected", [
    (32, 3, 1, 1, 32),    # F=3, S=1, P=1 keeps the size
    (32, 2, 2, 0, 16),    # 2x2 pooling with stride 2 halves it
    (227, 11, 4, 0, 55),  # AlexNet conv1
    (7, 3, 1, 0, 5),
    (7, 3, 2, 0, 3),
    (5, 5, 1, 0, 1),      # the filter covers the whole input
    (1, 3, 1, 1, 1),
])
def test_conv_output_size_known_settings(n, f, s, p, expected):
    assert conv_output_size(n, f, s, p) == expected
    assert type(conv_output_size(n, f, s, p)) is int


def test_conv_output_size_accepts_numpy_and_whole_float_arguments():
    assert conv_output_size(np.int64(32), np.int32(3), 1, 1) == 32
    assert conv_output_size(32.0, 3, 1, 1) == 32


def test_not_whole_is_an_error_naming_the_numbers_and_fixes():
    with pytest.raises(ValueError) as info:
        conv_output_size(32, 3, stride=2, pad=0)
    msg = str(info.value)
    assert "(32 - 3 + 2*0) / 2 + 1" in msg
    assert "15.5" in msg and "not a whole number" in msg
    assert "stride 1 or 29" in msg          # strides that tile with pad 0
    assert "31 or 33" in msg                # input sizes that tile
    assert "no pad works with stride 2" in msg


def test_not_whole_suggests_pads_when_some_tile():
    with pytest.raises(ValueError, match=r"keep stride 3 and use pad 1"):
        conv_output_size(32, 4, stride=3, pad=0)
    # the suggestion is right: that pad really does tile
    assert conv_output_size(32, 4, stride=3, pad=1) == 11


def test_every_suggested_fix_tiles():
    with pytest.raises(ValueError) as info:
        conv_output_size(10, 3, stride=4, pad=1)
    assert "stride 1, 3 or 9" in str(info.value)
    for stride in (1, 3, 9):
        conv_output_size(10, 3, stride, 1)
    for size in (9, 13):
        conv_output_size(size, 3, 4, 1)


def test_filter_larger_than_padded_input_is_an_error():
    with pytest.raises(ValueError, match=r"not positive.*7x7 filter.*5x5 input"):
        conv_output_size(5, 7)
    assert conv_output_size(5, 7, pad=1) == 1


@pytest.mark.parametrize("args, exc", [
    ((32.5, 3), TypeError),
    ((32, 3, 1.5), TypeError),
    ((32, "3"), TypeError),
    ((32, 3, True), TypeError),
    ((0, 3), ValueError),
    ((32, 0), ValueError),
    ((32, 3, 0), ValueError),
    ((32, 3, 1, -1), ValueError),
])
def test_arguments_must_be_whole_and_in_range(args, exc):
    with pytest.raises(exc):
        conv_output_size(*args)


def test_parameter_counts():
    assert conv_params(5, 3, 10) == 10 * (5 * 5 * 3 + 1) == 760
    assert conv_params(11, 3, 96) == 34_944
    assert conv_params(3, 64, 64, bias=False) == 36_864
    assert affine_params(4096, 1000) == 4_097_000
    assert affine_params(10, 3, bias=False) == 30


def test_receptive_fields():
    assert receptive_field([(3, 1)] * 3) == 7  # three 3x3 convs see what one 7x7 sees
    assert receptive_field([(3, 1)] * 2) == 5
    assert receptive_field([Conv(8, 3), Pool(2), Conv(8, 3)]) == 8
    assert receptive_field([]) == 1
    with pytest.raises(ValueError, match="fully connected"):
        receptive_field([Conv(8, 3), FC(10)])


def test_alexnet_published_figures():
    table = describe_network(ALEXNET_INPUT, ALEXNET)
    conv1 = table["conv1"]
    assert conv1.output_shape == (96, 55, 55)
    assert conv1.params == 34_944              # (11*11*3 + 1) * 96, "35K"
    assert table["pool1"].output_shape == (96, 27, 27)
    assert table["conv2"].output_shape == (256, 27, 27)
    assert table["pool3"].output_shape == (256, 6, 6)
    assert table["fc8"].output_shape == (1000,)
    assert table.total_params == 62_378_344    # one-stream AlexNet, about 60M
    assert table["conv1"].receptive_field == 11


def test_vgg16_published_figures():
    table = describe_network(VGG16_INPUT, VGG16, dtype=np.float32)
    assert table.total_params == 138_357_544
    assert table["conv1_1"].output_shape == (64, 224, 224)
    assert table["conv1_1"].activations == 3_211_264   # the notes' "3.2M"
    assert table["pool1"].activations == 802_816        # "800K"
    assert table["pool5"].output_shape == (512, 7, 7)
    assert table["fc6"].params == 7 * 7 * 512 * 4096 + 4096
    assert table["input"].activations == 150_528       # "150K"
    assert table.total_activations == 15_237_608
    assert table.total_bytes == 4 * 15_237_608
    assert describe_network(VGG16_INPUT, VGG16).total_bytes == 8 * 15_237_608


def test_table_rows_and_text():
    layers = [Conv(8, 3, pad=1), Pool(2), {"type": "fc", "units": 10}]
    table = describe_network((3, 8, 8), layers)
    rows = table.to_rows()
    assert [r["name"] for r in rows] == ["input", "conv1", "pool1", "fc1"]
    assert rows[1]["output_shape"] == (8, 8, 8)
    assert rows[1]["params"] == 8 * (9 * 3 + 1)
    assert rows[2]["output_shape"] == (8, 4, 4)
    assert rows[3]["params"] == 128 * 10 + 10
    assert rows[1]["bytes"] == 8 * 512
    assert rows[3]["receptive_field"] is None
    text = str(table)
    assert len(text.splitlines()) == 2 + 4 + 2
    assert "conv1" in text and "8 x 8 x 8" in text and "total" in text
    assert f"{table.total_params:,}" in text


def test_table_reports_which_layer_does_not_tile():
    with pytest.raises(ValueError, match=r"layer 1 \(pool1\).*not a whole number"):
        describe_network((3, 32, 32), [Conv(8, 3), Pool(3, stride=2)])  # 30 -> 14.5


def test_table_rejects_bad_descriptions():
    with pytest.raises(ValueError, match="'type' must be one of"):
        describe_network((3, 8, 8), [{"type": "dropout"}])
    with pytest.raises(ValueError, match="follows a fully connected layer"):
        describe_network((3, 8, 8), [FC(10), Conv(4, 3)])
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        describe_network((8, 8), [FC(10)])


def test_alexnet_on_the_papers_224_input_does_not_tile():
    with pytest.raises(ValueError, match=r"layer 0 \(conv1\).*\(224 - 11 \+ 2\*0\).*54.25"):
        describe_network((3, 224, 224), ALEXNET)
