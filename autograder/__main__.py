"""``python -m autograder``: see :mod:`autograder.cli`."""

import sys

# nbformat (through nbgrader and nbclient) imports jsonschema, which compiles
# lark grammars at import when rfc3987_syntax is installed: over a second of
# start-up for an IRI format check that notebook validation never uses.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.cli import main  # noqa: E402 - after the line above, on purpose

if __name__ == "__main__":
    sys.exit(main())
