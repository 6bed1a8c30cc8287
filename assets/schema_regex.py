"""Data schemas whose regular expressions run on RE2, so untrusted data cannot stall a
worker. No Django.

A tenant writes `pattern` and `patternProperties` into its data schemas; untrusted asset
`data` is validated against them on every upload and update. jsonschema runs them with
Python's backtracking `re`, where `^(a+)+$` against 28 characters took 11 s, doubling
with each character. RE2 (google-re2) matches in time linear in the input, whatever the
pattern, because it never backtracks; what it cannot express (look-around, back-
references) is refused when the schema is saved, with the path of the pattern.

`TenantSchemaValidator` is Draft 2020-12 with every keyword that matches a tenant's
regular expression against data moved to RE2: `pattern`, `patternProperties`,
`additionalProperties` and `unevaluatedProperties` (the last two ask which keys the
`patternProperties` cover), and the `regex` format. `schema_regex_problems` finds each
pattern of a schema RE2 cannot compile, keyed by its JSON path.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the caller, not to stderr

RE2_HINT = (
    "patterns run on RE2, which has no look-around ((?=, (?!, (?<=, (?<!), no back-references "
    "(\\1) and repeat counts up to 1000; rewrite the pattern without them"
)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot compile `pattern`, or None when it can."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


def _search(pattern: str, text: str) -> bool | None:
    """Whether `pattern` matches somewhere in `text`; None if RE2 cannot compile it (a
    schema saved before patterns were checked)."""
    try:
        return _compiled(pattern).search(text) is not None
    except re2.error:
        return None


def _unusable(pattern: str) -> ValidationError:
    return ValidationError(
        f"the data schema's pattern {pattern!r} cannot be run ({pattern_problem(pattern)}); "
        "an ADMIN must update the schema: " + RE2_HINT
    )


# --- the keywords, as jsonschema's own but matching with RE2 ------------------------------


def _pattern(validator, pattern, instance, schema) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string"):
        found = _search(pattern, instance)
        if found is None:
            yield _unusable(pattern)
        elif not found:
            yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            found = _search(pattern, key)
            if found is None:
                yield _unusable(pattern)
                break
            if found:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _covered_by_patterns(schema: dict, key: str) -> bool:
    return any(_search(pattern, key) for pattern in schema.get("patternProperties", {}))


def _additional_properties(validator, additional, instance, schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    extras = [k for k in instance if k not in properties and not _covered_by_patterns(schema, k)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(each) for each in sorted(extras))
        if "patternProperties" in schema:
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{listed} {'does' if len(extras) == 1 else 'do'} not match any of the regexes: {patterns}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} {'was' if len(extras) == 1 else 'were'} unexpected)")


def _evaluated_keys(validator, instance: dict, schema: Any) -> set[str]:
    """The keys of `instance` that `schema` evaluates (jsonschema's rule for
    unevaluatedProperties, with patternProperties matched by RE2)."""
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        if (ref := schema.get(keyword)) is not None:
            resolved = validator._resolver.lookup(ref)
            inner = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(inner, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {k for k, v in instance.items() if validator.evolve(schema=subschema).is_valid(v)}
    keys |= {k for k in instance if _covered_by_patterns(schema, k)}
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if validator.evolve(schema=subschema).is_valid(instance):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _unevaluated_properties(validator, unevaluated, instance, schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    failing = [
        key
        for key in instance
        if key not in evaluated and any(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if failing:
        listed = ", ".join(repr(each) for each in sorted(failing, key=str))
        if unevaluated is False:
            yield ValidationError(f"Unevaluated properties are not allowed ({listed} {'was' if len(failing) == 1 else 'were'} unexpected)")
        else:
            yield ValidationError(f"Unevaluated properties are not valid under the given schema ({listed} {'was' if len(failing) == 1 else 'were'} unevaluated and invalid)")


REGEX_FORMAT_CHECKER = FormatChecker()
REGEX_FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)


@REGEX_FORMAT_CHECKER.checks("regex", raises=re2.error)
def _is_re2_regex(instance: object) -> bool:
    return not isinstance(instance, str) or _compiled(instance) is not None


TenantSchemaValidator = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
    },
    format_checker=REGEX_FORMAT_CHECKER,
)


def json_path(root: str, parts: Any) -> str:
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_regex_problems(schema: dict) -> dict[str, list[str]]:
    """Each place in `schema` holding a regular expression RE2 cannot compile, keyed by
    its path ("schema.properties.sku.pattern"), with why and how to fix it. The meta-
    schema marks those places (`pattern`, the keys of `patternProperties`) as format
    `regex`; our format checker compiles them with RE2."""
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=REGEX_FORMAT_CHECKER)
    problems: dict[str, list[str]] = {}
    for error in meta.iter_errors(schema):
        if error.validator == "format" and error.validator_value == "regex" and isinstance(error.instance, str):
            problems.setdefault(json_path("schema", error.absolute_path), []).append(
                f"{error.instance!r} is not a regular expression this service can run "
                f"({pattern_problem(error.instance)}): {RE2_HINT}"
            )
    return problems
