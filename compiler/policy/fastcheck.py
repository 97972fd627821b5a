"""Policy conditions compiled once into Python checks that only say yes or no.

jsonschema interprets a rule's condition anew for every document, building an error object for
each keyword it descends through: at 1,000 workspaces its 2,004 checks took 0.2 s of
`validate`'s 0.8 s. A condition written with the keywords below becomes nested functions that
answer "does this document satisfy it?" with jsonschema's Draft 2020-12 meaning of each
keyword (its type checker, its `equal` for `const` and `enum`, RE2 for `pattern` as
policy/safe_regex.py does). A condition with any other keyword, `$ref` among them, is not
compiled. The check only ever accepts: a document it refuses goes to jsonschema, which finds
each place and says why (evaluate.py), as the Kubernetes schemas' compiled check does
(builtin/kubeschemas.py). tests/policy/test_fastcheck.py holds the two equal on every built-in
rule over the examples' documents and thousands of mutations of them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: jsonschema's Draft 2020-12 validator checks nothing for them.
_ANNOTATIONS = frozenset({"title", "description", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly"})


class _Unsupported(Exception):
    pass


def compile_condition(condition: Any) -> Check | None:
    """A check that accepts exactly the documents jsonschema finds no error in, or None when
    the condition uses a keyword this module does not compile."""
    try:
        return _compile(condition)
    except _Unsupported:
        return None


def _always(instance: Any) -> bool:
    return True


def _never(instance: Any) -> bool:
    return False


def _compile(schema: Any) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise _Unsupported
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("then", "else"):  # then and else belong to `if`
            continue
        compiler = _KEYWORDS.get(keyword)
        if compiler is None:
            raise _Unsupported
        checks.append(compiler(value, schema))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    return lambda instance: all(check(instance) for check in checks)


# --- jsonschema's types and equality (jsonschema._types, jsonschema._utils.equal) -------------


def _is_number(instance: Any) -> bool:
    return isinstance(instance, numbers.Number) and not isinstance(instance, bool)


def _is_integer(instance: Any) -> bool:
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


_TYPES: dict[str, Check] = {
    "array": lambda instance: isinstance(instance, list),
    "boolean": lambda instance: isinstance(instance, bool),
    "integer": _is_integer,
    "null": lambda instance: instance is None,
    "number": _is_number,
    "object": lambda instance: isinstance(instance, dict),
    "string": lambda instance: isinstance(instance, str),
}
_TRUE, _FALSE = object(), object()


def _unbool(element: Any) -> Any:
    if element is True:
        return _TRUE
    if element is False:
        return _FALSE
    return element


def equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: `true` is not 1, lists and mappings compared item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(i, j) for i, j in zip(one, two, strict=False))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and equal(one[key], two[key]) for key in one)
    return bool(_unbool(one) == _unbool(two))


# --- One function per keyword: (the keyword's value, the schema it is in) → check -----------


def _type(value: Any, schema: dict[str, Any]) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n in _TYPES for n in names):
        raise _Unsupported
    checks = [_TYPES[name] for name in names]
    if len(checks) == 1:
        return checks[0]
    return lambda instance: any(check(instance) for check in checks)


def _const(value: Any, schema: dict[str, Any]) -> Check:
    if isinstance(value, str):
        return lambda instance: bool(instance == value)
    if isinstance(value, bool) or value is None:
        return lambda instance: instance is value or equal(instance, value)
    return lambda instance: equal(instance, value)


def _enum(value: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(value, list):
        raise _Unsupported
    return lambda instance: any(equal(each, instance) for each in value)


def _properties(value: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(value, dict):
        raise _Unsupported
    pairs = [(name, _compile(sub)) for name, sub in value.items()]

    def check(instance: Any) -> bool:
        return not isinstance(instance, dict) or all(name not in instance or sub(instance[name]) for name, sub in pairs)

    return check


def _required(value: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(value, list):
        raise _Unsupported
    return lambda instance: not isinstance(instance, dict) or all(name in instance for name in value)


def _items(value: Any, schema: dict[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise _Unsupported
    sub = _compile(value)
    return lambda instance: not isinstance(instance, list) or all(sub(item) for item in instance)


def _if(value: Any, schema: dict[str, Any]) -> Check:
    condition = _compile(value)
    then = _compile(schema["then"]) if "then" in schema else _always
    otherwise = _compile(schema["else"]) if "else" in schema else _always
    return lambda instance: then(instance) if condition(instance) else otherwise(instance)


def _not(value: Any, schema: dict[str, Any]) -> Check:
    sub = _compile(value)
    return lambda instance: not sub(instance)


def _subschemas(value: Any) -> list[Check]:
    if not isinstance(value, list) or not value:
        raise _Unsupported
    return [_compile(sub) for sub in value]


def _all_of(value: Any, schema: dict[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda instance: all(sub(instance) for sub in subs)


def _any_of(value: Any, schema: dict[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda instance: any(sub(instance) for sub in subs)


def _one_of(value: Any, schema: dict[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda instance: sum(1 for sub in subs if sub(instance)) == 1


def _bound(fails: Callable[[Any, Any], bool]) -> Callable[[Any, dict[str, Any]], Check]:
    """A numeric bound, refusing a number exactly when jsonschema's keyword does."""

    def keyword(value: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise _Unsupported
        return lambda instance: not _is_number(instance) or not fails(instance, value)

    return keyword


def _length(of: Check, fails: Callable[[int, Any], bool]) -> Callable[[Any, dict[str, Any]], Check]:
    def keyword(value: Any, schema: dict[str, Any]) -> Check:
        if not _is_integer(value):
            raise _Unsupported
        return lambda instance: not of(instance) or not fails(len(instance), value)

    return keyword


def _pattern(value: Any, schema: dict[str, Any]) -> Check:
    from compiler.policy import safe_regex

    if not isinstance(value, str):
        raise _Unsupported
    try:
        search = safe_regex.compiled(value).search
    except Exception as exc:  # re2.error: jsonschema's path reports it
        raise _Unsupported from exc
    return lambda instance: not isinstance(instance, str) or search(instance) is not None


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "allOf": _all_of,
    "anyOf": _any_of,
    "const": _const,
    "enum": _enum,
    "exclusiveMaximum": _bound(lambda instance, bound: instance >= bound),
    "exclusiveMinimum": _bound(lambda instance, bound: instance <= bound),
    "if": _if,
    "items": _items,
    "maxItems": _length(_TYPES["array"], lambda length, bound: length > bound),
    "maxLength": _length(_TYPES["string"], lambda length, bound: length > bound),
    "maximum": _bound(lambda instance, bound: instance > bound),
    "minItems": _length(_TYPES["array"], lambda length, bound: length < bound),
    "minLength": _length(_TYPES["string"], lambda length, bound: length < bound),
    "minimum": _bound(lambda instance, bound: instance < bound),
    "not": _not,
    "oneOf": _one_of,
    "pattern": _pattern,
    "properties": _properties,
    "required": _required,
    "type": _type,
}
