"""What the runner and the grader agree on about the files that cross the wall.

Both sides import this module; it holds names, never behaviour.
"""

# Between a probe's name and an output's key in inputs.npz and outputs.npz.
SEP = "::"
