"""What a service accepts from a caller, before its own schema looks: a JSON body of bounded size
and depth, whose strings hold text, not control characters or lone surrogates, and whose
numbers are finite. Also the query string's and the path's values.

A hostile or careless caller otherwise reaches places that fail late: a NUL byte that
PostgreSQL refuses at commit, a lone surrogate that cannot be encoded to UTF-8, nesting deep
enough to exhaust the parser, ``NaN`` where a number is expected. Each is refused here with a
400 naming the field.
"""
import json
import math
import re

from marshmallow import ValidationError

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
MAX_URL_LENGTH = 4096
# C0 controls but tab, line feed and carriage return; DEL; UTF-16 surrogates (never text alone)
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse_json_body(raw):
    """The JSON document in ``raw`` (text), checked; raises ``ValidationError``."""
    try:
        document = json.loads(raw, parse_constant=_refuse_constant) if raw.strip() else {}
    except RecursionError:
        raise ValidationError({"_body": ["the body is nested too deeply: at most {} levels"
                                         .format(MAX_DEPTH)]}) from None
    except ValueError as exc:
        raise ValidationError({"_body": ["the body is not valid JSON: {}".format(exc)]}) from None
    problems = document_problems(document)
    if problems:
        raise ValidationError(problems)
    return document


def _refuse_constant(name):
    raise ValueError("{} is not a number JSON allows".format(name))


def text_problem(value):
    """What is wrong with a string as text, or None."""
    found = NOT_TEXT.search(value)
    if found is None:
        return None
    character = found.group()
    if "\ud800" <= character <= "\udfff":
        return "contains a lone UTF-16 surrogate (\\u{:04x}): send valid Unicode text".format(
            ord(character))
    return "contains the control character U+{:04X}: remove it".format(ord(character))


def document_problems(document):
    """Field errors, keyed as marshmallow keys them (``{"firms": {3: {"siren": [...]}}}``), for
    every string that is not text, every non-finite number, and nesting past ``MAX_DEPTH``."""
    problems = {}
    # iterative: a document may be as deep as the parser allows, deeper than Python's recursion
    pending = [((), document)]
    while pending:
        path, value = pending.pop()
        message = None
        if len(path) > MAX_DEPTH:
            message = "nested deeper than {} levels".format(MAX_DEPTH)
        elif isinstance(value, str):
            message = text_problem(value)
        elif isinstance(value, float) and not math.isfinite(value):
            message = "is not a finite number"
        elif isinstance(value, dict):
            for key, item in value.items():
                key_message = text_problem(key)
                if key_message:
                    _record(problems, path + (_printable(key),), "this key " + key_message)
                else:
                    pending.append((path + (key,), item))
        elif isinstance(value, list):
            pending.extend((path + (index,), item) for index, item in enumerate(value))
        if message:
            _record(problems, path or ("_body",), message)
    return problems


def _printable(key):
    return NOT_TEXT.sub("?", key)


def _record(problems, path, message):
    node = problems
    for step in path[:-1]:
        node = node.setdefault(step, {})
        if isinstance(node, list):  # a message already recorded above: keep it
            return
    node.setdefault(path[-1], [])
    if isinstance(node[path[-1]], list):
        node[path[-1]].append(message)


def values_problems(values):
    """Field errors for the query string's or the path's values (``{name: value}``)."""
    return {name: [problem] for name, problem in
            ((name, text_problem(value)) for name, value in values.items()
             if isinstance(value, str))
            if problem}
