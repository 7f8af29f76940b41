"""Checks NDJSON events against schema/events.schema.json (`from schema_check import ...`).

`CliResult` (tests/helpers.py) runs `check_stdout` on every CLI run it records, so every JSON
line any test's run prints is validated, whichever command or option produced it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "events.schema.json"
_FORMATS = Draft202012Validator.FORMAT_CHECKER


@functools.cache
def event_schema() -> dict[str, Any]:
    """The schema, read once per test process."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def event_validator() -> Draft202012Validator:
    """The whole schema, checked against the draft's meta-schema and compiled once."""
    schema = event_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS)


@functools.cache
def _kind_validator(kind: str) -> Draft202012Validator:
    """One kind's $defs entry with its local $refs written out: per event, this is what is
    checked (jsonschema resolves a $ref on every use, and the root's oneOf tries every kind:
    thousands of times slower). Each entry pins its `event` (test_event_schema checks it), so
    an event the entry accepts is one the root's oneOf accepts."""
    defs = event_schema()["$defs"]
    return Draft202012Validator(_inlined(defs[kind], defs), format_checker=_FORMATS)


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """`node` with every {"$ref": "#/$defs/NAME"} replaced by that definition."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inlined(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    return node


def schema_kinds() -> set[str]:
    """The event kinds the schema's oneOf accepts."""
    return {ref["$ref"].rsplit("/", 1)[1] for ref in event_schema()["oneOf"]}


def event_problem(record: Any) -> str | None:
    """Why `record` (one parsed NDJSON line) is not a valid event, or None if it is."""
    kind = record.get("event") if isinstance(record, dict) else None
    if not isinstance(kind, str) or kind not in _known_kinds():
        if event_validator().is_valid(record):  # cannot be, unless the schema is broken
            return f"event {kind!r} passed the schema without an entry of its own"
        return f"event {kind!r} has no entry in {SCHEMA_PATH.name} (add one: see its description)"
    validator = _kind_validator(kind)
    error = next(validator.iter_errors(record), None)
    if error is None:
        return None
    error = best_match(validator.iter_errors(record)) or error
    where = "/".join(str(p) for p in error.absolute_path) or "(the object)"
    return f"{kind} event, at {where}: {error.message}"


@functools.cache
def _known_kinds() -> frozenset[str]:
    return frozenset(schema_kinds())


def stdout_problems(stdout: str, killed: bool = False) -> list[str]:
    """Every line of stdout that looks like a JSON object (starts with `{`) and is not a valid
    event, as 'line N: why'. A killed process may leave its last line cut short: with `killed`,
    a last line without its newline is not judged."""
    lines = stdout.split("\n")
    # The text after the last newline is a cut line if anything; a complete output ends in "".
    last = len(lines) - 1
    problems = []
    for n, line in enumerate(lines, 1):
        if not line.lstrip().startswith("{") or (killed and n - 1 == last):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc}): {line[:300]!r}")
            continue
        problem = event_problem(record)
        if problem:
            problems.append(f"line {n}: {problem}: {line[:300]}")
    return problems


def check_stdout(stdout: str, killed: bool = False) -> None:
    """Fail (AssertionError) with every bad event line of stdout named."""
    problems = stdout_problems(stdout, killed)
    if problems:
        shown = "\n".join(problems[:10])
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise AssertionError(f"stdout has events {SCHEMA_PATH.name} rejects:\n{shown}{more}")
