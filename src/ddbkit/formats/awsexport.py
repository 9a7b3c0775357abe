"""DynamoDB's own "Export to S3" folders (full export, DynamoDB JSON), read as AWS lays them out.

The layout (AWS docs, "DynamoDB table export output format"), once synced to a local folder::

    [export-prefix/]AWSDynamoDB/<ExportId>/
        manifest-summary.json   one JSON object: "itemCount" (items in the export),
                                "outputFormat" ("DYNAMODB_JSON" or "ION"), "manifestFilesS3Key",
                                "exportType" ("FULL_EXPORT" or "INCREMENTAL_EXPORT", newer
                                exports), "s3Bucket", "s3Prefix", "tableArn", "exportTime", ...
        manifest-files.json     JSON Lines, one object per data file: "itemCount",
                                "md5Checksum" (base64 MD5 of the file's bytes as stored),
                                "etag", "dataFileS3Key" (".../<ExportId>/data/<name>.json.gz")
        data/<name>.json.gz     gzipped lines of {"Item": {...DynamoDB JSON...}}; a partition
                                with no items still gets a file (itemCount 0)
        _started, *.checksum    markers; not read

A path names an export when it is the ``<ExportId>`` folder itself, its
``manifest-summary.json``, the ``AWSDynamoDB`` folder holding exactly one export, or the folder
holding ``AWSDynamoDB``. Data file keys map to local files by their trailing ``data/<name>``.

Everything that can be checked without reading items is checked when the export is opened,
before the first record: the manifests parse, the format is DynamoDB JSON and the export is a
full one, the files' item counts add up to the summary's, every data file is there, and each
file's bytes match its md5Checksum (so a damaged or cut-short download is refused before any
item is written anywhere). While reading, each file's record count is checked against its
itemCount when the file ends, and a mismatch raises there: nothing is read past it.

Records are ``(line, item | BadLineError)`` as every reader yields (see
:mod:`ddbkit.formats._common`). ``line`` counts on from file to file in manifest order, so it is
unique in the export: a file's line k is line k plus the lines of the files before it. A bad
line's message names its file and its line in that file; :meth:`Export.locate` maps any line
number back to both.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final, TypeGuard

import orjson

from ddbkit.errors import ValidationError
from ddbkit.formats._common import BadLineError, Record
from ddbkit.formats.ddbjson import read_ddb_json

__all__ = [
    "DataFile",
    "Export",
    "find_export",
    "is_export_folder",
    "open_export",
    "parse_files_manifest",
    "read_export_folder",
]

SUMMARY: Final = "manifest-summary.json"
FILES: Final = "manifest-files.json"
EXPORTS_DIR: Final = "AWSDynamoDB"
_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class DataFile:
    """One data file of an export, as manifest-files.json lists it."""

    key: str
    """Its S3 key (``dataFileS3Key``)."""
    path: Path
    """Where it is on disk: ``<export folder>/data/<name>``."""
    item_count: int
    md5: bytes | None
    """The MD5 digest of its bytes (``md5Checksum`` decoded), when the manifest gives one."""

    @property
    def label(self) -> str:
        """How messages name it: ``data/<name>``, as it sits in the export folder."""
        return f"data/{self.path.name}"


@dataclass
class Export:
    """An export folder whose manifests have been read and checked; read it with :meth:`records`."""

    folder: Path
    item_count: int
    files: list[DataFile]
    summary: dict[str, Any]
    """manifest-summary.json as it is (tableArn, exportTime, s3Bucket, ...)."""
    checksums: bool
    """Whether every data file's md5Checksum was matched when the export was opened."""
    _starts: list[int] = field(default_factory=list, init=False, repr=False)

    @property
    def table_arn(self) -> str | None:
        value = self.summary.get("tableArn")
        return value if isinstance(value, str) else None

    @property
    def export_time(self) -> str | None:
        value = self.summary.get("exportTime")
        return value if isinstance(value, str) else None

    def records(self) -> Iterator[Record]:
        """``(line, item | BadLineError)`` for every line of every data file, in manifest order.

        Raises ``ValidationError`` when a file holds more or fewer records than its itemCount
        (checked as the file ends) or cannot be read on (corrupt gzip data).
        """
        self._starts = []
        offset = 0
        for data_file in self.files:
            self._starts.append(offset)
            last_line, count = 0, 0
            with data_file.path.open("rb") as stream:
                for line, item in _file_records(data_file, stream):
                    last_line, count = line, count + 1
                    if isinstance(item, BadLineError):
                        item = BadLineError(offset + line, f"{data_file.label} {item}")
                    yield offset + line, item
            if count != data_file.item_count:
                raise ValidationError(
                    f"{data_file.label} in {self.folder} holds {count} items but "
                    f"{FILES} says {data_file.item_count}: the export is damaged; "
                    "download it again"
                )
            offset += last_line

    def locate(self, line: int) -> tuple[DataFile, int] | None:
        """The data file and its own line number for line ``line`` of the export.

        Known for the files :meth:`records` has begun; None before that or for ``line < 1``.
        """
        if line < 1 or not self._starts:
            return None
        index = bisect.bisect_left(self._starts, line) - 1
        return self.files[index], line - self._starts[index]

    def describe(self) -> str:
        """One line: what the export is (for explain and logs)."""
        table = self.table_arn.rsplit("/", 1)[-1] if self.table_arn else "a table"
        when = f" at {self.export_time}" if self.export_time else ""
        checked = "manifests and checksums" if self.checksums else "manifests (not checksums)"
        return (
            f"AWS export of {table}{when}: {self.item_count} items in "
            f"{len(self.files)} data files, {checked} verified"
        )


def is_export_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an AWS export in one of the accepted layouts (see the module notes).

    True also for an ``AWSDynamoDB`` folder holding several exports, so that reading it says
    which ones there are. Never raises.
    """
    try:
        return bool(_candidates(Path(path)))
    except OSError:
        return False


def find_export(path: str | os.PathLike[str]) -> Path:
    """The export folder (the one holding manifest-summary.json) that ``path`` names."""
    given = Path(path)
    try:
        found = _candidates(given)
    except OSError as error:
        raise ValidationError(f"cannot read {given}: {error.strerror or error}") from None
    if not found:
        raise ValidationError(
            f"{given} holds no DynamoDB export: point at the folder holding {SUMMARY} "
            f"(.../{EXPORTS_DIR}/<ExportId>), at {EXPORTS_DIR}/, or at the folder above it"
        )
    if len(found) > 1:
        names = ", ".join(folder.name for folder in found)
        raise ValidationError(
            f"{found[0].parent} holds {len(found)} exports ({names}): name one, e.g. {found[-1]}"
        )
    return found[0]


def _candidates(given: Path) -> list[Path]:
    """Export folders ``given`` may mean: itself, its summary's folder, or those below it."""
    if given.is_file():
        return [given.parent] if given.name == SUMMARY else []
    if not given.is_dir():
        return []
    if (given / SUMMARY).is_file():
        return [given]
    holder = given if given.name == EXPORTS_DIR else given / EXPORTS_DIR
    if not holder.is_dir():
        return []
    return sorted(child for child in holder.iterdir() if (child / SUMMARY).is_file())


def open_export(path: str | os.PathLike[str], *, checksums: bool = True) -> Export:
    """Find the export ``path`` names, read its manifests, and check everything but item counts.

    ``checksums`` (default on) reads every data file once to match its md5Checksum; turn it off
    only for files re-compressed after download, whose bytes differ but whose items do not.
    Raises ``ValidationError`` with a one-line reason and fix.
    """
    folder = find_export(path)
    summary = _read_summary(folder)
    _check_kind(folder, summary)
    item_count = summary["itemCount"]
    files_name = _files_manifest_name(folder, summary)
    files = parse_files_manifest(_read_bytes(folder / files_name), folder)
    listed = sum(data_file.item_count for data_file in files)
    if listed != item_count:
        raise ValidationError(
            f"{folder / files_name} lists {listed} items but {SUMMARY} says {item_count}: "
            "the manifests do not match; download the export again"
        )
    if any(data_file.key.endswith((".ion", ".ion.gz")) for data_file in files):
        raise _ion_error(folder)
    missing = [data_file for data_file in files if not data_file.path.is_file()]
    if missing:
        some = "1 data file is" if len(missing) == 1 else f"{len(missing)} data files are"
        raise ValidationError(
            f"{some} listed in {files_name} but missing from {folder / 'data'} "
            f"(first: {missing[0].label}): download the whole export again"
            f"{_sync_hint(folder, summary)}"
        )
    if checksums:
        for data_file in files:
            _check_md5(data_file)
    return Export(folder, item_count, files, summary, checksums)


def read_export_folder(
    path: str | os.PathLike[str],
    *,
    types: Mapping[str, str] | None = None,
    checksums: bool = True,
) -> Iterator[Record]:
    """The records of the export ``path`` names; every check but item counts runs before this
    returns, so a broken export raises here, before anything is read.

    ``types`` is accepted for a uniform reader signature and ignored, as in ddb-json.
    """
    del types
    return open_export(path, checksums=checksums).records()


# ---------------------------------------------------------------------------------------------
# Manifests


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            f"{path} is missing: the export is incomplete; download the whole export folder"
        ) from None
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}") from None


def _read_summary(folder: Path) -> dict[str, Any]:
    path = folder / SUMMARY
    try:
        summary = orjson.loads(_read_bytes(path))
    except orjson.JSONDecodeError as error:
        raise _damaged(path, f"invalid JSON ({error})") from None
    if type(summary) is not dict:
        raise _damaged(path, f"a JSON {type(summary).__name__}, not an object")
    if not _is_count(summary.get("itemCount")):
        raise _damaged(path, f'"itemCount" is {summary.get("itemCount")!r}, not a count')
    return summary


def _check_kind(folder: Path, summary: dict[str, Any]) -> None:
    """Refuse what is not a full DynamoDB JSON export, naming the export that would do."""
    # AWS writes "outputFormat"; "exportFormat" is the name the ExportTable API gives it.
    output = summary.get("outputFormat", summary.get("exportFormat", "DYNAMODB_JSON"))
    if output == "ION":
        raise _ion_error(folder)
    if output != "DYNAMODB_JSON":
        raise _damaged(folder / SUMMARY, f'unknown "outputFormat" {output!r}')
    kind = summary.get("exportType", "FULL_EXPORT")
    if kind != "FULL_EXPORT":
        raise ValidationError(
            f"{folder} is an {kind} export (changes between two times, not the table's items): "
            "import a full export (--export-type FULL_EXPORT) instead"
        )


def _files_manifest_name(folder: Path, summary: dict[str, Any]) -> str:
    """The files manifest's name: the last part of "manifestFilesS3Key", else the usual one."""
    key = summary.get("manifestFilesS3Key")
    if key is None:
        return FILES
    name = PurePosixPath(key).name if isinstance(key, str) else ""
    if not name or name in (".", ".."):
        raise _damaged(folder / SUMMARY, f'"manifestFilesS3Key" is {key!r}, not a file key')
    return name


def parse_files_manifest(data: bytes, folder: Path) -> list[DataFile]:
    """The data files manifest-files.json (``data``) lists, mapped into ``folder``.

    Raises ``ValidationError`` naming the line for anything that is not a data file entry,
    and for a data file listed twice.
    """
    path = folder / FILES
    files: list[DataFile] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise _damaged(path, f"line {number} is not JSON ({error})") from None
        data_file = _entry(entry, folder, path, number)
        if data_file.path.name in seen:
            raise _damaged(path, f"line {number} lists {data_file.label} a second time")
        seen.add(data_file.path.name)
        files.append(data_file)
    return files


def _entry(entry: Any, folder: Path, manifest: Path, number: int) -> DataFile:
    def bad(why: str) -> ValidationError:
        return _damaged(manifest, f"line {number} {why}")

    if type(entry) is not dict:
        raise bad(f"is a JSON {type(entry).__name__}, not an object")
    key = entry.get("dataFileS3Key")
    parts = PurePosixPath(key).parts if isinstance(key, str) else ()
    # Only the trailing data/<name> says where the file is: the keys' leading parts (prefix,
    # AWSDynamoDB, export id) are S3's, not this folder's.
    if not isinstance(key, str) or len(parts) < 2 or parts[-2] != "data" or parts[-1] == "..":
        raise bad(f'has "dataFileS3Key" {key!r}, not a key ending in data/<file>')
    count = entry.get("itemCount")
    if not _is_count(count):
        raise bad(f'has "itemCount" {count!r}, not a count')
    md5 = entry.get("md5Checksum")
    digest = None
    if md5 is not None:
        try:
            digest = base64.b64decode(md5, validate=True) if isinstance(md5, str) else b""
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            raise bad(f'has "md5Checksum" {md5!r}, not a base64 MD5 digest')
    return DataFile(key, folder / "data" / parts[-1], count, digest)


def _is_count(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 0


def _damaged(path: Path, why: str) -> ValidationError:
    return ValidationError(f"{path} is damaged: {why}; download the export again")


def _ion_error(folder: Path) -> ValidationError:
    return ValidationError(
        f"{folder} is an Amazon Ion export, which ddbkit does not read: export the table again "
        "with export format DynamoDB JSON (--export-format DYNAMODB_JSON)"
    )


def _sync_hint(folder: Path, summary: dict[str, Any]) -> str:
    """`` (aws s3 sync s3://bucket/prefix/AWSDynamoDB/<id>/ <folder>)`` when the summary says
    where the export is; empty otherwise."""
    bucket, prefix = summary.get("s3Bucket"), summary.get("s3Prefix")
    if not isinstance(bucket, str) or not bucket:
        return ""
    lead = f"{prefix.strip('/')}/" if isinstance(prefix, str) and prefix.strip("/") else ""
    return f" (aws s3 sync s3://{bucket}/{lead}{EXPORTS_DIR}/{folder.name}/ {folder})"


# ---------------------------------------------------------------------------------------------
# Data files


def _check_md5(data_file: DataFile) -> None:
    if data_file.md5 is None:
        return
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with data_file.path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise ValidationError(f"cannot read {data_file.path}: {error.strerror or error}") from None
    if digest.digest() != data_file.md5:
        raise ValidationError(
            f"{data_file.label} in {data_file.path.parent.parent} does not match its "
            f"md5Checksum in {FILES} (damaged or cut short): download the export again"
        )


def _file_records(data_file: DataFile, stream: IO[bytes]) -> Iterator[Record]:
    """The ddb-json reader's records of one data file; its hard errors name the file."""
    reader = read_ddb_json(stream)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except ValidationError as error:
            raise ValidationError(
                f"{data_file.label} in {data_file.path.parent.parent}: {error}; "
                "download the export again"
            ) from None
        yield record
