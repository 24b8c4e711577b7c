"""Release, collect, grade (sandboxed, on Dask), verify and export a CS231n course.

Layout (the pipeline, in order): ``release/`` (gaps, release), ``grading/``
(collect -> prepare -> run -> verify -> record -> export), ``sandbox/`` (the
isolation every run of student code goes through), ``inside/`` (what runs in
the sandbox: only the standard library, numpy and the Jupyter client),
``student/`` (workspace, lab, self-check), ``demo/`` (synthetic classes);
``course.py`` holds the definitions they share and ``cli.py`` the one command
line. This file is also imported inside the sandbox: it must stay tiny.
"""

import sys

# nbformat (through nbgrader and nbclient) imports jsonschema, which compiles
# lark grammars at import when rfc3987_syntax is installed: over a second of
# start-up per process for an IRI format check that notebook validation never
# uses. Every entry point imports this package first, so this is the one place.
sys.modules.setdefault("rfc3987_syntax", None)

__version__ = "0.1.0"
