"""The diagnosis engine: relations, library copies, the catalogue, ``diagnose``."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import cs231n_lib
from autograder.course import AUTOGRADER_DIR, COURSE_ROOT, LIBRARY_DIR
from autograder.diagnosis import catalogue
from autograder.diagnosis.diagnose import (
    Diagnosis,
    describe_mismatch,
    diagnose,
    mutant_outputs_for,
    run_probe,
    summarize,
    wrong_outputs,
)
from autograder.diagnosis.mutant_lib import library_with, mutant_library
from autograder.grading import phases
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.reference import reference_for, reference_library
from cs231n_lib import affine, batchnorm, graph, relations

RNG = np.random.default_rng(5)


# ------------------------------------------------------------------ relations

def test_constant_ratio_reports_the_factor():
    r = RNG.standard_normal((4, 3))
    assert relations.constant_ratio(4.0 * r, r) == pytest.approx(4.0)
    assert relations.constant_ratio(r + 0.1, r) is None
    assert relations.constant_ratio(r, r) is None


def test_sign_transpose_unsummed_zeros():
    r = RNG.standard_normal((4, 3))
    assert relations.find_relation(-r, r).kind == "sign"
    assert relations.find_relation(r.T, r).kind == "transpose"
    rows = RNG.standard_normal((5, 3))
    found = relations.find_relation(rows, rows.sum(axis=0))
    assert found.kind == "unsummed" and found.evidence["axes"] == [0]
    assert relations.find_relation(np.zeros_like(r), r).kind == "zeros"
    assert relations.find_relation(RNG.standard_normal((4, 3)), r) is None


def test_border_only_on_images():
    r = RNG.standard_normal((2, 3, 5, 5))
    s = r.copy()
    s[:, :, 0, :] += 1.0
    assert relations.find_relation(s, r).kind == "border"
    flat = RNG.standard_normal((2, 6))
    s2 = flat.copy()
    s2[0] += 1.0
    assert relations.border_only(s2, flat) is None


def test_relations_module_imports_no_reference_code():
    tree = ast.parse((LIBRARY_DIR / "relations.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "itertools", "dataclasses", "numpy"}


# --------------------------------------------------------------- library copies

def _bad_affine_backward(dout, cache):
    x, w, b = cache
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)


def test_library_copy_swaps_one_function_and_leaves_the_reference():
    lib = library_with("affine", "affine_backward", _bad_affine_backward, "test:zero-affine")
    copy = __import__(f"{lib.__name__}.affine", fromlist=["affine_backward"])
    assert copy.affine_backward is _bad_affine_backward
    assert affine.affine_backward is not _bad_affine_backward
    assert lib.__name__ != cs231n_lib.__name__
    assert library_with("affine", "affine_backward", _bad_affine_backward,
                        "test:zero-affine") is lib


def test_swapped_function_is_used_by_its_callers_in_the_copy():
    calls = []

    def spy(x, gamma, beta, bn_param):
        calls.append(x.shape)
        return batchnorm.batchnorm_forward(x, gamma, beta, bn_param)

    lib = library_with("batchnorm", "batchnorm_forward", spy, "test:spy-bn")
    copy = __import__(f"{lib.__name__}.batchnorm", fromlist=["x"])
    x = RNG.standard_normal((2, 3, 2, 2))
    copy.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    assert calls == [(8, 3)]


def test_method_mutant_changes_only_the_copy_class():
    mutant = next(m for m in catalogue.mutants_for("backprop")
                  if m.function == "Value.__mul__" and m.cls == "missing-upstream")
    lib = mutant_library(mutant)
    Copy = __import__(f"{lib.__name__}.graph", fromlist=["Value"]).Value
    a, b = Copy(2.0), Copy(3.0)
    (a * b * 5.0).backward()
    assert a.grad == pytest.approx(3.0)  # the upstream 5 is dropped
    x, y = graph.Value(2.0), graph.Value(3.0)
    (x * y * 5.0).backward()
    assert x.grad == pytest.approx(15.0)


# ------------------------------------------------------------------ catalogue

def test_catalogue_is_consistent_with_the_probes():
    for assignment, mutants in catalogue.all_mutants().items():
        keys = [m.key for m in mutants]
        assert len(set(keys)) == len(keys), assignment
        cells = load_probe_set(probe_folder(COURSE_ROOT, assignment)).grade_ids
        for m in mutants:
            assert m.cls in catalogue.CLASSES
            assert m.grade_id in cells, m.key
            assert m.sentence.strip().endswith("."), m.key


def test_catalogue_covers_the_issue_classes():
    named = {m.cls for ms in catalogue.all_mutants().values() for m in ms}
    required = {"missing-upstream", "transposed", "bias-not-summed", "scale-1/N", "sign",
                "mask-boundary", "derivative-of-input", "stride-ignored", "pad-not-cropped",
                "pool-ties", "pool-wrong-cell", "fanout-overwrite", "shared-param-not-summed",
                "elu-negative", "bn-mean-path", "bn-eps", "bn-test-update", "bn-unbiased-var",
                "init-fan-out", "init-no-2", "numgrad-one-sided", "numgrad-not-restored",
                "mean-on-test"}
    assert required <= named


def test_the_sandbox_cannot_see_the_mutants():
    hidden = phases.hidden_paths(COURSE_ROOT, cs231n_lib)
    assert str(AUTOGRADER_DIR / "diagnosis") in hidden
    assert not any(Path(p).resolve() == AUTOGRADER_DIR / "diagnosis"
                   for p in phases.inside_paths())


# ------------------------------------------------------------------ diagnose

@pytest.fixture(scope="module")
def backprop_seed0():
    folder = probe_folder(COURSE_ROOT, "backprop")
    probe_set = load_probe_set(folder)
    reference = reference_for(folder, 0, "backprop", reference_library(None))
    return probe_set, reference, mutant_outputs_for(probe_set, 0, "backprop")


def _student(probe_set, reference, name, module, function, impl):
    probe = next(p for p in probe_set.probes if p.name == name)
    lib = library_with(module, function, impl, f"test:{function}:{impl.__name__}")
    return run_probe(probe, lib, reference.inputs[name])


def _dw_doubled_mean(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    n = x.shape[0]
    return (dout @ w.T).reshape(x.shape), rows.T @ (dout * n), dout.sum(axis=0)


def _dw_noise(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout + 0.3, dout.sum(axis=0)


def test_a_mutant_match_names_its_class(backprop_seed0):
    probe_set, reference, mutants = backprop_seed0

    def dw_swapped(dout, cache):
        x, w, b = cache
        return ((dout @ w.T).reshape(x.shape), np.einsum("nm,nd->md", dout, x.reshape(len(x), -1)),
                dout.sum(0))

    got = _student(probe_set, reference, "affine_backward", "affine", "affine_backward",
                   dw_swapped)
    found = diagnose("affine_backward", reference.inputs["affine_backward"],
                     reference.outputs["affine_backward"], got, mutants["affine_backward"])
    assert found.cls == "transposed" and found.source.startswith("mutant")
    assert "affine_backward" in found.sentence and "dw" in found.sentence


def test_a_relation_names_the_factor(backprop_seed0):
    probe_set, reference, mutants = backprop_seed0
    got = _student(probe_set, reference, "affine_backward", "affine", "affine_backward",
                   _dw_doubled_mean)
    found = diagnose("affine_backward", reference.inputs["affine_backward"],
                     reference.outputs["affine_backward"], got, mutants["affine_backward"])
    n = reference.inputs["affine_backward"]["x"].shape[0]
    assert found.cls == "scale-1/N" and found.source == "relation ratio"
    assert f"times N (N = {n})" in found.sentence
    assert found.evidence["ratio"] == pytest.approx(n)


def test_nothing_matches_gives_none_and_the_numbers(backprop_seed0):
    probe_set, reference, mutants = backprop_seed0
    got = _student(probe_set, reference, "affine_backward", "affine", "affine_backward",
                   _dw_noise)
    ref = reference.outputs["affine_backward"]
    assert diagnose("affine_backward", reference.inputs["affine_backward"], ref, got,
                    mutants["affine_backward"]) is None
    text = describe_mismatch(ref, got)
    assert text.startswith("no known mistake matches; output 'dw' differs most at index")


def test_right_outputs_get_no_diagnosis(backprop_seed0):
    probe_set, reference, mutants = backprop_seed0
    ref = reference.outputs["affine_backward"]
    assert wrong_outputs(ref, ref) == []
    assert diagnose("affine_backward", {}, ref, dict(ref), mutants["affine_backward"]) is None


def test_every_mutant_is_diagnosed_as_itself():
    """Each mutant, graded as a student's code, names its own class: on every probe
    where no mutant of another class is as good an explanation, and for its cell."""
    from autograder.diagnosis.measure import Case, run_case

    for assignment in catalogue.ASSIGNMENTS:
        folder = probe_folder(COURSE_ROOT, assignment)
        probe_set = load_probe_set(folder)
        reference = reference_for(folder, 0, assignment, reference_library(None))
        outputs = mutant_outputs_for(probe_set, 0, assignment)
        for mutant in catalogue.mutants_for(assignment):
            for probe in probe_set.probes:
                got = outputs[probe.name][mutant]
                assert not isinstance(got, BaseException), (mutant.key, probe.name, got)
                if wrong_outputs(reference.outputs[probe.name], got, probe.rtol):
                    found = diagnose(probe.name, reference.inputs[probe.name],
                                     reference.outputs[probe.name], got, outputs[probe.name])
                    assert found is None or found.cls == mutant.cls, (mutant.key, probe.name)
            case = Case(mutant.key, assignment, mutant.module, mutant.function,
                        mutant.replacement, mutant.cls, mutant.grade_id)
            outcome = run_case(case, 0)
            assert outcome.verdict == "named", (mutant.key, outcome.verdict, outcome.named)


def test_summarize_takes_the_majority_class():
    a, b = Diagnosis("sign", "a."), Diagnosis("transposed", "b.")
    assert summarize([None, b, a, a, a]).cls == "sign"
    assert summarize([b, a, a]) is a
    assert summarize([None, None]) is None
    # A class that explains only half of the failed probes is not the whole story:
    # no guess (an inverted mask is also wrong at exactly 0, but not only there).
    assert summarize([None, b, a, a]) is None
    assert summarize([None, a]) is None


# ------------------------------------------- output by output, entry by entry, dout

def test_a_mutant_wrong_in_two_outputs_explains_a_student_wrong_in_one():
    """A student whose dw alone has the mistake a mutant makes in dx and dw."""
    r = {"dx": RNG.standard_normal((3, 4)), "dw": RNG.standard_normal((4, 2))}
    mutant = {"dx": 2 * r["dx"], "dw": 3 * r["dw"]}
    other = {"dx": -r["dx"]}
    student = {"dx": r["dx"], "dw": mutant["dw"]}
    assert relations.matching_mistake(student, {"both": mutant, "other": other}) == (
        "both", pytest.approx(0.0))
    # explaining two outputs beats explaining one
    student2 = dict(mutant)
    only_dw = {"dw": mutant["dw"]}
    assert relations.matching_mistake(student2, {"dw": only_dw, "both": mutant})[0] == "both"
    assert relations.matching_mistake({"dx": r["dx"]}, {"both": mutant}) is None


def test_entry_by_entry_a_mistake_in_one_gate_of_many():
    """Gradients of many gates in one vector: the student has one gate's mistake."""
    r = np.array([1.0, -2.0, 3.0, 0.5])
    mutant = np.array([1.0, 2.0, -3.0, 0.5])   # two gates wrong
    student = np.array([1.0, 2.0, 3.0, 0.5])   # one of them
    assert relations.matching_mistake({"g": student}, {"m": {"g": mutant}}) is None
    assert relations.matching_mistake({"g": student}, {"m": {"g": mutant}},
                                      reference={"g": r})[0] == "m"
    wrong_elsewhere = np.array([9.0, 2.0, 3.0, 0.5])  # wrong where the mutant is right
    assert relations.matching_mistake({"g": wrong_elsewhere}, {"m": {"g": mutant}},
                                      reference={"g": r}) is None


def test_partial_sign_and_wrong_only_at_zero():
    r = np.array([1.0, -2.0, 3.0, 0.5])
    found = relations.find_relation(np.array([1.0, 2.0, 3.0, 0.5]), r)
    assert found.kind == "sign" and found.evidence["entries"] == 1
    cls, sentence = relations.explain("grads", found, (4,), {})
    assert cls == "sign" and sentence.startswith("1 of the 4 entries of your grads")
    x = np.array([0.7, 0.0, -1.2, 0.0])
    dx = np.array([2.0, 0.0, 0.0, 0.0])
    s = np.array([2.0, 3.0, 0.0, 0.0])    # passes the gradient at x == 0
    assert relations.find_relation(s, dx, x=x).kind == "at-zero"
    assert relations.explain("dx", relations.find_relation(s, dx, x=x), (4,), {})[0] \
        == "mask-boundary"
    assert relations.find_relation(np.array([2.0, 3.0, 1.0, 0.0]), dx, x=x) is None


def _pool_without_dout(dout, cache):
    x, pool_param = cache[0], cache[1]
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(*x.shape[:2], -1)
            k = win.argmax(axis=-1)
            for n in range(x.shape[0]):
                for c in range(x.shape[1]):
                    dx[n, c, i * s + k[n, c] // pw, j * s + k[n, c] % pw] += 1.0
    return dx


def test_a_backward_without_dout_is_named_with_no_mutant_of_its_own():
    """No mutant of the catalogue drops dout in max pooling: the reference run with
    dout all ones names it."""
    assert not any(m.function == "max_pool_backward_naive" and m.cls == "missing-upstream"
                   for m in catalogue.mutants_for("conv"))
    folder = probe_folder(COURSE_ROOT, "conv")
    probe_set = load_probe_set(folder)
    reference = reference_for(folder, 0, "conv", reference_library(None))
    mutants = mutant_outputs_for(probe_set, 0, "conv")
    name = next(p.name for p in probe_set.probes if p.grade_id == "test_max_pool_backward")
    got = _student(probe_set, reference, name, "conv", "max_pool_backward_naive",
                   _pool_without_dout)
    found = diagnose(name, reference.inputs[name], reference.outputs[name], got, mutants[name])
    assert found.cls == "missing-upstream" and found.source.endswith("dout-ones"), found
    assert "dout is all ones" in found.sentence


def test_a_transpose_reshaped_into_place_is_named_transposed():
    r = RNG.standard_normal((4, 3))
    found = relations.find_relation(r.T.reshape(4, 3), r)
    assert found.kind == "transpose" and found.evidence["reshaped"]
    cls, sentence = relations.explain("dw", found, (4, 3), {})
    assert cls == "transposed" and "reshaped to (4, 3)" in sentence
    square = RNG.standard_normal((3, 3))
    assert relations.find_relation(square.T.reshape(3, 3), square).evidence == {"axes": [1, 0]}


# ------------------------------------------- regrade: judged again, named again

def test_judging_stored_outputs_again_names_the_mistake_as_grading_did():
    """``regrade`` judges the evidence kept at grading with ``evidence.probe_verdicts``:
    the wrong outputs get the same words as at grading, not only the numbers."""
    import base64
    import io

    from autograder.grading import evidence
    from autograder.grading.explain import cell_explainer
    from autograder.inside.protocol import SEP

    folder = probe_folder(COURSE_ROOT, "backprop")
    probe_set = load_probe_set(folder)
    reference = reference_for(folder, 0, "backprop", reference_library(None))
    outputs = {}
    for probe in probe_set.probes:
        got = (_student(probe_set, reference, probe.name, "affine", "affine_backward",
                        _dw_doubled_mean) if probe.grade_id == "test_affine_backward"
               else reference.outputs[probe.name])
        outputs.update({f"{probe.name}{SEP}{k}": np.asarray(v) for k, v in got.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **outputs)
    kept = {"outputs_npz": base64.b64encode(buffer.getvalue()).decode(), "errors": {}}

    plain = evidence.probe_verdicts(reference, kept)
    named = evidence.probe_verdicts(reference, kept,
                                    cell_explainer(reference, 0, "backprop", None, []))
    failed = [v for v in named if not v.passed]
    assert failed and all(v.grade_id == "test_affine_backward" for v in failed)
    assert {v.diagnosis for v in failed} == {"scale-1/N"}
    assert all("times N" in v.note for v in failed)
    assert [v.passed for v in plain] == [v.passed for v in named]
    assert not any(v.diagnosis for v in plain)
