"""nbgrader configuration of the cs231n course (this folder is the course root).

Run nbgrader from this folder (``cd assignments && nbgrader ...``) or through
``python -m autograder release``. The release step, not nbgrader, puts the
student's copy of ``cs231n_lib`` into each ``release/<assignment>/``: nbgrader
would copy ``.py`` files verbatim, solutions included.
"""

import os

import tomllib

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
LIBRARY_DIR = os.path.join(os.path.dirname(COURSE_ROOT), "cs231n_lib")

c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.course_id = "cs231n"

# The assignments in release order: the order of gaps.toml.
with open(os.path.join(COURSE_ROOT, "gaps.toml"), "rb") as _fh:
    ASSIGNMENTS = [entry["name"] for entry in tomllib.load(_fh).get("assignment", [])]


def _library_files():
    """``cs231n_lib/<module>.py`` for every module, as paths relative to an assignment."""
    names = set()
    if os.path.isdir(LIBRARY_DIR):
        names.update(f for f in os.listdir(LIBRARY_DIR) if f.endswith(".py"))
    return sorted(os.path.join("cs231n_lib", name) for name in names)


# Autograde copies every non-notebook file of source/<assignment>/ over the
# student's submission (nbgrader issue #940). The library never lives in
# source/, so nothing is copied today; this keeps the student's cs231n_lib the
# one that is graded even if someone adds a copy there.
c.Autograde.exclude_overwriting = {name: _library_files() for name in ASSIGNMENTS}

# Generated files that must never travel with an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".pytest_cache", "*.egg-info"]

# Solutions in notebooks: the stub a student sees in place of a solution region.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.enforce_metadata = True

# Execution during autograde and validate. A reference notebook runs in under
# 30 s; a cell still running after two minutes, even on a busy machine, is a
# runaway loop. Widgets only display (nothing waits for a front end), so
# headless runs never block on them.
c.Execute.timeout = 120
c.Execute.startup_timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0
c.ExecutePreprocessor.timeout = 120

# A flood of printed output must not bloat the autograded notebooks.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# Hidden tests in the feedback (read by `python -m autograder export`). Before an
# assignment's due date, a failed hidden test shows the property it checks and
# the likely mistake, never its inputs or code. After the due date, with this
# switch on, the feedback shows each test cell with its hidden tests. The due
# date is nbgrader's, in the gradebook (`nbgrader db assignment add backprop
# --duedate "2027-01-15 17:00 UTC"` from this folder, or formgrader's Manage
# Assignments); an assignment without one never shows them. A course that reuses
# its hidden tests from one term to the next sets this to False.
c.Autograder.show_hidden_tests_after_due = True
