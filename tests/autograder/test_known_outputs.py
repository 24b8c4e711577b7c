"""The catalogue's mistakes as outputs on public inputs (autograder.diagnosis.known_outputs):
the committed files are a fresh build, hold data only, cover the checked pairs, ship with
the library, and let the notebook's checks name what the grader names."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest
from diagnosis_cases import ALL_CASES

from autograder.course import COURSE_ROOT, LIBRARY_DIR, PACKAGE
from autograder.diagnosis import known_outputs as ko
from autograder.diagnosis.catalogue import all_mutants
from autograder.diagnosis.measure import run_case
from autograder.diagnosis.mutant_lib import mutant_library
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.reference import draw_inputs
from autograder.release.build import release_rule, write_library
from autograder.release.gaps import read_gap_table
from autograder.student.workspace import update_workspace, write_stubbed_library
from cs231n_lib import known_mistakes

REBUILD = "python -m autograder.diagnosis.known_outputs"
STALE = (f"cs231n_lib/{ko.JSON_NAME} and {ko.NPZ_NAME} are not what the catalogue and the "
         f"public inputs give now; rebuild them with `{REBUILD}` and commit both.")
# Mistakes of a checked pair that change neither out nor a gradient in train mode:
# they are about test mode or the running averages (the notebook's other cells).
NOT_IN_OUTPUTS = {"batchnorm.batchnorm_forward:bn-test-update",
                  "batchnorm.batchnorm_forward:bn-test-batch-stats",
                  "batchnorm.batchnorm_forward:bn-momentum"}
CATALOGUE = {m.key: m for mutants in all_mutants().values() for m in mutants}
PAIRS = {name: c for c in ko.CHECKED for name in (c.forward, c.backward)}


@pytest.fixture(scope="module")
def fresh() -> ko.KnownOutputs:
    return ko.build()


def _stored_arrays() -> dict:
    with np.load(LIBRARY_DIR / ko.NPZ_NAME, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


# ------------------------------------------------------------------ the files
def test_the_committed_files_equal_a_fresh_build(fresh):
    assert (LIBRARY_DIR / ko.JSON_NAME).read_text(encoding="utf-8") == \
        ko.json_text(fresh.table), STALE
    stored = _stored_arrays()
    assert sorted(stored) == sorted(fresh.arrays), STALE
    for name, value in fresh.arrays.items():
        # Only the last bits may differ on another machine (its BLAS rounds differently).
        scale = float(np.max(np.abs(value), initial=1.0))
        assert stored[name].shape == value.shape, (name, STALE)
        assert np.allclose(stored[name], value, rtol=1e-12, atol=1e-12 * scale), (name, STALE)


def test_building_twice_gives_the_same_bytes(fresh):
    again = ko.build()
    assert ko.json_text(again.table) == ko.json_text(fresh.table)
    assert ko.npz_bytes(again.arrays) == ko.npz_bytes(fresh.arrays)


def test_the_data_files_hold_no_code_and_no_pickles():
    with zipfile.ZipFile(LIBRARY_DIR / ko.NPZ_NAME) as archive:
        for member in archive.namelist():
            assert member.endswith(".npy"), member
            array = np.lib.format.read_array(io.BytesIO(archive.read(member)),
                                             allow_pickle=False)
            assert array.dtype == np.float64, member
    strings = []

    def walk(node):
        if isinstance(node, dict):
            strings.extend(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            strings.append(node)
        else:
            assert isinstance(node, (int, float)), node

    walk(json.loads((LIBRARY_DIR / ko.JSON_NAME).read_text(encoding="utf-8")))
    code = re.compile(r"\bdef |\breturn\b|\bimport\b|\blambda\b|\bnp\.|SOLUTION|HIDDEN")
    assert [s for s in strings if code.search(s)] == []


def test_no_stored_input_is_an_input_of_the_hidden_probes():
    stored = known_mistakes.load_table()
    ours = {(a.shape, a.tobytes()) for entry in stored.values() for case in entry["cases"]
            for a in [*case["args"], case["dout"]] if isinstance(a, np.ndarray)}
    assert ours
    for assignment in ("backprop", "activations", "conv", "batchnorm"):
        probes = load_probe_set(probe_folder(COURSE_ROOT, assignment)).probes
        for seed in (0, 1):  # an array written into judge.py would appear under both
            for inputs in draw_inputs(probes, seed, assignment).values():
                for value in inputs.values():
                    array = np.asarray(value)
                    if array.dtype.kind == "f":
                        assert (array.shape, array.astype(np.float64).tobytes()) not in ours


# ------------------------------------------------------------------ coverage
def test_every_mistake_of_a_checked_pair_shows_on_the_public_inputs(fresh):
    own = {key for key, m in CATALOGUE.items()
           if m.function in PAIRS and PAIRS[m.function].module == m.module}
    stored = {m["key"] for entry in fresh.table["functions"].values()
              for m in entry["mistakes"]}
    assert own - stored == NOT_IN_OUTPUTS
    assert sorted(set(fresh.unseen)) == sorted(NOT_IN_OUTPUTS)
    assert fresh.raised == []


def test_every_pair_the_notebooks_check_is_covered():
    calls = set()
    for notebook in sorted((COURSE_ROOT / "source").glob("*/*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells)
        calls |= set(re.findall(r"check_gradients\(\s*(\w+_forward\w*),\s*(\w+_backward\w*)",
                                text))
    covered = {(c.forward, c.backward) for c in ko.CHECKED}
    assert ("conv_forward_naive", "conv_backward_naive") in calls
    assert calls - covered == set()


def test_a_mistake_that_differs_only_slightly_is_refused():
    right = {"dx": np.linspace(1.0, 2.0, 6)}
    with pytest.raises(ValueError, match="change the public inputs"):
        ko.wrong_outputs(right, {"dx": right["dx"] * (1 + 1e-5)}, "a mutant")
    assert ko.wrong_outputs(right, {"dx": right["dx"] * (1 + 1e-9)}, "a mutant") == {}
    assert list(ko.wrong_outputs(right, {"dx": -right["dx"]}, "a mutant")) == ["dx"]


def test_a_forward_mistake_keeps_out_and_a_backward_mistake_its_gradients(fresh):
    entry = fresh.table["functions"]["conv_backward_naive"]
    outputs = {m["key"]: {o["output"] for o in m["outputs"]} for m in entry["mistakes"]}
    assert outputs["conv.conv_forward_naive:filter-flipped"] == {"out"}
    assert outputs["conv.conv_backward_naive:stride-ignored"] == {"dx", "dw"}
    assert outputs["conv.conv_backward_naive:bias-not-summed"] == {"db"}


# ------------------------------------------------------------------ shipping
def test_the_data_ships_in_a_release_library_and_in_a_workspace(tmp_path):
    table = read_gap_table(COURSE_ROOT / "gaps.toml")
    released = tmp_path / "release" / "backprop" / PACKAGE
    write_library(LIBRARY_DIR, released, table, release_rule(0))
    (tmp_path / "release" / "backprop" / "backprop.ipynb").write_text("{}")
    stubbed = write_stubbed_library(tmp_path / "stubbed" / PACKAGE)
    update_workspace(tmp_path / "release", tmp_path / "ws", library=stubbed)
    for folder in (released, stubbed, tmp_path / "ws" / PACKAGE):
        for name in (ko.JSON_NAME, ko.NPZ_NAME):
            assert (folder / name).read_bytes() == (LIBRARY_DIR / name).read_bytes(), folder
        assert known_mistakes.load_table(str(folder)).keys() == \
            known_mistakes.load_table().keys()


# ------------------------------------------------- the notebook names the mistake
PLANTED = ("activations.sigmoid_backward:derivative-of-input",
           "affine.affine_backward:bias-not-summed",
           "conv.conv_backward_naive:stride-ignored",
           "conv.max_pool_backward_naive:stride-ignored",
           "batchnorm.batchnorm_backward:bn-mean-path",
           "conv.conv_forward_naive:filter-flipped")


@pytest.mark.parametrize("key", PLANTED)
def test_a_planted_catalogue_mistake_gets_its_sentence_in_the_report(key):
    mutant = CATALOGUE[key]
    reports = ko.check_as_student(mutant_library(mutant), PAIRS[mutant.function])
    failed = [row for report in reports for row in report.rows if not row.passed]
    assert failed, f"{key} passes the check on these inputs: choose others"
    assert {row.mistake for row in failed} == {mutant.sentence}
    assert all(mutant.sentence in r.failure_message() for r in reports if not r.passed)


def test_the_checks_inputs_are_not_the_stored_ones():
    stored = known_mistakes.load_table()["affine_backward"]["cases"][0]["args"][0]
    checked = PAIRS["affine_backward"]
    drawn = ko.distinct_values(checked.make_args(np.random.default_rng(7))[0][0], 0,
                               np.random.default_rng(2024))
    assert drawn.shape == stored.shape and not np.allclose(drawn, stored)
    assert len(np.unique(drawn)) == drawn.size and np.min(np.abs(drawn)) > 0.01


@pytest.mark.parametrize("case", ko.checked_cases(ALL_CASES), ids=lambda c: c.name)
def test_an_implementation_written_apart_is_named_as_the_grader_would(case):
    """The measurement's cases (tests/autograder/diagnosis_cases): the notebook's check
    never names a wrong class and never accuses a correct implementation; a buggy one
    the grader names is named by the check too, unless the check cannot see it."""
    outcome = ko.notebook_outcome(case)
    if case.expected is None:
        assert outcome.verdict == "clean", outcome
        return
    assert outcome.verdict != "misnamed", outcome
    if run_case(case, 0).verdict == "named":
        assert outcome.verdict in ("named", "undetected"), outcome
