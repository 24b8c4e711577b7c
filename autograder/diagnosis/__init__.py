"""Name the likely mistake behind a wrong probe output (trusted side only).

For every gap with a numeric output the catalogue holds typical wrong
implementations as code, *mutants* of the reference (``mutants/<assignment>.py``,
records :class:`~autograder.diagnosis.catalogue.Mutant`). When a student's
probe output is wrong, it is compared on the same inputs with each mutant's
output and with simple relations to the right answer; the best match is
named in one sentence that says what is wrong and where to look.

Modules
-------
catalogue
    ``Mutant(cls, module, function, replacement, sentence, grade_id)``,
    ``CLASSES`` (class id -> title), ``mutants_for(assignment)``.
mutant_lib
    ``mutant_library(mutant, base)``: a cached copy of the reference library
    with one function swapped (also ``library_with`` for any replacement).
``cs231n_lib.relations`` (in the library, shipped to students)
    Pure numpy tests between a student's array and the right one (ratio,
    sign, transpose, sum left out, zeros, wrong only at x == 0, border), and
    ``matching_mistakes``: which known wrong outputs a student's reproduce.
diagnose
    ``diagnose_cell(failed probes, ...) -> [Diagnosis | None]`` (one class for
    a test cell), ``diagnose(...)`` (one probe alone), ``ruled_out_by``,
    ``mutant_outputs_for(...)``, ``describe_mismatch(...)`` (the numbers, when
    nothing matches) and ``cell_class`` / ``summarize`` (a cell's class).
adequacy
    ``survivors(assignment, seeds)``: mutants that some seed's probes miss.
measure
    ``Case``, ``run_case``, ``rates``: the measurement behind
    ``docs/diagnosis.md`` (``python tools/diagnosis_rates.py``).

Trust
-----
Mutants contain the solution. They live here, which the sandbox hides
(``phases.hidden_paths``) and no release copies, and they run only in the
trusted process, on the probe inputs the trusted side drew. From the
sandbox only the student's outputs are used, as plain arrays: no student code
runs here, and no hidden input or expected value goes back in.

How grading calls it
--------------------
``grade._explainer`` gives ``judge_probes`` a function it calls once per test
cell, once every probe is judged, with the cell's failed probes and the names
of the ones the student passed::

    mutants_on = lambda name: mutant_outputs_for_probe(probe_set, seed, assignment, name, lib)
    ruled_out = ruled_out_by(passed, reference.outputs, mutants_on)
    found = diagnose_cell([FailedProbe(name, inputs, ref, mine), ...], mutants_on,
                          ruled_out=ruled_out)

A mutant that gets wrong a probe the student got right is ruled out. One class
is named for the cell, the one among the best explanations of more than half
of its failed probes (and of more than any other class); the probes it
explains get its sentence, the others the numbers (``describe_mismatch``). A
partial match, or a tie between two classes, is not a diagnosis.

Each ``found[i].cls`` is the class id for the instructor's class view (how many
students made which mistake, per question); ``found.evidence`` holds the
numbers behind it. A probe that raised or returned no output gets no
diagnosis: its error message is the feedback. (The package re-exports
nothing: ``diagnose`` is both a module and its main function.)
"""
