"""Build export folders as DynamoDB's "Export to S3" writes them, for the tests.

The layout follows AWS's "DynamoDB table export output format": manifest-summary.json,
manifest-files.json (JSON Lines with the real base64 MD5 of each data file's bytes), gzipped
``{"Item": ...}`` lines under data/, an empty data file for an empty partition, and the
``_started`` and ``*.checksum`` files AWS leaves next to the manifests.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ddbkit.values.serialize import from_item, to_item

EXPORT_ID = "01700000000000-a1b2c3d4"
BUCKET = "ddbkit-test-exports"
PREFIX = "nightly"


@dataclass
class BuiltExport:
    root: Path
    """The folder holding AWSDynamoDB/ (what ``aws s3 sync s3://bucket/prefix/ root`` gives)."""
    folder: Path
    """root/AWSDynamoDB/<ExportId>: the folder holding manifest-summary.json."""
    data_files: list[Path]
    """In manifest order."""
    items_per_file: list[list[dict[str, Any]]]
    """The items of each data file, as a reader must give them back (integral numbers as int)."""


def every_type_items(n: int = 30) -> list[dict[str, Any]]:
    """Items with every DynamoDB type, numbers at the edges of what DynamoDB stores exactly."""
    items: list[dict[str, Any]] = []
    for i in range(n):
        item: dict[str, Any] = {
            "id": f"item-{i:04d}",
            "text": f"naïve ☃ text {i}",
            # 38 significant digits: beyond a double, within DECIMAL(38)
            "big": Decimal(12345678901234567890123456789012345678 - i),
            "small": Decimal(f"0.{i:02d}00000000000000000000000000000000001"),
            "whole": -(10**18) * (i + 1),
            "raw": bytes([i, 0, 255, i % 7]),
            "flag": i % 2 == 0,
            "nothing": None,
            "doc": {"name": f"n{i}", "nested": {"depth": Decimal("2.5"), "ok": True}},
            "seq": ["a", Decimal(i), {"k": [b"\x00\x01"]}, None],
            "names": {f"s{i}", "shared"},
            "scores": {Decimal("1.5"), Decimal(i + 1), Decimal("-9.999999999999999999")},
            "blobs": {b"\x01", bytes([i + 2])},
        }
        # beyond DECIMAL(38) and a double: SQL keeps these exact only as JSON number text
        if i % 3 == 0:
            item["rare"] = Decimal("1.2345678901234567890123E+100")
        elif i % 3 == 1:
            item["rare"] = Decimal("-1E-130")
        items.append(item)
    return items


def _b64(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)


def ddb_json_line(item: dict[str, Any]) -> bytes:
    return orjson.dumps({"Item": to_item(item)}, default=_b64) + b"\n"


def build_export(
    root: Path,
    items: list[dict[str, Any]],
    *,
    files: int = 3,
    export_id: str = EXPORT_ID,
    output_format: str = "DYNAMODB_JSON",
) -> BuiltExport:
    """Write ``items`` as an export under ``root/AWSDynamoDB/<export_id>``, in ``files`` data
    files (round robin) plus one empty file for an empty partition."""
    folder = root / "AWSDynamoDB" / export_id
    data = folder / "data"
    data.mkdir(parents=True)
    (folder / "_started").write_bytes(b"")
    chunks: list[list[dict[str, Any]]] = [items[k::files] for k in range(files)] + [[]]
    entries: list[dict[str, Any]] = []
    paths: list[Path] = []
    for k, chunk in enumerate(chunks):
        name = hashlib.sha1(f"{export_id}-{k}".encode()).hexdigest()[:26] + ".json.gz"
        path = data / name
        body = gzip.compress(b"".join(ddb_json_line(item) for item in chunk), mtime=0)
        path.write_bytes(body)
        paths.append(path)
        digest = hashlib.md5(body).digest()
        entries.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(digest).decode("ascii"),
                "etag": hashlib.md5(digest).hexdigest() + "-1",
                "dataFileS3Key": f"{PREFIX}/AWSDynamoDB/{export_id}/data/{name}",
            }
        )
    manifest = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
    (folder / "manifest-files.json").write_bytes(manifest)
    (folder / "manifest-files.checksum").write_text(hashlib.md5(manifest).hexdigest())
    summary = {
        "version": "2020-06-30",
        "exportArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/Things/export/{export_id}",
        "startTime": "2026-11-20T07:28:34.028Z",
        "endTime": "2026-11-20T07:33:43.897Z",
        "tableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Things",
        "tableId": "12345a12-abcd-123a-ab12-1234abc12345",
        "exportTime": "2026-11-20T07:28:34.028Z",
        "s3Bucket": BUCKET,
        "s3Prefix": PREFIX,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"{PREFIX}/AWSDynamoDB/{export_id}/manifest-files.json",
        "billedSizeBytes": 0,
        "itemCount": len(items),
        "outputFormat": output_format,
        "exportType": "FULL_EXPORT",
    }
    text = json.dumps(summary, indent=2).encode()
    (folder / "manifest-summary.json").write_bytes(text)
    (folder / "manifest-summary.checksum").write_text(hashlib.md5(text).hexdigest())
    read_back = [[from_item(to_item(item)) for item in chunk] for chunk in chunks]
    return BuiltExport(root, folder, paths, read_back)


def rewrite_manifest(folder: Path, name: str, change: Any) -> None:
    """Apply ``change`` to manifest ``name`` (the summary dict, or the list of file entries)."""
    path = folder / name
    if name == "manifest-summary.json":
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
        return
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(entry) + "\n" for entry in change(entries)))
