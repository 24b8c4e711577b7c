"""``python -m autograder similarity``: which students' gap code and answers overlap.

Every pair of students is compared on what they wrote (the library functions
holding the assignment's gaps and the notebook's answer cells), normalised so
that renaming, comments, docstrings and formatting do not matter, with what
the release gave everyone subtracted. The output ranks pairs and shows the
matching regions side by side; it decides nothing and accuses no one.

Modules, in the order a run uses them: ``extract`` (units of code per
student, read as hostile files and parsed with ``ast``, never run),
``compare`` (winnowed fingerprints, filtering, pair scores), ``run`` (the
Dask fan-out), ``report`` (CSV and HTML), ``cli``. Fixtures: ``variants``
(independent correct solutions of four backprop gaps) and ``synthetic``
(classes with planted copies) for the tests and the benchmark, and ``demo``
(the step ``python -m autograder demo`` runs).
"""
