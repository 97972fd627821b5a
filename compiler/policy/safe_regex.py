"""Regular expressions in policy pack conditions run on RE2, which never backtracks (SCHEMA-015).

A pack is config the repository's contributors write, and jsonschema evaluates `pattern` and
`patternProperties` with Python's backtracking `re`: `^(a+)+$` against forty characters hangs
validate. RE2 (google-re2) matches in time linear in the input, so no pattern can hang it; in
exchange it has no backreferences or lookaround, and a pattern that uses them is refused when
the pack is loaded, at the rule, rather than evaluated some other way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

# Keywords that take a regular expression: as a value, or as the keys of their mapping.
_PATTERN_VALUE = "pattern"
_PATTERN_KEYS = "patternProperties"


@functools.lru_cache(maxsize=512)  # bounded: the patterns come from the config repository
def compiled(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its parse errors on stderr
    return re2.compile(pattern, options)


def problem(condition: Any) -> str | None:
    """Why the condition cannot be evaluated on RE2, or None."""
    import re2

    patterns = list(_patterns(condition))
    for pattern in patterns:
        try:
            compiled(pattern)
        except re2.error:
            return (f"the pattern {pattern!r} is not one RE2 can run (backreferences and lookaround are not "
                    "allowed: hks evaluates pack patterns without backtracking, so none can hang validate)")
    if patterns and _uses(condition, "unevaluatedProperties"):
        return "unevaluatedProperties cannot be combined with patternProperties in a pack condition"
    return None


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get(_PATTERN_VALUE), str):
            yield node[_PATTERN_VALUE]
        if isinstance(node.get(_PATTERN_KEYS), dict):
            yield from (str(key) for key in node[_PATTERN_KEYS])
        for key, value in node.items():
            if key not in ("const", "enum", "default", "examples"):  # data, not schemas
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def _uses(node: Any, keyword: str) -> bool:
    if isinstance(node, dict):
        return keyword in node or any(_uses(v, keyword) for v in node.values())
    return isinstance(node, list) and any(_uses(v, keyword) for v in node)


@functools.cache
def validator_class() -> Any:
    """Draft 2020-12 with every keyword that matches a regular expression running on RE2."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    original_additional = Draft202012Validator.VALIDATORS["additionalProperties"]

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not compiled(value).search(instance):
            yield ValidationError(f"{instance!r} does not match {value!r}")

    def pattern_properties(validator: Any, value: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        for regex, subschema in value.items():
            for key, item in instance.items():
                if compiled(regex).search(key):
                    yield from validator.descend(item, subschema, path=key, schema_path=regex)

    def additional_properties(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if "patternProperties" not in schema or not validator.is_type(instance, "object"):
            yield from original_additional(validator, value, instance, schema)
            return
        known, regexes = schema.get("properties", {}), [compiled(r) for r in schema["patternProperties"]]
        extras = [k for k in instance if k not in known and not any(r.search(k) for r in regexes)]
        if validator.is_type(value, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], value, path=extra)
        elif not value and extras:
            yield ValidationError(f"{', '.join(sorted(map(repr, extras)))} not allowed by the patterns")

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        {"pattern": pattern, "patternProperties": pattern_properties, "additionalProperties": additional_properties},
    )
