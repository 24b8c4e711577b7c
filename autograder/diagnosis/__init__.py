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
relations
    Pure numpy tests between a student's array and the right one (ratio,
    sign, transpose, sum left out, zeros, border). No reference code: this
    one module may be shipped to students.
diagnose
    ``diagnose(...) -> Diagnosis | None``, ``mutant_outputs_for(...)``,
    ``describe_mismatch(...)`` (the numbers, when nothing matches) and
    ``summarize(diagnoses)`` (one diagnosis per test cell).
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
Once per probe folder and seed (cached like ``reference_for``), then for each
failed library probe, with the arrays ``judge_probes`` already has::

    from autograder.diagnosis.diagnose import describe_mismatch, diagnose, mutant_outputs_for

    mutants = mutant_outputs_for(reference.probe_set, seed, assignment, lib)
    ...
    passed, note = compare_outputs(ref, mine, probe.rtol)
    if not passed:
        found = diagnose(probe.name, reference.inputs[probe.name], ref, mine,
                         mutants[probe.name])
        note = found.sentence if found else describe_mismatch(ref, mine)

``found.cls`` is the class id for the instructor's class view (how many
students made which mistake, per question); ``found.evidence`` holds the
numbers behind it. A probe that raised or returned no output gets no
diagnosis: its error message is the feedback. (The package re-exports
nothing: ``diagnose`` is both a module and its main function.)
"""
