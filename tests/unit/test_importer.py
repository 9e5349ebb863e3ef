"""The JSON Lines importer: reading, validation, error messages, and the JSON Schema.

These run on an in-memory SQLite ledger; ``tests/backend/test_import_export.py`` runs the
import/export round trips on every backend.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ImportFailed, ImportReport, InvalidRecord, Ledger, SourceRegistered
from ledger.codec import to_payload
from ledger.events import CORRECTABLE
from ledger.jsonl import importer as imp
from ledger.jsonl.exporter import to_record
from tests.strategies import flatten, histories

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "north-korea-troops.jsonl"
EXAMPLE_RECORDS = 85  # 25 sources, 8 propositions, 5 documents, 46 statements, 1 correction

SOURCE = {"type": "source", "id": "kcna", "name": "KCNA", "category": "state_media"}
PROPOSITION = {"type": "proposition", "id": "troops", "text": "Troops are in Russia"}
STATEMENT = {
    "type": "statement",
    "id": "s1",
    "source": "kcna",
    "proposition": "troops",
    "stance": "deny",
    "stated_at": "2024-10-21",
}


def jsonl(*records: dict[str, Any] | str) -> str:
    """Records as JSON Lines; a ``str`` is written as the raw line."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def without(base: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in base.items() if k != name}


@pytest.fixture
def mem() -> Iterator[Ledger]:
    lg = Ledger.open("sqlite://")
    yield lg
    lg.close()


def refused(lg: Ledger, text: str | bytes) -> ImportFailed:
    """Import ``text`` as data.jsonl, expecting failure and an untouched ledger."""
    before = lg.head()
    data = io.BytesIO(text.encode() if isinstance(text, str) else text)
    with pytest.raises(ImportFailed) as info:
        lg.import_jsonl(data, name="data.jsonl")
    assert lg.head() == before
    return info.value


# -- the example and idempotence -------------------------------------------------------------


def test_the_example_dataset_imports_whole_and_a_second_import_appends_nothing(
    mem: Ledger,
) -> None:
    first = mem.import_jsonl(EXAMPLE)
    assert (first.records, first.appended, first.skipped) == (EXAMPLE_RECORDS, EXAMPLE_RECORDS, 0)
    assert first.lines == EXAMPLE_RECORDS
    assert (first.head_position, first.head_hash) == (mem.head().position, mem.head().hash)

    second = mem.import_jsonl(EXAMPLE)
    assert (second.appended, second.skipped) == (0, EXAMPLE_RECORDS)
    assert second.head_hash == first.head_hash
    assert mem.verify().ok


def test_the_summary_says_what_was_imported_from_where_and_the_new_head() -> None:
    report = ImportReport("x.jsonl", 131, 131, 130, 1, 131, "ab12cd34ef56" + "0" * 52)
    assert report.summary() == (
        "imported 131 records from x.jsonl: 130 appended, 1 already present; head 131 ab12cd34ef56…"
    )


def test_an_empty_file_imports_nothing_and_the_report_says_so(mem: Ledger) -> None:
    report = mem.import_jsonl(io.BytesIO(b""), name="empty.jsonl")
    assert (report.lines, report.records, report.appended, report.head_position) == (0, 0, 0, 0)
    assert report.summary().startswith("imported nothing from empty.jsonl")


def test_identical_records_repeated_in_one_file_are_appended_once(mem: Ledger) -> None:
    report = mem.import_jsonl(io.StringIO(jsonl(SOURCE, SOURCE)))
    assert (report.records, report.appended, report.skipped) == (2, 1, 1)


# -- inputs ----------------------------------------------------------------------------------


def test_a_path_a_str_path_a_text_stream_and_a_binary_stream_all_import(
    tmp_path: Path, mem: Ledger
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl(SOURCE), encoding="utf-8")
    assert mem.import_jsonl(path).source_name == str(path)
    assert mem.import_jsonl(str(path)).skipped == 1
    assert mem.import_jsonl(io.StringIO(jsonl(SOURCE))).source_name == "<stream>"
    assert mem.import_jsonl(io.BytesIO(jsonl(SOURCE).encode()), name="b").source_name == "b"
    with path.open(encoding="utf-8") as f:
        assert mem.import_jsonl(f).source_name == str(path)
    assert mem.head().position == 1


def test_a_dash_reads_standard_input(mem: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(jsonl(SOURCE).encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    report = mem.import_jsonl("-")
    assert (report.source_name, report.appended) == ("<stdin>", 1)


def test_a_bom_crlf_line_ends_and_blank_lines_are_tolerated(mem: Ledger) -> None:
    body = "\ufeff" + jsonl(SOURCE, "", "   ", PROPOSITION).replace("\n", "\r\n") + "\r\n"
    for data in (body.encode("utf-8"), body):
        stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data, newline="")
        report = mem.import_jsonl(stream)
        assert (report.lines, report.records) == (5, 2)
    assert mem.head().position == 2


def test_a_bom_anywhere_but_the_start_is_an_error(mem: Ledger) -> None:
    error = refused(mem, jsonl(SOURCE, "\ufeff" + json.dumps(PROPOSITION)))
    assert "data.jsonl:2: is not valid JSON" in str(error)


def test_the_last_line_needs_no_line_end(mem: Ledger) -> None:
    assert mem.import_jsonl(io.StringIO(json.dumps(SOURCE))).appended == 1


# -- bad input: every error names file, line and field, and nothing is appended -------------

BAD_RECORDS: list[tuple[str, dict[str, Any] | str, str | None, str]] = [
    ("unknown field", with_(STATEMENT, vaule=3), "vaule", "did you mean 'value'?"),
    ("missing field", without(STATEMENT, "stance"), "stance", "is required"),
    ("missing type", without(SOURCE, "type"), "type", "is missing"),
    ("unknown type", with_(SOURCE, type="sauce"), "type", "'sauce' is not a record type"),
    ("number for a string", with_(SOURCE, name=3), "name", "expected string, got number"),
    ("bool for a value", with_(STATEMENT, value=True), "value", "got boolean"),
    ("string for a value", with_(STATEMENT, value="3"), "value", "got string"),
    ("object for parties", with_(PROPOSITION, parties={"kcna": 1}), "parties", "got object"),
    ("statement fields on a correction", with_(STATEMENT, type="correction"), "source", "not a"),
    (
        "array for a set",
        {"type": "correction", "id": "c", "corrects": "s", "reason": "r", "set": [["a", 1]]},
        "set",
        "expected object, got array",
    ),
    ("bad category", with_(SOURCE, category="blog"), "category", "'blog' is not one of"),
    ("bad reliability", with_(SOURCE, reliability="G"), "reliability", "is not one of"),
    ("bad id", with_(SOURCE, id="KCNA"), "id", "is not a valid id"),
    ("impossible date", with_(STATEMENT, stated_at="2024-02-30"), "stated_at", "is not an ISO"),
    ("naive datetime", with_(STATEMENT, stated_at="2024-10-21T10:00"), "stated_at", "naive"),
    ("time without a date", with_(STATEMENT, stated_at="10:00Z"), "stated_at", "is not"),
    ("week date", with_(STATEMENT, stated_at="2024-W43-1"), "stated_at", "YYYY-MM-DD"),
    ("negative value", with_(STATEMENT, value=-1), "value", "is negative"),
    ("1e400", json.dumps(STATEMENT)[:-1] + ', "value": 1e400}', "value", "inf is not a finite"),
    ("1e-400", json.dumps(STATEMENT)[:-1] + ', "value": 1e-400}', "value", "too close to zero"),
    ("huge integer", with_(STATEMENT, value=2**60), "value", "too large"),
    ("bad stance", with_(STATEMENT, stance="maybe"), "stance", "is not one of"),
    ("unit without value", with_(STATEMENT, unit="troops"), "unit", "without a value"),
    ("quote without document", with_(STATEMENT, quote="x"), "quote", "needs the document"),
    ("blank text", with_(SOURCE, name="  "), "name", "must not be empty"),
    ("control character", with_(SOURCE, name="a\u0007b"), "name", "control character U+0007"),
    ("lone surrogate", with_(SOURCE, note="\ud800"), "note", "lone surrogate"),
    ("bad sha256", {"type": "document", "id": "d", "title": "t", "sha256": "x"}, "sha256", "64"),
    ("duplicate key", '{"type":"source","id":"a","id":"b"}', "id", "appears twice"),
]


@pytest.mark.parametrize(
    ("record", "field", "fragment"),
    [case[1:] for case in BAD_RECORDS],
    ids=[case[0] for case in BAD_RECORDS],
)
def test_a_bad_record_is_refused_naming_file_line_and_field(
    mem: Ledger, record: dict[str, Any] | str, field: str, fragment: str
) -> None:
    error = refused(mem, jsonl(SOURCE, PROPOSITION, record))
    assert len(error.errors) >= 1
    first = error.errors[0]
    assert (first.location, first.field) == ("data.jsonl:3", field)
    assert str(first).startswith(f"data.jsonl:3: field {field!r}: ")
    assert fragment in str(first)
    assert "nothing was imported" in str(error)


BAD_LINES: list[tuple[str, bytes, str]] = [
    ("invalid UTF-8", b'{"type": "source", "name": "\xff"}', "is not valid UTF-8: byte 0xff"),
    ("UTF-8 encoded surrogate", b'{"a": "\xed\xa0\x80"}', "is not valid UTF-8"),
    ("not JSON", b"{type: source}", "is not valid JSON"),
    ("an array", b"[1, 2]", "expected a JSON object, got array"),
    ("a number", b"3", "expected a JSON object, got number"),
    ("a string", b'"source"', "expected a JSON object, got string"),
    ("null", b"null", "expected a JSON object, got null"),
    ("NaN", b'{"type": "statement", "value": NaN}', "NaN is not a JSON number"),
    ("Infinity", b'{"value": -Infinity}', "-Infinity is not a JSON number"),
    ("a 5000-digit integer", b'{"value": ' + b"9" * 5000 + b"}", "digits; too large"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("deep object nesting", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    ("a UTF-16 line", '{"type": "source"}'.encode("utf-16"), "is not valid UTF-8"),
]


@pytest.mark.parametrize(
    ("line", "fragment"), [case[1:] for case in BAD_LINES], ids=[case[0] for case in BAD_LINES]
)
def test_a_line_that_is_not_a_json_object_is_refused_naming_its_line(
    mem: Ledger, line: bytes, fragment: str
) -> None:
    error = refused(mem, jsonl(SOURCE).encode() + line + b"\n" + jsonl(PROPOSITION).encode())
    assert [e.location for e in error.errors] == ["data.jsonl:2"]
    assert fragment in str(error.errors[0])


def test_an_overlong_line_is_refused_and_reading_goes_on(
    mem: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imp, "MAX_LINE", 200)
    long_name = with_(SOURCE, id="long", name="x" * 500)
    error = refused(mem, jsonl(long_name, SOURCE, with_(SOURCE, id="kcna", name="other")))
    assert [e.location for e in error.errors] == ["data.jsonl:1", "data.jsonl:3"]
    assert "longer than the limit of 200 bytes" in str(error.errors[0])


def test_undecodable_text_from_a_text_stream_is_refused(mem: Ledger) -> None:
    stream = io.TextIOWrapper(io.BytesIO(b'{"a": "\xff"}\n'), encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"<stream>:1: is not valid UTF-8"):
        mem.import_jsonl(stream, name="<stream>")
    escaped = io.TextIOWrapper(io.BytesIO(b'{"a": "\xff"}\n'), errors="surrogateescape")
    with pytest.raises(ImportFailed, match=r"<stream>:1: is not valid UTF-8"):
        mem.import_jsonl(escaped, name="<stream>")


def test_the_spec_example_error_reads_as_documented(mem: Ledger) -> None:
    lines: list[dict[str, Any] | str] = [SOURCE, PROPOSITION, *([""] * 9)]
    lines.append(with_(STATEMENT, stated_at="2024-02-30"))
    error = refused(mem, jsonl(*lines))
    assert str(error.errors[0]).startswith(
        "data.jsonl:12: field 'stated_at': '2024-02-30' is not an ISO date"
    )


def test_every_bad_line_of_a_file_is_reported_at_once_up_to_a_limit(mem: Ledger) -> None:
    bad = [with_(SOURCE, id=f"s{i}", category="blog") for i in range(30)]
    error = refused(mem, jsonl(*bad))
    assert error.total == 30 and len(error.errors) == imp.MAX_ERRORS
    assert [e.location for e in error.errors] == [f"data.jsonl:{i}" for i in range(1, 21)]
    assert str(error).endswith("… and 10 more")
    assert isinstance(error, InvalidRecord) and isinstance(error, ValueError)


def test_several_problems_with_one_record_are_all_reported(mem: Ledger) -> None:
    record = with_(without(STATEMENT, "stance"), vaule=1, source=3)
    error = refused(mem, jsonl(SOURCE, PROPOSITION, record))
    assert {e.field for e in error.errors} == {"vaule", "stance", "source"}


# -- checks across records -------------------------------------------------------------------


def test_an_id_reused_with_other_content_names_both_lines(mem: Ledger) -> None:
    error = refused(mem, jsonl(SOURCE, PROPOSITION, with_(SOURCE, name="Other")))
    (only,) = error.errors
    assert str(only).startswith("data.jsonl:3: field 'id': source 'kcna' is already defined on")
    assert "line 1 with different content" in str(only)


def test_a_reference_to_a_record_defined_later_in_the_file_names_that_line(mem: Ledger) -> None:
    error = refused(mem, jsonl(SOURCE, STATEMENT, PROPOSITION))
    (only,) = error.errors
    assert only.location == "data.jsonl:2" and only.field == "proposition"
    assert "defined later, on line 3" in str(only)


def test_a_reference_to_a_record_in_neither_file_nor_ledger_is_refused(mem: Ledger) -> None:
    correction = {
        "type": "correction",
        "id": "c1",
        "corrects": "s1",
        "reason": "wrong source",
        "set": {"source": "nobody"},
    }
    party = with_(PROPOSITION, id="p2", parties=["kcna", "ghost"])
    error = refused(mem, jsonl(SOURCE, PROPOSITION, STATEMENT, correction, party))
    assert [(e.location, e.field) for e in error.errors] == [
        ("data.jsonl:4", "set.source"),
        ("data.jsonl:5", "parties"),
    ]
    assert "source 'nobody', which is neither earlier in this file nor in the ledger" in str(error)


def test_a_reference_to_a_record_already_in_the_ledger_is_accepted(mem: Ledger) -> None:
    mem.append([SourceRegistered("kcna", "KCNA", "state_media")])
    report = mem.import_jsonl(io.StringIO(jsonl(PROPOSITION, STATEMENT)))
    assert (report.appended, report.head_position) == (2, 3)


def test_a_record_defined_later_in_the_file_may_be_named_if_the_ledger_holds_it(
    mem: Ledger,
) -> None:
    mem.append([SourceRegistered("kcna", "KCNA", "state_media")])
    report = mem.import_jsonl(io.StringIO(jsonl(PROPOSITION, STATEMENT, SOURCE)))
    assert (report.appended, report.skipped) == (2, 1)


def test_a_record_whose_own_line_failed_does_not_fail_its_users_too(mem: Ledger) -> None:
    error = refused(mem, jsonl(with_(SOURCE, category="blog"), PROPOSITION, STATEMENT))
    assert [e.location for e in error.errors] == ["data.jsonl:1"]


def test_an_id_the_ledger_holds_with_other_content_is_refused_at_its_line(mem: Ledger) -> None:
    mem.append([SourceRegistered("kcna", "Korean Central News Agency", "state_media")])
    error = refused(mem, jsonl(PROPOSITION, SOURCE))
    (only,) = error.errors
    assert (only.location, only.field) == ("data.jsonl:2", "id")
    assert "already recorded with different content" in str(only)


def test_a_correction_withdraws_or_sets_exactly_one(mem: Ledger) -> None:
    base = {"type": "correction", "id": "c", "corrects": "s1", "reason": "r"}
    for bad, field in [
        (base, "withdraw"),
        (with_(base, withdraw=True, set={"stance": "assert"}), "set"),
        (with_(base, withdraw="yes"), "withdraw"),
        (with_(base, set={"bogus": 1}), "set.bogus"),
        (with_(base, set={"value": True}), "set.value"),
        (with_(base, set={"stated_at": "2024-10-21T10:00"}), "set.stated_at"),
    ]:
        error = refused(mem, jsonl(SOURCE, PROPOSITION, STATEMENT, bad))
        assert [e.field for e in error.errors] == [field], bad
    withdraw = mem.import_jsonl(
        io.StringIO(jsonl(SOURCE, PROPOSITION, STATEMENT, with_(base, withdraw=True)))
    )
    assert withdraw.appended == 4


def test_the_error_shown_in_the_docs_is_what_the_importer_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (REPO / "docs" / "import-format.md").read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w+)\n(.*?)^```", doc, re.S | re.M)
    code = next(body for lang, body in fences if lang == "python" and "ImportFailed" in body)
    shown = next(body for lang, body in fences if lang == "text")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "import-format.md", "exec"), {})
    assert capsys.readouterr().out == shown


# -- chunks, progress ------------------------------------------------------------------------


def test_progress_counts_each_record_validated_then_appended(mem: Ledger) -> None:
    calls: list[tuple[int, int]] = []
    mem.import_jsonl(EXAMPLE, progress=lambda done, total: calls.append((done, total)))
    assert {total for _, total in calls} == {2 * EXAMPLE_RECORDS}
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[-1] == 2 * EXAMPLE_RECORDS


def test_a_chunked_import_stopped_part_way_resumes_when_run_again(
    mem: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = Ledger.open("sqlite://")
    whole.import_jsonl(EXAMPLE)
    real_append = Ledger.append_batches  # a chunk is one append_batches call
    calls = 0

    def crash_on_third(self: Ledger, events: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # the process dies part way
        return real_append(self, events, **kw)

    monkeypatch.setattr(Ledger, "append_batches", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        imp.import_jsonl(mem, EXAMPLE, chunk_size=20)
    assert mem.head().position == 40
    monkeypatch.setattr(Ledger, "append_batches", real_append)

    report = imp.import_jsonl(mem, EXAMPLE, chunk_size=20)
    assert (report.appended, report.skipped) == (EXAMPLE_RECORDS - 40, 40)
    ids = [(e.event_id, e.stream_version) for e in mem.read()]
    assert ids == [(e.event_id, e.stream_version) for e in whole.read()]
    whole.close()


def test_a_chunk_size_below_one_is_refused(mem: Ledger) -> None:
    with pytest.raises(InvalidRecord, match="chunk_size"):
        imp.import_jsonl(mem, io.StringIO(""), chunk_size=0)


# -- the JSON Schema -------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    text = resources.files("ledger.jsonl").joinpath("import-format.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_schema_ships_in_the_package_and_is_draft_2020_12() -> None:
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema())


def test_every_line_of_the_example_dataset_satisfies_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema())
    for number, line in enumerate(EXAMPLE.read_text("utf-8").splitlines(), start=1):
        problems = [e.message for e in validator.iter_errors(json.loads(line))]
        assert problems == [], f"line {number}: {problems}"


def test_the_schema_and_the_importer_agree_on_required_fields_per_type() -> None:
    defs = schema()["$defs"]
    for kind in imp.FIELDS:
        assert set(defs[kind]["required"]) == imp.required_fields(kind), kind


def test_the_schema_and_the_importer_agree_on_the_fields_of_each_type() -> None:
    defs = schema()["$defs"]
    for kind, fields in imp.FIELDS.items():
        assert defs[kind]["additionalProperties"] is False
        assert set(defs[kind]["properties"]) == {"type", *(f.name for f in fields), *imp.READ_PAST}
    correctable = set(defs["correction"]["properties"]["set"]["properties"])
    assert correctable == set(CORRECTABLE)


def test_the_schema_and_the_importer_agree_on_the_time_pattern() -> None:
    pattern = schema()["$defs"]["time"]["pattern"]
    assert pattern == f"^{imp.TIME_PATTERN.pattern}$"


#: Rules only the importer can check: across fields, calendar dates, blank text, surrogates.
IMPORTER_ONLY = {
    "unit without value",
    "quote without document",
    "blank text",
    "lone surrogate",
    "impossible date",
    "huge integer",
    "duplicate key",
}


def test_the_schema_refuses_every_bad_record_whose_fault_is_its_shape() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema())
    for name, record, _, _ in BAD_RECORDS:
        if name not in IMPORTER_ONLY:
            assert list(validator.iter_errors(record)), name


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=60)
@given(histories())
def test_every_event_becomes_a_record_that_imports_back_as_the_same_event(
    history: list[list[Any]],
) -> None:
    for event in flatten(history):
        record = json.loads(json.dumps(to_record(event), ensure_ascii=False))
        back = imp.to_event(record)
        assert not isinstance(back, list), back
        assert back == event
        assert to_payload(back) == to_payload(event)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.text(st.characters(categories=["Cs", "Cc", "Zl", "Lo"]), max_size=3)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = sorted({"bogus", *(f.name for fs in imp.FIELDS.values() for f in fs)})
RECORDISH = st.fixed_dictionaries(
    {"type": st.sampled_from([*imp.FIELDS, "nope"])},
    optional={
        name: JSON_VALUES | st.sampled_from(["kcna", "2024-10-21", "assert"])
        for name in FIELD_NAMES
    },
)
FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


def imports_or_refuses(lg: Ledger, data: bytes) -> None:
    with contextlib.suppress(InvalidRecord):
        lg.import_jsonl(io.BytesIO(data), name="fuzz")


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_either_import_or_raise_invalid_record(mem: Ledger, data: bytes) -> None:
    imports_or_refuses(mem, data)


@FUZZ
@given(st.lists(JSON_VALUES | RECORDISH, max_size=6))
def test_arbitrary_json_lines_either_import_or_raise_invalid_record(
    mem: Ledger, values: list[Any]
) -> None:
    data = "\n".join(json.dumps(v) for v in values).encode("utf-8", "surrogatepass")
    imports_or_refuses(mem, data)
    text = "\n".join(json.dumps(v, ensure_ascii=False) for v in values)
    imports_or_refuses(mem, text.encode("utf-8", "surrogatepass"))
