"""Independent correct solutions of four backprop gaps, for synthetic classes.

Each function has five structurally different solutions (index loops,
iterators, flat counters, closures, einsum, per-sample loops), and each
solution has a few free choices (the formula of the centred difference, the
order of the outputs) and names drawn per student. Two honest students
share an idiom now and then, but rarely a whole function: that is what
honest pairs look like. Every body is written at column 0 and indented to
the gap when it is dealt; each is checked against the reference in the tests.
"""

from __future__ import annotations

import random

# Local names a student might pick, per role.
NAMES = {
    "i": ["ix", "idx", "index", "pos", "where", "loc"],
    "keep": ["old", "orig", "saved", "x0", "value", "backup"],
    "fp": ["f_plus", "fp", "plus", "up", "fxph", "hi"],
    "fm": ["f_minus", "fm", "minus", "down", "fxmh", "lo"],
    "it": ["it", "iterator", "walker", "cursor"],
    "n": ["n", "k", "flat", "counter", "j"],
    "step": ["step", "delta", "eps", "shift"],
    "vals": ["vals", "results", "outs", "pair"],
    "rows": ["x_rows", "x2d", "flat_x", "xr", "x_mat", "rows"],
    "fn": ["shifted", "probe", "at", "bump", "nudge"],
    "total": ["total", "count", "size", "limit"],
    "g": ["g", "slope", "deriv", "num"],
}

DIFF = ["({fp} - {fm}) / (2 * h)", "({fp} - {fm}) / h / 2", "0.5 * ({fp} - {fm}) / h"]
ADIFF = ["np.sum(({fp} - {fm}) * df) / (2 * h)", "(({fp} - {fm}) * df).sum() / (2 * h)",
         "np.vdot({fp} - {fm}, df) / (2 * h)"]

_ENG_TRY = """    try:
        x[{i}] = {keep} + h
        {fp} = {call}
        x[{i}] = {keep} - h
        {fm} = {call}
    finally:
        x[{i}] = {keep}
"""

ENG = [
    """for {i} in np.ndindex(x.shape):
    {keep} = x[{i}]
""" + _ENG_TRY + """    grad[{i}] = {diff}
    if verbose:
        print({i}, grad[{i}])
""",
    """def {fn}({i}, {step}):
    {keep} = x[{i}]
    x[{i}] = {keep} + {step}
    try:
        return f(x)
    finally:
        x[{i}] = {keep}

{it} = np.nditer(x, flags=["multi_index"])
while not {it}.finished:
    {i} = {it}.multi_index
    {fp} = {fn}({i}, h)
    {fm} = {fn}({i}, -h)
    grad[{i}] = {diff}
    if verbose:
        print({i}, grad[{i}])
    {it}.iternext()
""",
    """for {n} in range(x.size):
    {i} = tuple(int(v) for v in np.unravel_index({n}, x.shape))
    {keep} = x[{i}]
    {vals} = []
    try:
        for {step} in (h, -h):
            x[{i}] = {keep} + {step}
            {vals}.append(f(x))
    finally:
        x[{i}] = {keep}
    {fp}, {fm} = {vals}
    grad[{i}] = {diff}
    if verbose:
        print({i}, grad[{i}])
""",
    """import itertools

for {i} in itertools.product(*[range(d) for d in x.shape]):
    {keep} = x[{i}]
    x[{i}] = {keep} + h
    try:
        {fp} = f(x)
        x[{i}] = {keep} - h
        {fm} = f(x)
    finally:
        x[{i}] = {keep}
    {g} = {diff}
    grad[{i}] = {g}
    if verbose:
        print({i}, {g})
""",
    """{n} = 0
{total} = x.size
while {n} < {total}:
    {i} = tuple(map(int, np.unravel_index({n}, x.shape)))
    {keep} = x[{i}]
    try:
        x[{i}] = {keep} - h
        {fm} = f(x)
        x[{i}] = {keep} + h
        {fp} = f(x)
    finally:
        x[{i}] = {keep}
    grad[{i}] = {diff}
    if verbose:
        print({i}, grad[{i}])
    {n} += 1
""",
]

ENGA = [
    """for {i} in np.ndindex(x.shape):
    {keep} = x[{i}]
""" + _ENG_TRY + """    grad[{i}] = {diff}
""",
    """def {fn}({i}, {step}):
    {keep} = x[{i}]
    x[{i}] = {keep} + {step}
    try:
        return np.array(f(x), dtype=np.float64)
    finally:
        x[{i}] = {keep}

{it} = np.nditer(x, flags=["multi_index"])
while not {it}.finished:
    {i} = {it}.multi_index
    {fp} = {fn}({i}, h)
    {fm} = {fn}({i}, -h)
    grad[{i}] = {diff}
    {it}.iternext()
""",
    """for {n} in range(x.size):
    {i} = tuple(int(v) for v in np.unravel_index({n}, x.shape))
    {keep} = x[{i}]
    {vals} = []
    try:
        for {step} in (h, -h):
            x[{i}] = {keep} + {step}
            {vals}.append(np.copy(f(x)))
    finally:
        x[{i}] = {keep}
    {fp}, {fm} = {vals}
    grad[{i}] = {diff}
""",
    """import itertools

for {i} in itertools.product(*[range(d) for d in x.shape]):
    {keep} = x[{i}]
    x[{i}] = {keep} + h
    try:
        {fp} = np.asarray(f(x), dtype=float).copy()
        x[{i}] = {keep} - h
        {fm} = np.asarray(f(x), dtype=float).copy()
    finally:
        x[{i}] = {keep}
    grad[{i}] = {diff}
""",
    """{n} = 0
while {n} < x.size:
    {i} = tuple(map(int, np.unravel_index({n}, x.shape)))
    {keep} = x[{i}]
    try:
        x[{i}] = {keep} - h
        {fm} = np.array(f(x), dtype=np.float64)
        x[{i}] = {keep} + h
        {fp} = np.array(f(x), dtype=np.float64)
    finally:
        x[{i}] = {keep}
    grad[{i}] = {diff}
    {n} += 1
""",
]

FORWARD = [
    "out = x.reshape(x.shape[0], -1) @ w + b\n",
    "{n} = x.shape[0]\n{rows} = x.reshape({n}, -1)\nout = {rows}.dot(w) + b\n",
    "import numpy as np\n\n{rows} = np.reshape(x, (len(x), -1))\nout = np.dot({rows}, w)\n"
    "out = out + b\n",
    "{rows} = x.reshape(-1, w.shape[0])\nout = {rows} @ w\nout += b[None, :]\n",
    "import numpy as np\n\nout = np.einsum('nd,dm->nm', x.reshape(x.shape[0], w.shape[0]), w)"
    "\nout = out + b.reshape(1, -1)\n",
]

BACKWARD = [
    "{rows} = x.reshape(x.shape[0], -1)\ndx = (dout @ w.T).reshape(x.shape)\n"
    "dw = {rows}.T @ dout\ndb = dout.sum(axis=0)\n",
    "{n} = x.shape[0]\n{rows} = x.reshape({n}, -1)\ndw = {rows}.T.dot(dout)\n"
    "db = dout.sum(0)\ndx = dout.dot(w.T).reshape(x.shape)\n",
    "import numpy as np\n\ndx = np.reshape(np.dot(dout, w.T), x.shape)\n"
    "dw = np.dot(np.reshape(x, (x.shape[0], -1)).T, dout)\ndb = np.sum(dout, axis=0)\n",
    "import numpy as np\n\n{rows} = x.reshape(len(x), -1)\n"
    "dw = np.einsum('nd,nm->dm', {rows}, dout)\n"
    "dx = np.einsum('nm,dm->nd', dout, w).reshape(*x.shape)\ndb = np.einsum('nm->m', dout)\n",
    "import numpy as np\n\n{rows} = x.reshape(x.shape[0], -1)\ndw = np.zeros_like(w)\n"
    "db = np.zeros_like(b)\ndx = np.zeros_like({rows})\nfor {n} in range(x.shape[0]):\n"
    "    dw += np.outer({rows}[{n}], dout[{n}])\n    db += dout[{n}]\n"
    "    dx[{n}] = w @ dout[{n}]\ndx = dx.reshape(x.shape)\n",
]

# Equivalent spellings a student picks per occurrence (all exact in floating point).
SPELLINGS = [
    ("x.shape[0]", ["x.shape[0]", "len(x)", "x.shape[:1][0]"]),
    ("(2 * h)", ["(2 * h)", "(h + h)", "(2.0 * h)", "(h * 2)"]),
    ("np.ndindex(x.shape)", ["np.ndindex(x.shape)", "np.ndindex(*x.shape)"]),
    (".sum(axis=0)", [".sum(axis=0)", ".sum(0)", ".sum(axis=0, keepdims=False)"]),
    ("if verbose:", ["if verbose:", "if verbose is True or verbose:", "if bool(verbose):"]),
    ("np.float64", ["np.float64", "float", "np.double"]),
]

# (module, function) -> (templates, formula choices or None)
FUNCTIONS = {
    ("gradient_check", "eval_numerical_gradient"): (ENG, DIFF),
    ("gradient_check", "eval_numerical_gradient_array"): (ENGA, ADIFF),
    ("affine", "affine_forward"): (FORWARD, None),
    ("affine", "affine_backward"): (BACKWARD, None),
}


def solution(module: str, function: str, variant: int, rng: random.Random) -> str:
    """One solution body of ``function`` at column 0: template ``variant`` with
    its formula and names drawn from ``rng``."""
    templates, formulas = FUNCTIONS[(module, function)]
    names = {role: rng.choice(pool) for role, pool in NAMES.items()}
    if names["fp"] == names["fm"]:  # unreachable with the pools above; cheap to keep
        names["fm"] += "_m"
    call = "f(x)" if function == "eval_numerical_gradient" else \
        "np.array(f(x), dtype=np.float64)"  # a copy: f may reuse its output buffer
    fields = dict(names, call=call)
    if formulas is not None:
        fields["diff"] = rng.choice(formulas).format(**names)
    text = templates[variant % len(templates)].format(**fields)
    for old, choices in SPELLINGS:
        pieces = text.split(old)
        text = pieces[0] + "".join(rng.choice(choices) + piece for piece in pieces[1:])
    return text
