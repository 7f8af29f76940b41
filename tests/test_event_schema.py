"""schema/events.schema.json: a valid draft 2020-12 schema, an entry for every event kind the
code defines, and strict enough that a malformed event fails."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from helpers import CliResult
from jsonschema import Draft202012Validator
from schema_check import (
    SCHEMA_PATH,
    event_problem,
    event_schema,
    event_validator,
    schema_kinds,
    stdout_problems,
)

from azxfer import events as ev
from azxfer.cli.render import JsonReporter
from azxfer.endpoints.listing import ListField
from azxfer.listjob import json_key
from azxfer.sync.deletes import Deleted
from azxfer.sync.summary import SyncSummary

PACKAGE = Path(__file__).resolve().parent.parent / "azxfer"
TIME = "2026-12-06T14:55:29.123Z"


def _kinds_in_code() -> dict[str, str]:
    """Every event kind azxfer's source defines, found by reading it (so an event in a module
    nothing imports yet counts too): a class's `kind: ClassVar[str] = "..."`, and a dict
    literal's `"event": "..."` (events written by hand, such as bench_result). kind -> file."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == "kind"
                and "ClassVar" in ast.unparse(node.annotation)
                and isinstance(node.value, ast.Constant)
            ):
                found[node.value.value] = str(path.relative_to(PACKAGE.parent))
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "event"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        found[value.value] = str(path.relative_to(PACKAGE.parent))
    found.pop(ev.Event.kind, None)  # the base class's placeholder, never emitted
    return found


def _event_classes(base: type = ev.Event) -> list[type]:
    """Event subclasses of the modules imported here, recursively."""
    out = []
    for cls in base.__subclasses__():
        out.append(cls)
        out.extend(_event_classes(cls))
    return out


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = event_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    # oneOf and $defs list the same kinds, each entry closed and keyed on its own name.
    assert schema_kinds() <= set(schema["$defs"])
    for kind in schema_kinds():
        entry = schema["$defs"][kind]
        assert entry["properties"]["event"] == {"const": kind}, kind
        assert entry["additionalProperties"] is False, kind
        optional = _OPTIONAL.get(kind, set())
        assert optional <= set(entry["properties"]), kind
        assert set(entry["required"]) == set(entry["properties"]) - optional, kind


# Fields an entry may lack: a listing's properties are those asked for, and an unset variable
# has no spelling it was set as.
_OPTIONAL = {
    "list_entry": {json_key(field) for field in ListField},
    "list_entity": {"last_modified_time"},
    # One of three shapes: a listing's files/directories/bytes, a service's tables, a
    # table's entities (the entry's oneOf).
    "list_summary": {"files", "directories", "bytes", "tables", "entities"},
    "env_var": {"set_as"},
}
# Kinds written by hand (dicts, not Event classes), and kinds printed without a `time`
# (not through the JsonReporter): each checked by its own command's tests.
_HAND_WRITTEN = {"bench_result", "made", "removed", "env_var", "job"}


def test_the_source_scan_finds_every_event_class() -> None:
    """The scan below is what guards new kinds: prove it sees the classes Python sees."""
    in_code = _kinds_in_code()
    classes = {cls.kind for cls in _event_classes()}
    assert {"job_started", "job_finished", "sync_summary", "deleted"} <= classes
    assert classes <= set(in_code)
    assert "bench_result" in in_code


def test_every_event_kind_in_the_code_has_a_schema_entry() -> None:
    missing = {k: f for k, f in _kinds_in_code().items() if k not in schema_kinds()}
    assert not missing, (
        f"event kinds without an entry in {SCHEMA_PATH.name} (add one, see its description): "
        f"{missing}"
    )


def _sample_events() -> list[ev.Event]:
    """One event of each kind with every optional field set, as the engine makes them."""
    return [
        ev.JobStarted("j1", "copy", "/src", "https://a/c", False, "shared key", "SAS"),
        ev.TransferQueued(1, "a.txt", "c/a.txt", 10),
        ev.EnumerationDone(1, 10),
        ev.ListingProgress(64, 640),
        ev.Progress(1, -4),
        ev.TransferResumed(1, 2, 8),
        ev.TransferDone(1, "a.txt", "c/a.txt", "failed", 10, "boom"),
        ev.FolderDone("d", "c/d", "planned"),
        ev.Retrying("PUT https://a/c/a.txt", 2, 0.5, "503"),
        ev.Notice("warning", "renamed"),
        ev.JobFinished(
            "j1",
            "CompletedWithErrors",
            2,
            1,
            0,
            1,
            0,
            10,
            0.25,
            [{"name": "a", "reason": "x"}],
            cap_mbps=40.0,
        ),
        ev.EntitiesProgress(5, 500),
        ev.EntitiesDone(5, 4, 1, 0, 20.0),
        ev.SourceFolderRemoved("d", True),
        SyncSummary(1, 2, 0, 1, 1, 0, True, note="kept"),
        Deleted("c/x", False, "failed", "gone", folder=True),
        ev.PropertiesSet("c/x", ["tier=Cool", "metadata"], False, "failed", "denied"),
        ev.BulkSummary("remove", False, 3, 30, 1, 2, 1),
    ]


def test_events_as_the_json_reporter_writes_them_are_valid(tmp_path: Path) -> None:
    """The real encoder, every kind: the schema matches what is written."""
    out = tmp_path / "events.ndjson"
    with out.open("w", encoding="utf-8") as stream:
        reporter = JsonReporter(stream)
        for event in _sample_events():
            reporter.emit(event)
        reporter.close()
    text = out.read_text(encoding="utf-8")
    assert len(text.splitlines()) == len(_sample_events())
    assert stdout_problems(text) == []
    records = [json.loads(line) for line in text.splitlines()]
    assert all(event_validator().is_valid(r) for r in records)  # the root agrees
    covered = {r["event"] for r in records}
    assert covered | _HAND_WRITTEN | _UNTIMED == schema_kinds()


_UNTIMED = {"list_entry", "list_summary", "list_entity"}


def test_list_events_are_valid_as_the_list_command_writes_them() -> None:
    """`azxfer list` writes its events without a time (one per entry of a listing of
    millions): the schema takes them so, properties flattened in."""
    entry = ev.ListEntry("a/b.txt", 3, "file", {"last_modified_time": TIME, "etag": "0x1"}, {})
    lines = [entry.to_json(), ev.ListSummary(1, 0, 3).to_json()]
    assert stdout_problems("\n".join(json.dumps(r) for r in lines)) == []
    bad = {**entry.to_json(), "colour": "red"}
    assert stdout_problems(json.dumps(bad))


def test_table_list_events_are_valid_and_the_summary_has_one_shape() -> None:
    """A Table listing's entries and summaries are valid; a summary mixing two shapes is not."""
    lines = [
        ev.ListEntry("Orders", 0, "table").to_json(),
        ev.TableListSummary("tables", 1).to_json(),
        ev.ListEntity("p1", "r1", TIME).to_json(),
        ev.ListEntity("p1", "r2").to_json(),
        ev.TableListSummary("entities", 2).to_json(),
    ]
    assert stdout_problems("\n".join(json.dumps(r) for r in lines)) == []
    assert lines[1] == {"event": "list_summary", "tables": 1}
    for bad in (
        {"event": "list_summary", "files": 1, "directories": 0, "bytes": 3, "tables": 1},
        {"event": "list_summary", "tables": 1, "entities": 2},
        {"event": "list_summary"},
        {"event": "list_entity", "partition_key": "p"},
        {**ev.ListEntry("Orders", 0, "table").to_json(), "type": "queue"},
    ):
        assert stdout_problems(json.dumps(bad)), bad


def _valid() -> dict:
    record = {
        "event": "transfer_done",
        "transfer_id": 3,
        "source": "a.txt",
        "destination": "c/a.txt",
        "outcome": "completed",
        "size": 7,
        "reason": None,
        "time": TIME,
    }
    assert event_problem(record) is None
    return record


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sizes": 7}, "Additional properties are not allowed ('sizes' was unexpected)"),
        ({"size": "7"}, "at size: '7' is not of type 'integer'"),
        ({"size": -1}, "at size: -1 is less than the minimum of 0"),
        ({"outcome": "done"}, "at outcome: 'done' is not one of"),
        ({"time": "2026-12-06 14:55:29"}, "at time: '2026-12-06 14:55:29' does not match"),
        ({"event": "transfer_finished"}, "'transfer_finished' has no entry"),
        ({"size": None}, "at size: None is not of type 'integer'"),
    ],
)
def test_a_malformed_event_is_rejected_with_a_readable_reason(change: dict, expected: str) -> None:
    record = {**_valid(), **change}
    problem = event_problem(record)
    assert problem is not None and expected in problem, problem
    assert not event_validator().is_valid(record)  # the root agrees


def test_a_missing_field_is_rejected() -> None:
    record = _valid()
    del record["reason"]
    problem = event_problem(record)
    assert problem is not None and "'reason' is a required property" in problem


def test_cli_result_fails_on_a_bad_event_line_and_names_it() -> None:
    good = json.dumps(_valid())
    bad = json.dumps({**_valid(), "outcome": "done"})
    CliResult(["python", "-m", "azxfer"], 0, f"{good}\n", "")
    with pytest.raises(AssertionError, match=r"line 2: transfer_done event, at outcome"):
        CliResult(["python", "-m", "azxfer"], 0, f"{good}\n{bad}\n", "")


def test_only_a_killed_run_may_end_in_a_cut_line() -> None:
    cut = json.dumps(_valid())[:40]
    CliResult(["python", "-m", "azxfer"], -9, f"{json.dumps(_valid())}\n{cut}", "")
    with pytest.raises(AssertionError, match="line 2: not JSON"):
        CliResult(["python", "-m", "azxfer"], 1, f"{json.dumps(_valid())}\n{cut}", "")


def test_text_lines_are_not_events() -> None:
    assert stdout_problems("Job 1: copy a -> b\nDRYRUN: copy a -> b\n") == []
