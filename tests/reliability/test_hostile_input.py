"""Hostile input, file by file: the importer's acceptance suite, through the CLI and the API.

``tests/data/bad/`` holds import files that are each bad in exactly one way, at one line; its
README indexes them, and :data:`BAD_FILES` below is the same table (a test keeps the two
equal). Each is imported into a ledger that already holds ``tests/data/good/baseline.jsonl``,
on SQLite and on PostgreSQL: it must be refused with one line on stderr naming ``FILE:LINE``
and the field, exit status 2, and leave the ledger exactly as it was.

``tests/data/good/`` holds files that are valid but unusual (SQL-looking text, right-to-left
scripts, combining marks, emoji, a byte-order mark, CRLF, blank lines, text at its length
limits, an empty file). Each must be accepted and read back exactly: the stored events and
``factledger export`` give back the very strings of the file.

``tests/unit/test_importer.py`` checks the importer's rules one record at a time in memory;
this suite is about whole files, real paths, the command line and both backends.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url
from sqlalchemy import text as sql

from ledger import ImportFailed, InvalidRecord, Ledger
from ledger.jsonl import importer
from ledger.jsonl.exporter import to_record
from tests.cli.conftest import run

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = DATA / "bad"
GOOD = DATA / "good"
BASELINE = GOOD / "baseline.jsonl"
BASELINE_RECORDS = 8

#: file, line, field (None: the line is refused before any field is looked at), and a part of
#: the message. The same table is tests/data/bad/README.md.
BAD_FILES: list[tuple[str, int, str | None, str]] = [
    ("json-truncated.jsonl", 4, None, "is not valid JSON"),
    ("json-single-quotes.jsonl", 4, None, "Expecting property name enclosed in double quotes"),
    ("json-trailing-comma.jsonl", 4, None, "is not valid JSON"),
    ("json-two-records-on-one-line.jsonl", 4, None, "Extra data"),
    ("json-comment-line.jsonl", 4, None, "Expecting value"),
    ("json-duplicate-key.jsonl", 4, "stance", "appears twice in one object"),
    ("not-an-object-array.jsonl", 1, None, "expected a JSON object, got array"),
    ("not-an-object-string.jsonl", 4, None, "expected a JSON object, got string"),
    ("not-an-object-null.jsonl", 4, None, "expected a JSON object, got null"),
    ("deeply-nested.jsonl", 4, None, "nested too deeply"),
    ("nan-value.jsonl", 4, None, "NaN is not a JSON number"),
    ("infinity-value.jsonl", 4, None, "Infinity is not a JSON number"),
    ("number-1e400.jsonl", 4, "value", "inf is not a finite number"),
    ("negative-count.jsonl", 4, "value", "is negative"),
    ("count-above-2-pow-53.jsonl", 4, "value", "too large to store exactly"),
    ("integer-40-digits.jsonl", 4, None, "has 40 digits; too large"),
    ("invalid-utf8.jsonl", 4, None, "is not valid UTF-8: byte 0xe9"),
    ("utf8-encoded-surrogate.jsonl", 4, None, "is not valid UTF-8"),
    ("utf8-overlong.jsonl", 4, None, "is not valid UTF-8: byte 0xc0"),
    ("lone-surrogate.jsonl", 4, "note", "lone surrogate"),
    ("control-char-nul.jsonl", 2, "name", "control character U+0000"),
    ("control-char-raw-escape.jsonl", 4, None, "Invalid control character"),
    ("control-char-escaped-escape.jsonl", 4, "note", "control character U+001B"),
    ("type-number-for-name.jsonl", 2, "name", "expected string, got number"),
    ("type-null-for-required-name.jsonl", 4, "name", "expected string, got null"),
    ("type-string-for-value.jsonl", 4, "value", "expected number or null, got string"),
    ("type-boolean-for-value.jsonl", 4, "value", "got boolean"),
    ("type-string-for-parties.jsonl", 4, "parties", "expected array, got string"),
    ("type-number-for-stated-at.jsonl", 4, "stated_at", "expected string, got number"),
    ("type-object-for-note.jsonl", 4, "note", "expected string or null, got object"),
    ("missing-type.jsonl", 4, "type", "is missing"),
    ("missing-stated-at.jsonl", 4, "stated_at", "is required in a statement record"),
    ("missing-name.jsonl", 4, "name", "is required in a source record"),
    ("unknown-record-type.jsonl", 4, "type", "'claim' is not a record type"),
    ("unknown-stance.jsonl", 4, "stance", "'admit' is not one of"),
    ("unknown-category.jsonl", 2, "category", "'think_tank' is not one of"),
    ("unknown-reliability.jsonl", 1, "reliability", "'G' is not one of: A, B, C, D, E, F"),
    ("unknown-source.jsonl", 4, "source", "names source 'kr-nls', which is neither earlier"),
    (
        "unknown-proposition.jsonl",
        4,
        "proposition",
        "names proposition 'dprk-troops-in-rusia', which is neither",
    ),
    ("unknown-party.jsonl", 4, "parties", "names source 'ru-mod', which is neither"),
    ("unknown-document.jsonl", 4, "document", "names document 'nis-briefing', which is neither"),
    ("unknown-extra-field.jsonl", 4, "confidence", "is not a field of a statement record"),
    ("misspelt-field.jsonl", 4, "unti", "did you mean 'unit'?"),
    ("reference-defined-later.jsonl", 4, "proposition", "defined later, on line 5"),
    ("date-feb-30.jsonl", 6, "stated_at", "day is out of range for month"),
    ("date-feb-29-2023.jsonl", 4, "stated_at", "day is out of range for month"),
    ("date-month-13.jsonl", 4, "stated_at", "month must be in 1..12"),
    ("date-year-0.jsonl", 4, "stated_at", "year 0 is out of range"),
    ("date-day-month-year.jsonl", 4, "stated_at", "is not an ISO date"),
    ("datetime-naive.jsonl", 4, "stated_at", "naive datetime"),
    ("datetime-offset-25-hours.jsonl", 4, "stated_at", "is not an ISO date"),
    ("datetime-offset-without-colon.jsonl", 4, "stated_at", "is not YYYY-MM-DD or YYYY-MM-DDT"),
    ("datetime-hour-24.jsonl", 4, "stated_at", "hour must be in 0..23"),
    ("datetime-space-separator.jsonl", 4, "stated_at", "is not YYYY-MM-DD or YYYY-MM-DDT"),
    (
        "datetime-beyond-year-9999-in-utc.jsonl",
        4,
        "stated_at",
        "falls outside years 1 to 9999 in UTC",
    ),
    ("id-uppercase.jsonl", 4, "id", "'RU-MOD' is not a valid id"),
    ("id-with-space.jsonl", 4, "id", "'nis 1500' is not a valid id"),
    ("id-129-chars.jsonl", 4, "id", "is not a valid id"),
    ("id-empty.jsonl", 4, "id", "'' is not a valid id"),
    ("id-path-traversal.jsonl", 4, "id", "'../../etc/passwd' is not a valid id"),
    ("id-hangul.jsonl", 4, "id", "'조선중앙통신' is not a valid id"),
    (
        "duplicate-id-different-content.jsonl",
        4,
        "id",
        "source 'kcna' is already defined on line 2 with different content",
    ),
    (
        "correction-of-unknown-statement.jsonl",
        5,
        "corrects",
        "names statement 'nis-1600', which is neither",
    ),
    ("correction-both-set-and-withdraw.jsonl", 5, "set", "exactly one"),
    ("correction-sets-an-id.jsonl", 5, "set.id", "is not a correctable field"),
    ("unit-without-value.jsonl", 4, "unit", "a unit without a value"),
    ("quote-without-document.jsonl", 4, "quote", "a quote needs the document"),
    ("document-text-does-not-match-sha256.jsonl", 4, "sha256", "but the text given hashes to"),
    ("blank-name.jsonl", 2, "name", "must not be empty"),
    ("name-over-500-chars.jsonl", 4, "name", "is 501 characters long; at most 500"),
    ("note-1mb.jsonl", 4, "note", "is 1,048,576 characters long; at most 5,000"),
]

#: Run on PostgreSQL too: one file of each kind of check (the whole table runs on SQLite).
#: The checks are the importer's and the same on both; what differs is the store underneath
#: (lookups of references and ids, and text PostgreSQL cannot hold: NUL, lone surrogates).
ON_POSTGRESQL = {
    "json-truncated.jsonl",
    "json-duplicate-key.jsonl",
    "invalid-utf8.jsonl",
    "lone-surrogate.jsonl",
    "control-char-nul.jsonl",
    "number-1e400.jsonl",
    "unknown-stance.jsonl",
    "date-year-0.jsonl",
    "datetime-naive.jsonl",
    "unknown-source.jsonl",
    "duplicate-id-different-content.jsonl",
    "correction-of-unknown-statement.jsonl",
    "note-1mb.jsonl",
}

_RU_MOD = {
    "type": "source",
    "id": "ru-mod",
    "name": "Ministry of Defence of the Russian Federation",
    "category": "military",
    "affiliation": "ru",
}


def _note_1mb() -> bytes:
    """Three valid lines of the baseline, then a source whose note is 1 MiB of text."""
    head = BASELINE.read_bytes().splitlines(keepends=True)[:3]
    record = {**_RU_MOD, "note": "x" * 2**20}
    return b"".join(head) + json.dumps(record).encode() + b"\n"


def _field_name_1mb() -> bytes:
    head = BASELINE.read_bytes().splitlines(keepends=True)[:3]
    record = {**_RU_MOD, "k" * 2**20: 1}
    return b"".join(head) + json.dumps(record).encode() + b"\n"


#: Files too big to commit, written into a temporary directory by the test that needs them.
GENERATED: dict[str, Callable[[], bytes]] = {
    "note-1mb.jsonl": _note_1mb,
    "field-name-1mb.jsonl": _field_name_1mb,
}

#: What may appear on stderr: printable text and the one final line end.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def bad_file(name: str, directory: Path) -> Path:
    """The bad file called ``name``: in tests/data/bad/, or generated into ``directory``."""
    if name in GENERATED:
        path = directory / name
        path.write_bytes(GENERATED[name]())
        return path
    return BAD / name


def checkpoint(url: str) -> dict[str, Any]:
    """``factledger checkpoint --json``: the head's position, hash and recorded_at."""
    result = run(["--db", url, "checkpoint", "--json"])
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def copy_sqlite(source: Path, url: str) -> None:
    """Make the SQLite database at ``url`` a copy of the one at ``source``."""
    target = Path(make_url(url).database or "")
    for suffix in ("", "-wal"):  # a write-ahead log left behind holds committed data too
        if source.with_name(source.name + suffix).exists():
            shutil.copyfile(
                source.with_name(source.name + suffix), target.with_name(target.name + suffix)
            )


@pytest.fixture(scope="session")
def sqlite_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger holding the baseline file, imported once through the CLI; each SQLite
    test starts from a copy (creating and filling a ledger costs more than the test itself)."""
    path = tmp_path_factory.mktemp("baseline") / "baseline.db"
    result = run(["--db", f"sqlite:///{path}", "import", str(BASELINE)])
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def preloaded(ledger_url: str, backend: str, sqlite_baseline: Path) -> str:
    """The ledger at ``ledger_url``, holding the baseline file; its URL."""
    if backend == "sqlite":
        copy_sqlite(sqlite_baseline, ledger_url)
    else:
        result = run(["--db", ledger_url, "import", str(BASELINE)])
        assert result.exit_code == 0, result.stderr
    assert checkpoint(ledger_url)["position"] == BASELINE_RECORDS
    return ledger_url


def _backend_params() -> list[Any]:
    """Every file on SQLite; the files of :data:`ON_POSTGRESQL` on PostgreSQL as well (chosen
    at collection, so CI shows no skipped PostgreSQL case)."""
    out = []
    for case in BAD_FILES:
        stem = case[0].removesuffix(".jsonl")
        out.append(pytest.param("sqlite", *case, id=f"sqlite-{stem}"))
        if case[0] in ON_POSTGRESQL:
            out.append(
                pytest.param(
                    "postgresql", *case, id=f"postgresql-{stem}", marks=pytest.mark.postgresql
                )
            )
    return out


# -- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("databases", "name", "line", "field", "fragment"), _backend_params(), indirect=["databases"]
)
def test_a_bad_file_is_refused_naming_its_line_and_field_and_the_ledger_is_unchanged(
    preloaded: str,
    tmp_path: Path,
    name: str,
    line: int,
    field: str | None,
    fragment: str,
) -> None:
    """Through the CLI (exit 2, one line on stderr), then through the Python API (one
    ``InvalidRecord`` in an ``ImportFailed``); neither appends anything."""
    path = bad_file(name, tmp_path)
    before = checkpoint(preloaded)

    result = run(["--db", preloaded, "import", str(path)])

    assert result.exit_code == 2
    assert result.stdout == ""
    stderr = result.stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"error: cannot import {path}: 1 error, nothing was imported; ")
    at = f"{path}:{line}: "
    assert stderr.count(at) == 1, stderr
    if field is None:
        assert f"{at}field " not in stderr
    else:
        assert f"{at}field {field!r}: " in stderr
    assert fragment in stderr
    assert len(stderr) < 1_000  # never the 1 MiB of input it refused
    assert not _UNPRINTABLE.search(stderr[:-1])  # nor raw control characters
    assert checkpoint(preloaded) == before

    with Ledger.open(preloaded) as lg:
        with pytest.raises(InvalidRecord) as raised:
            lg.import_jsonl(path)

        assert isinstance(raised.value, ImportFailed)
        (only,) = raised.value.errors
        assert isinstance(only, InvalidRecord)
        assert (only.location, only.field) == (f"{path}:{line}", field)
        assert fragment in str(only)
        assert (lg.head().position, lg.head().hash) == (before["position"], before["hash"])
        assert sum(1 for _ in lg.read()) == BASELINE_RECORDS
        assert lg.verify().ok


def test_every_bad_file_is_bad_only_at_its_line(tmp_path: Path) -> None:
    """Without its bad line, each file imports into an empty ledger: one kind of bad each."""
    empty = tmp_path / "empty.db"
    Ledger.open(f"sqlite:///{empty}").close()
    for i, (name, line, _, _) in enumerate(BAD_FILES):
        lines = bad_file(name, tmp_path).read_bytes().split(b"\n")
        del lines[line - 1]
        url = f"sqlite:///{tmp_path / f'{i}.db'}"
        copy_sqlite(empty, url)
        with Ledger.open(url) as lg:
            report = lg.import_jsonl(io.BytesIO(b"\n".join(lines)), name=name)
        assert report.appended >= 3, name


def _readme_tables() -> tuple[list[list[str]], list[list[str]]]:
    """The rows of the index and of the known gaps in tests/data/bad/README.md, as cells."""
    text = (BAD / "README.md").read_text(encoding="utf-8")
    index, _, gaps = text.partition("## Known gaps")

    def rows(section: str) -> list[list[str]]:
        found = []
        for row in section.splitlines():
            if row.startswith("| ") and not row.startswith(("| file ", "|---")):
                found.append([cell.strip() for cell in row.strip().strip("|").split(" | ")])
        return found

    return rows(index), rows(gaps)


NO_FIELD = "\N{EN DASH}"  # the README's field column when no field is to blame


def _unquote(cell: str) -> str:
    return cell.partition(" *(")[0].strip("`")


def test_the_readme_indexes_every_bad_file_with_the_same_line_field_and_message() -> None:
    index, gaps = _readme_tables()
    from_readme = [
        (_unquote(name), int(line), None if field == NO_FIELD else _unquote(field), _unquote(text))
        for name, _, line, field, text in index
    ]
    assert from_readme == BAD_FILES

    committed = {p.name for p in BAD.glob("*.jsonl")}
    indexed = {name for name, *_ in BAD_FILES} | {_unquote(row[0]) for row in gaps}
    assert committed | set(GENERATED) == indexed
    assert len(BAD_FILES) >= 40


# -- gaps found by this suite, since fixed: kept as regression tests ------------------------


def test_an_offset_of_75_minutes_is_refused() -> None:
    path = BAD / "gap-datetime-offset-minutes-75.jsonl"
    with Ledger.open("sqlite://") as lg, pytest.raises(ImportFailed) as raised:
        lg.import_jsonl(path)
    (only,) = raised.value.errors
    assert (only.location, only.field) == (f"{path}:4", "stated_at")


def test_an_unknown_field_with_an_empty_name_is_named_in_the_message() -> None:
    path = BAD / "gap-field-name-empty.jsonl"
    with Ledger.open("sqlite://") as lg, pytest.raises(ImportFailed) as raised:
        lg.import_jsonl(path)
    (only,) = raised.value.errors
    assert only.field == ""
    assert str(only).startswith(f"{path}:4: field '': is not a field of a source record")


def test_an_unknown_field_name_a_megabyte_long_is_not_echoed_whole(tmp_path: Path) -> None:
    path = bad_file("field-name-1mb.jsonl", tmp_path)
    with Ledger.open("sqlite://") as lg, pytest.raises(ImportFailed) as raised:
        lg.import_jsonl(path)
    (only,) = raised.value.errors
    assert only.location == f"{path}:4"
    assert len(str(raised.value)) < 1_000


# -- valid but unusual files -----------------------------------------------------------------

#: Each file and the number of records in it.
GOOD_FILES: list[tuple[str, int]] = [
    ("baseline.jsonl", BASELINE_RECORDS),
    ("sql-injection-strings.jsonl", 6),
    ("rtl-and-combining.jsonl", 5),
    ("emoji.jsonl", 3),
    ("bom.jsonl", 2),
    ("crlf.jsonl", 3),
    ("blank-lines.jsonl", 3),
    ("long-text.jsonl", 4),
    ("line-separators.jsonl", 2),
    ("unicode-escapes.jsonl", 2),
    ("edge-values.jsonl", 11),
    ("document-text-5-million-chars.jsonl", 4),
]
EMPTY_FILES = ["empty.jsonl", "only-blank-lines.jsonl"]


def _document_at_the_limit() -> bytes:
    """A document whose text is exactly 5,000,000 characters (the limit) of 1-, 2- and 3-byte
    UTF-8, and a statement quoting it: too big to commit."""
    text = ("North Korean troops, 북한군, Войска КНДР. " * 130_000)[:5_000_000]
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    records = [
        {"type": "source", "id": "archive", "name": "An archive", "category": "media"},
        {"type": "proposition", "id": "everything", "text": "Everything is in the archive"},
        {"type": "document", "id": "huge", "title": "Everything", "sha256": sha256, "text": text},
        {
            "type": "statement",
            "id": "quoted",
            "source": "archive",
            "proposition": "everything",
            "stance": "assert",
            "stated_at": "2024-10-18",
            "document": "huge",
            "quote": text[-5_000:],
        },
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


#: Valid files too big to commit, written into a temporary directory by the test.
GOOD_GENERATED: dict[str, Callable[[], bytes]] = {
    "document-text-5-million-chars.jsonl": _document_at_the_limit,
}


def good_file(name: str, directory: Path) -> Path:
    if name in GOOD_GENERATED:
        path = directory / name
        path.write_bytes(GOOD_GENERATED[name]())
        return path
    return GOOD / name


TIME_FIELDS = {"stated_at", "published_at"}


def input_records(path: Path) -> list[dict[str, Any]]:
    """The records of a file, read without the importer: BOM dropped, lines split at LF only
    (U+2028 is text, not a line end), CR and blank lines dropped."""
    text = path.read_bytes().decode("utf-8-sig")
    return [json.loads(line) for line in text.split("\n") if line.strip(" \t\r")]


def instant(text: str) -> datetime:
    """A time of the import format as an aware UTC datetime, parsed independently."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return datetime.fromisoformat(text).astimezone(UTC)


def assert_same(given: Any, got: Any, where: str) -> None:
    """``got`` holds exactly what ``given`` (a parsed input value) says: strings equal code
    point for code point, times the same instant, numbers equal, nulls absent or null."""
    if isinstance(given, dict):
        assert isinstance(got, dict), where
        for key, value in given.items():
            assert_same(value, got.get(key), f"{where}.{key}")
    elif isinstance(given, list):
        assert isinstance(got, list) and len(got) == len(given), where
        for i, (a, b) in enumerate(zip(given, got, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(given, str) and where.rsplit(".", 1)[-1] in TIME_FIELDS:
        assert isinstance(got, str) and instant(got) == instant(given), where
    elif isinstance(given, bool) or given is None:
        assert got is given, where
    elif isinstance(given, int | float):
        assert not isinstance(got, bool) and got == given, where
    else:
        assert isinstance(given, str) and isinstance(got, str), where
        assert got == given, where  # code point for code point: str == never normalises


def strings(value: Any) -> Iterator[str]:
    """Every string in a parsed value but times (which the export writes in UTC)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in TIME_FIELDS:
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize(
    ("name", "records"), [pytest.param(*case, id=case[0]) for case in GOOD_FILES]
)
def test_an_unusual_but_valid_file_is_imported_and_read_back_exactly(
    ledger_url: str, tmp_path: Path, name: str, records: int
) -> None:
    path = good_file(name, tmp_path)
    given = input_records(path)
    assert len(given) == records

    result = run(["--db", ledger_url, "import", str(path)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        f"imported {records} records from {path}: {records} appended, 0 already present; "
        f"head {records} "
    )
    with Ledger.open(ledger_url) as lg:
        stored = [to_record(recorded.event) for recorded in lg.read()]
        assert lg.verify().ok
    assert len(stored) == records
    for i, (record, event) in enumerate(zip(given, stored, strict=True), start=1):
        assert_same(record, event, f"{name} record {i}")

    exported = run(["--db", ledger_url, "export"])

    assert exported.exit_code == 0, exported.stderr
    lines = exported.stdout.split("\n")
    assert lines.pop() == ""
    assert len(lines) == records
    for i, (record, line) in enumerate(zip(given, lines, strict=True), start=1):
        assert_same(record, json.loads(line), f"{name} exported line {i}")
        for text in strings(record):  # written as UTF-8, not \u escapes (but U+2028/U+2029)
            spelt = json.dumps(text, ensure_ascii=False)[1:-1]
            assert spelt.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") in line


def test_the_unusual_files_hold_what_their_names_say() -> None:
    """Guards the data: if an editor 'fixed' these files, the tests above would prove less."""
    assert (GOOD / "bom.jsonl").read_bytes().startswith(b"\xef\xbb\xbf{")
    crlf = (GOOD / "crlf.jsonl").read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") == 3
    assert b"\n\n" in (GOOD / "blank-lines.jsonl").read_bytes()
    assert "\u2028".encode() in (GOOD / "line-separators.jsonl").read_bytes()
    assert b"\\ud83d\\udc4d" in (GOOD / "unicode-escapes.jsonl").read_bytes()
    texts = list(strings(input_records(GOOD / "rtl-and-combining.jsonl")))
    assert any(unicodedata.normalize("NFC", t) != t for t in texts)  # decomposed text, kept
    assert any(unicodedata.bidirectional(c) == "AL" for t in texts for c in t)  # Arabic
    assert any(unicodedata.bidirectional(c) == "R" for t in texts for c in t)  # Hebrew
    emoji = "".join(strings(input_records(GOOD / "emoji.jsonl")))
    assert "\u200d" in emoji and any(ord(c) > 0xFFFF for c in emoji)  # ZWJ, astral planes
    assert "DROP TABLE events" in (GOOD / "sql-injection-strings.jsonl").read_text("utf-8")
    long_name = input_records(GOOD / "long-text.jsonl")[0]["name"]
    assert len(long_name) == 500 and len(long_name.encode()) == 2_000


@pytest.mark.parametrize("name", EMPTY_FILES)
def test_an_empty_file_imports_nothing_and_says_so(preloaded: str, name: str) -> None:
    path = GOOD / name
    before = checkpoint(preloaded)

    result = run(["--db", preloaded, "import", str(path)])
    as_json = run(["--db", preloaded, "import", str(path), "--json"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"imported nothing from {path}: it holds no records; "
        f"head {BASELINE_RECORDS} {before['hash'][:12]}…\n"
    )
    report = json.loads(as_json.stdout)
    assert (report["records"], report["appended"], report["skipped"]) == (0, 0, 0)
    assert report["lines"] == path.read_bytes().count(b"\n")
    assert (report["head_position"], report["head_hash"]) == (before["position"], before["hash"])
    assert checkpoint(preloaded) == before


# -- input that never ends, files that are not files, numbers a float cannot hold ------------


def factledger(
    args: list[str], stdin: Any = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    """``factledger ARGS`` in a child process (what a shell runs), which must end in time."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_standard_input_without_end_stops_at_the_line_limit(preloaded: str) -> None:
    """``factledger import - < /dev/zero``: one line that never ends. The line bound applies
    while the line is read, so the import ends, promptly, naming the line."""
    before = checkpoint(preloaded)
    with open("/dev/zero", "rb") as zeros:
        result = factledger(["--db", preloaded, "import", "-"], stdin=zeros)
    assert result.returncode == 2
    assert result.stderr == (
        "error: cannot import <stdin>: 1 error, nothing was imported; <stdin>:1: is longer than "
        f"the limit of {importer.MAX_LINE:,} bytes, and does not end within "
        f"{importer.SKIP_LINE:,} bytes more; reading stopped here\n"
    )
    assert checkpoint(preloaded) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_given_by_name_is_refused_at_once(preloaded: str, tmp_path: Path) -> None:
    """Opening a named pipe waits for a writer: the importer refuses it before opening it."""
    fifo = tmp_path / "deliveries.jsonl"
    os.mkfifo(fifo)
    before = checkpoint(preloaded)
    result = factledger(["--db", preloaded, "import", str(fifo)])
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: cannot import {fifo}: 1 error, nothing was imported; {fifo}: is a named pipe "
        "(FIFO), not a regular file;"
    )
    assert "give it as standard input ('-')" in result.stderr
    assert checkpoint(preloaded) == before


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_given_by_name_is_refused(preloaded: str) -> None:
    before = checkpoint(preloaded)
    result = run(["--db", preloaded, "import", "/dev/zero"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: cannot import /dev/zero: 1 error, nothing was imported; /dev/zero: is a "
        "character device, not a regular file;"
    )
    assert checkpoint(preloaded) == before


def _statement_with_value(text: str) -> bytes:
    """The baseline's first four lines (three sources, a proposition), then a statement whose
    value is written ``text``."""
    head = BASELINE.read_bytes().splitlines(keepends=True)[:4]
    assert json.loads(head[3])["id"] == "dprk-troops-in-russia"
    statement = (
        '{"type": "statement", "id": "tiny-value", "source": "kr-nis", '
        '"proposition": "dprk-troops-in-russia", "stance": "assert", "stated_at": "2024-10-18", '
        f'"value": {text}, "unit": "troops"}}\n'
    )
    return b"".join(head) + statement.encode()


@pytest.mark.parametrize("number", ["1e-400", "-2.5E-330"])
def test_a_number_that_would_be_stored_as_zero_is_refused_at_its_line(
    preloaded: str, tmp_path: Path, number: str
) -> None:
    """``1e-400`` is a JSON number that a float holds as 0: it used to be stored as 0."""
    path = tmp_path / "tiny.jsonl"
    path.write_bytes(_statement_with_value(number))
    before = checkpoint(preloaded)
    result = run(["--db", preloaded, "import", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot import {path}: 1 error, nothing was imported; {path}:5: field 'value': "
        f"{number} is too close to zero to be stored: it would be stored as 0\n"
    )
    assert checkpoint(preloaded) == before


def test_the_smallest_numbers_a_float_holds_are_kept_exactly(
    ledger_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "small.jsonl"
    path.write_bytes(_statement_with_value("5e-324"))
    assert run(["--db", ledger_url, "import", str(path)]).exit_code == 0
    exported = run(["--db", ledger_url, "export"]).stdout.splitlines()
    assert json.loads(exported[-1])["value"] == 5e-324


def test_an_import_the_database_silently_discarded_is_reported_as_a_failure(
    preloaded: str, backend: str, tmp_path: Path
) -> None:
    """An owner-level rule (PostgreSQL) or trigger (SQLite) that turns inserts into nothing:
    the import used to report "1 appended" while nothing was stored."""
    with Ledger.open(preloaded) as lg, lg.store.engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(sql("CREATE RULE r AS ON INSERT TO events DO INSTEAD NOTHING"))
        else:
            conn.execute(
                sql("CREATE TRIGGER r BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END")
            )
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(_RU_MOD) + "\n", encoding="utf-8")
    before = checkpoint(preloaded)
    result = run(["--db", preloaded, "import", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: the database did not store the append: 1 rows were inserted at positions "
        f"{BASELINE_RECORDS + 1} to {BASELINE_RECORDS + 1}, but 0 rows are there"
    )
    assert checkpoint(preloaded) == before
