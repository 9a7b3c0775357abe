"""AWS export folders: finding the export, checking the manifests, reading every item exactly."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbkit.errors import ValidationError
from ddbkit.formats._common import BadLineError, items_only
from ddbkit.formats.awsexport import (
    DataFile,
    find_export,
    is_export_folder,
    open_export,
    parse_files_manifest,
    read_export_folder,
)
from tests.support.awsexport import (
    BUCKET,
    EXPORT_ID,
    PREFIX,
    BuiltExport,
    build_export,
    ddb_json_line,
    every_type_items,
    rewrite_manifest,
)
from tests.unit.test_formats import tagged

SUMMARY = "manifest-summary.json"
FILES = "manifest-files.json"


@pytest.fixture
def built(tmp_path: Path) -> BuiltExport:
    return build_export(tmp_path / "sync", every_type_items(30), files=3)


def read_all(path: Path) -> list[tuple[int, Any]]:
    return list(read_export_folder(path))


def one_line_error(path: Path, match: str) -> str:
    """Open (and read) the export at ``path``; the ValidationError's message, checked."""
    with pytest.raises(ValidationError, match=match) as caught:
        read_all(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def set_data_file(built: BuiltExport, index: int, body: bytes) -> None:
    """Replace data file ``index`` by ``body``, keeping its manifest md5 right."""
    built.data_files[index].write_bytes(body)
    digest = base64.b64encode(hashlib.md5(body).digest()).decode()

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[index]["md5Checksum"] = digest
        return entries

    rewrite_manifest(built.folder, FILES, change)


# ---------------------------------------------------------------------------------------------
# Finding the export


def test_every_layout_reads_every_item_exactly(built: BuiltExport) -> None:
    want = sorted((tagged(item) for chunk in built.items_per_file for item in chunk), key=repr)
    assert len(want) == 30
    layouts = [built.folder, built.folder / SUMMARY, built.folder.parent, built.root]
    for path in layouts:
        assert is_export_folder(path)
        assert find_export(path) == built.folder
        records = read_all(path)
        assert sorted((tagged(item) for _, item in records), key=repr) == want
        assert [line for line, _ in records] == list(range(1, 31))


def test_items_come_in_manifest_order_with_exact_values(built: BuiltExport) -> None:
    records = read_all(built.folder)
    want = [item for chunk in built.items_per_file for item in chunk]
    assert [tagged(item) for _, item in records] == [tagged(item) for item in want]
    first = records[0][1]
    assert str(first["big"]) == "12345678901234567890123456789012345678"
    assert first["rare"] == Decimal("1.2345678901234567890123E+100")
    by_id = {item["id"]: item for _, item in records}
    assert by_id["item-0001"]["rare"] == Decimal("-1E-130")
    assert "rare" not in by_id["item-0002"]
    assert first["names"] == {"s0", "shared"}
    assert first["raw"] == bytes([0, 0, 255, 0])
    assert first["nothing"] is None


def test_the_files_manifest_is_found_by_manifest_files_s3_key(built: BuiltExport) -> None:
    (built.folder / FILES).rename(built.folder / "files-x.json")
    rewrite_manifest(
        built.folder, SUMMARY, lambda s: {**s, "manifestFilesS3Key": "p/AWSDynamoDB/x/files-x.json"}
    )
    assert len(read_all(built.folder)) == 30


@pytest.mark.parametrize("kind", ["missing", "file", "empty dir", "holder without exports"])
def test_what_is_not_an_export_is_said_so(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x"
    if kind == "file":
        path.write_text('{"Item": {"id": {"S": "a"}}}\n')
    elif kind == "empty dir":
        path.mkdir()
    elif kind == "holder without exports":
        (path / "AWSDynamoDB" / "data").mkdir(parents=True)
    assert not is_export_folder(path)
    message = one_line_error(path, "holds no DynamoDB export")
    assert SUMMARY in message


def test_several_exports_are_listed_and_one_must_be_named(tmp_path: Path) -> None:
    first = build_export(tmp_path, every_type_items(3), export_id="01700000000000-aaaaaaaa")
    build_export(tmp_path, every_type_items(4), export_id="01700000000001-bbbbbbbb")
    for path in (tmp_path, first.folder.parent):
        assert is_export_folder(path)
        message = one_line_error(path, "holds 2 exports")
        assert "01700000000000-aaaaaaaa" in message and "01700000000001-bbbbbbbb" in message
        assert "name one" in message
    assert len(read_all(first.folder)) == 3


# ---------------------------------------------------------------------------------------------
# Refusing what is not complete


def test_a_missing_data_file_is_named_with_the_sync_command(built: BuiltExport) -> None:
    built.data_files[1].unlink()
    message = one_line_error(built.root, "1 data file is listed in manifest-files.json but missing")
    assert f"data/{built.data_files[1].name}" in message
    assert f"s3://{BUCKET}/{PREFIX}/AWSDynamoDB/{EXPORT_ID}/" in message


def test_a_missing_data_file_is_refused_before_any_item_is_read(built: BuiltExport) -> None:
    built.data_files[-2].unlink()
    built.data_files[-1].unlink()
    with pytest.raises(ValidationError, match="2 data files are listed"):
        read_export_folder(built.folder)  # raises on the call, not on the first next()


def test_summary_count_not_matching_the_files_is_refused(built: BuiltExport) -> None:
    rewrite_manifest(built.folder, SUMMARY, lambda s: {**s, "itemCount": 31})
    message = one_line_error(built.folder, "lists 30 items but manifest-summary.json says 31")
    assert "download the export again" in message


def test_a_file_holding_fewer_items_than_listed_raises_at_its_end(built: BuiltExport) -> None:
    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[0]["itemCount"] += 1
        return entries

    rewrite_manifest(built.folder, FILES, change)
    rewrite_manifest(built.folder, SUMMARY, lambda s: {**s, "itemCount": 31})
    got: list[Any] = []
    with pytest.raises(ValidationError, match="holds 10 items but manifest-files.json says 11"):
        got.extend(read_export_folder(built.folder))
    assert len(got) == 10  # the first file's records, and nothing after the mismatch


def test_a_file_holding_more_items_than_listed_raises(built: BuiltExport) -> None:
    extra = built.items_per_file[2] + [{"id": "extra"}]
    set_data_file(built, 2, gzip.compress(b"".join(ddb_json_line(i) for i in extra)))
    message = one_line_error(built.folder, "holds 11 items but manifest-files.json says 10")
    assert f"data/{built.data_files[2].name}" in message


def test_a_damaged_data_file_fails_its_md5_before_anything_is_read(built: BuiltExport) -> None:
    body = built.data_files[1].read_bytes()
    built.data_files[1].write_bytes(body[: len(body) // 2])  # a cut-short download
    message = one_line_error(built.folder, "does not match its md5Checksum")
    assert f"data/{built.data_files[1].name}" in message


def test_without_checksums_a_cut_short_file_still_raises_naming_it(built: BuiltExport) -> None:
    body = built.data_files[1].read_bytes()
    built.data_files[1].write_bytes(body[: len(body) // 2])
    export = open_export(built.folder, checksums=False)
    with pytest.raises(ValidationError, match=f"data/{built.data_files[1].name}") as caught:
        list(export.records())
    assert "corrupt or cut short" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        (SUMMARY, b"{not json", "manifest-summary.json is damaged: invalid JSON"),
        (SUMMARY, b"[1, 2]", "a JSON list, not an object"),
        (SUMMARY, b'{"outputFormat": "DYNAMODB_JSON"}', '"itemCount" is None'),
        (SUMMARY, b'{"itemCount": -1}', '"itemCount" is -1'),
        (SUMMARY, b'{"itemCount": true}', '"itemCount" is True'),
        (SUMMARY, b'{"itemCount": 30, "outputFormat": "CSV"}', "unknown \"outputFormat\" 'CSV'"),
        (SUMMARY, b'{"itemCount": 30, "manifestFilesS3Key": 7}', '"manifestFilesS3Key" is 7'),
        (FILES, b'{"itemCount": 1\n', "line 1 is not JSON"),
        (FILES, b'\n["a"]\n', "line 2 is a JSON list"),
        (FILES, b'{"itemCount": 30}\n', 'line 1 has "dataFileS3Key" None'),
        (FILES, b'{"itemCount": 30, "dataFileS3Key": "x/a.json.gz"}\n', "ending in data/<file>"),
        (FILES, b'{"itemCount": 30, "dataFileS3Key": "data/.."}\n', "ending in data/<file>"),
        (FILES, b'{"itemCount": "30", "dataFileS3Key": "data/a.gz"}\n', "\"itemCount\" '30'"),
        (
            FILES,
            b'{"itemCount": 30, "dataFileS3Key": "data/a.gz", "md5Checksum": "abc"}\n',
            "not a base64 MD5 digest",
        ),
        (
            FILES,
            b'{"itemCount": 15, "dataFileS3Key": "a/data/x.gz"}\n'
            b'{"itemCount": 15, "dataFileS3Key": "b/data/x.gz"}\n',
            "line 2 lists data/x.gz a second time",
        ),
    ],
)
def test_a_damaged_manifest_is_named_with_the_fix(
    built: BuiltExport, name: str, content: bytes, match: str
) -> None:
    (built.folder / name).write_bytes(content)
    message = one_line_error(built.folder, match)
    assert str(built.folder / name) in message
    assert message.endswith("download the export again")


def test_a_missing_files_manifest_is_named(built: BuiltExport) -> None:
    (built.folder / FILES).unlink()
    one_line_error(built.folder, f"{FILES} is missing: the export is incomplete")


# ---------------------------------------------------------------------------------------------
# Other kinds of export


@pytest.mark.parametrize("field", ["outputFormat", "exportFormat"])
def test_an_ion_export_is_refused_naming_dynamodb_json(tmp_path: Path, field: str) -> None:
    built = build_export(tmp_path, every_type_items(3), output_format="ION")
    if field == "exportFormat":
        rewrite_manifest(
            built.folder,
            SUMMARY,
            lambda s: {k: v for k, v in s.items() if k != "outputFormat"} | {field: "ION"},
        )
    message = one_line_error(tmp_path, "Amazon Ion export, which ddbkit does not read")
    assert "DYNAMODB_JSON" in message


def test_ion_data_files_are_refused_even_without_the_format_field(built: BuiltExport) -> None:
    rewrite_manifest(
        built.folder, SUMMARY, lambda s: {k: v for k, v in s.items() if k != "outputFormat"}
    )

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[0]["dataFileS3Key"] = entries[0]["dataFileS3Key"].replace(".json.gz", ".ion.gz")
        return entries

    rewrite_manifest(built.folder, FILES, change)
    one_line_error(built.folder, "Amazon Ion export")


def test_an_incremental_export_is_refused(built: BuiltExport) -> None:
    rewrite_manifest(built.folder, SUMMARY, lambda s: {**s, "exportType": "INCREMENTAL_EXPORT"})
    one_line_error(built.folder, "INCREMENTAL_EXPORT export .* import a full export")


# ---------------------------------------------------------------------------------------------
# Where a record is


def test_a_bad_line_names_its_file_and_line_and_reading_goes_on(built: BuiltExport) -> None:
    lines = [ddb_json_line(item) for item in built.items_per_file[1]]
    lines[3] = b'{"Item": {"id": {"S": "x"}, "n": {"N": "not a number"}}}\n'
    set_data_file(built, 1, gzip.compress(b"".join(lines)))
    export = open_export(built.root)
    records = list(export.records())
    assert len(records) == 30
    bad = [(line, item) for line, item in records if isinstance(item, BadLineError)]
    assert len(bad) == 1
    line, error = bad[0]
    assert line == 10 + 4 == error.line  # the first file's 10 lines, then line 4 of the second
    assert str(error).startswith(f"line 14: data/{built.data_files[1].name} line 4: ")
    located = export.locate(14)
    assert located is not None
    assert (located[0].path, located[1]) == (built.data_files[1], 4)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=5))
def test_line_numbers_count_on_across_files_and_locate_finds_them(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int]
) -> None:
    root = tmp_path_factory.mktemp("export")
    items = every_type_items(sum(sizes))
    built = build_export(root, items, files=1)
    # re-split the one data file into files of the drawn sizes
    shutil.rmtree(built.folder / "data")
    (built.folder / "data").mkdir()
    entries, start = [], 0
    for k, size in enumerate(sizes):
        body = gzip.compress(b"".join(ddb_json_line(i) for i in items[start : start + size]))
        (built.folder / "data" / f"f{k}.json.gz").write_bytes(body)
        digest = base64.b64encode(hashlib.md5(body).digest()).decode()
        key = f"AWSDynamoDB/{EXPORT_ID}/data/f{k}.json.gz"
        entries.append({"itemCount": size, "md5Checksum": digest, "dataFileS3Key": key})
        start += size
    rewrite_manifest(built.folder, FILES, lambda _: entries)
    export = open_export(root)
    records = list(items_only(export.records()))
    assert [line for line, _ in records] == list(range(1, len(items) + 1))
    assert [item["id"] for _, item in records] == [item["id"] for item in items]
    position = 0
    for k, size in enumerate(sizes):
        for local in range(1, size + 1):
            position += 1
            located = export.locate(position)
            assert located is not None
            assert (located[0].path.name, located[1]) == (f"f{k}.json.gz", local)


# ---------------------------------------------------------------------------------------------
# The files manifest parser


manifest_entries: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "itemCount": st.integers(min_value=0, max_value=10**12),
        "dataFileS3Key": st.from_regex(
            r"([a-zA-Z0-9-]{1,8}/){0,3}data/[a-z0-9]{1,26}\.json\.gz", fullmatch=True
        ),
    },
    optional={
        "md5Checksum": st.binary(min_size=16, max_size=16).map(
            lambda d: base64.b64encode(d).decode()
        ),
        "etag": st.text(max_size=10),
    },
)


@given(
    st.lists(manifest_entries, max_size=6, unique_by=lambda e: e["dataFileS3Key"].rsplit("/", 1)[1])
)
def test_files_manifest_lines_parse_to_their_data_files(listed: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(entry) + "\n" for entry in listed).encode()
    files = parse_files_manifest(data, Path("/e"))
    assert [f.key for f in files] == [e["dataFileS3Key"] for e in listed]
    assert [f.item_count for f in files] == [e["itemCount"] for e in listed]
    assert [f.path for f in files] == [
        Path("/e/data") / e["dataFileS3Key"].rsplit("/", 1)[1] for e in listed
    ]
    for f, e in zip(files, listed, strict=True):
        want = base64.b64decode(e["md5Checksum"]) if "md5Checksum" in e else None
        assert f.md5 == want


@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.one_of(
                manifest_entries.map(json.dumps),
                st.dictionaries(
                    st.sampled_from(["itemCount", "dataFileS3Key", "md5Checksum"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=12), st.booleans()),
                ).map(json.dumps),
            ),
            max_size=4,
        ).map(lambda lines: "\n".join(lines).encode()),
    )
)
def test_any_files_manifest_parses_or_raises_a_one_line_validation_error(data: bytes) -> None:
    try:
        result: list[DataFile] | ValidationError = parse_files_manifest(data, Path("/e"))
    except ValidationError as error:
        result = error
    if isinstance(result, ValidationError):
        assert "\n" not in str(result)
        assert str(result).endswith("download the export again")
    else:
        assert all(f.path.parent == Path("/e/data") and f.item_count >= 0 for f in result)


def test_describe_says_what_was_checked(built: BuiltExport) -> None:
    assert open_export(built.root).describe() == (
        "AWS export of Things at 2026-11-20T07:28:34.028Z: 30 items in 4 data files, "
        "manifests and checksums verified"
    )
    assert (
        open_export(built.root, checksums=False)
        .describe()
        .endswith("manifests (not checksums) verified")
    )
