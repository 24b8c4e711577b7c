"""Exporting a student's answers from inside their kernel, as JSON text.

This module runs *inside the student's kernel* (the runner asks the kernel to
evaluate ``export(globals(), request)`` as a user expression, so IPython's
input transformers and ``pre_run_cell`` hooks never see it), and everything
it returns is student-controlled: the trusted process validates and judges
it. It is written with builtins only (no json, no numpy conversions of its
own): a notebook that patched those modules can break the export (and so
lose the points) but cannot change what a correct or wrong answer looks like.
Nothing in it is secret; it holds no expected value.
"""

MAX_ANSWER_NUMBERS = 100_000   # numbers and list items in one exported value
MAX_ANSWER_STRING = 10_000     # characters of one string
MAX_ANSWER_DEPTH = 16          # nesting of lists and dicts
MAX_ANSWER_TEXT = 4 << 20      # characters of one export's JSON text, as it comes back


def _check_budget(budget, count):
    budget[0] -= count
    if budget[0] < 0:
        raise ValueError(f"more than {MAX_ANSWER_NUMBERS} numbers or items")


def _plain(value, budget, depth):
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is int or kind is float:
        _check_budget(budget, 1)
        return value
    if kind is str:
        if len(value) > MAX_ANSWER_STRING:
            raise ValueError(f"a string of more than {MAX_ANSWER_STRING} characters")
        return value
    if depth >= MAX_ANSWER_DEPTH:
        raise ValueError(f"lists or dicts nested more than {MAX_ANSWER_DEPTH} deep")
    if kind is list or kind is tuple:
        _check_budget(budget, len(value))
        return [_plain(item, budget, depth + 1) for item in value]
    if kind is dict:
        _check_budget(budget, len(value))
        out = {}
        for key in value:
            if type(key) is not str:
                raise TypeError(f"a dict key is a {type(key).__name__}, not a string")
            out[key] = _plain(value[key], budget, depth + 1)
        return out
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy arrays and scalars
        size = getattr(value, "size", 1)
        if type(size) is not int:
            raise TypeError("an array without a plain size")
        _check_budget(budget, size)
        budget[0] += size  # counted again item by item below
        return _plain(value.tolist(), budget, depth + 1)
    raise TypeError(f"a {kind.__name__} is not a number, string, list or dict")


def _quote(text):
    parts = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\" or code < 0x20 or code > 0x7E:
            if code > 0xFFFF:
                code -= 0x10000
                parts.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                parts.append(f"\\u{code:04x}")
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)


def _json(value, parts):
    kind = type(value)
    if value is None:
        parts.append("null")
    elif kind is bool:
        parts.append("true" if value else "false")
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float:
        if value != value:
            parts.append("NaN")
        elif value > 1.7976931348623157e308:
            parts.append("Infinity")
        elif value < -1.7976931348623157e308:
            parts.append("-Infinity")
        else:
            parts.append(float.__repr__(value))
    elif kind is str:
        parts.append(_quote(value))
    elif kind is list:
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _json(item, parts)
        parts.append("]")
    else:
        parts.append("{")
        for i, key in enumerate(value):
            if i:
                parts.append(",")
            parts.append(_quote(key))
            parts.append(":")
            _json(value[key], parts)
        parts.append("}")


def _why(exc):
    try:
        return (f"{type(exc).__name__}: {exc}")[:300]
    except Exception:
        return type(exc).__name__


def _one(answers, key, compute):
    try:
        value = _plain(compute(), [MAX_ANSWER_NUMBERS], 0)
        parts = []
        _json(value, parts)  # may fail too (an int of thousands of digits)
        answers[key] = value
    except Exception as exc:
        answers[key] = _Missing(_why(exc))


class _Missing:
    def __init__(self, why):
        self.why = why


def export(user, request):
    """The answers ``request`` names, read from the namespace ``user``, as JSON text."""
    answers = {}
    for name in request["variables"]:
        if name not in user:
            answers[name] = _Missing(f"{name} is not defined")
            continue
        _one(answers, name, lambda name=name: user[name])
    function = request["function"]
    if function:
        f = user.get(function)
        numpy = __import__("numpy")
        for key, argument in request["inputs"]:
            if not callable(f):
                answers[key] = _Missing(f"no function {function} is defined")
                continue
            _one(answers, key, lambda argument=argument: f(numpy.array(argument, dtype=float)))
    parts = ["{"]
    for i, key in enumerate(answers):
        if i:
            parts.append(",")
        parts.append(_quote(key))
        value = answers[key]
        if type(value) is _Missing:
            parts.append(':{"missing":')
            parts.append(_quote(value.why))
        else:
            parts.append(':{"value":')
            _json(value, parts)
        parts.append("}")
    parts.append("}")
    return "".join(parts)
