import json
import os
from pathlib import Path

import pytest

from govhub.problems import GovhubError
from govhub.warehouse.landing import Landing, read_part


def test_landed_file_is_kept_byte_for_byte_at_its_content_address(settings, people, tmp_path):
    upload = tmp_path / "人口.xlsx"
    upload.write_bytes(b"PK\x03\x04 workbook bytes")
    receipt = Landing(settings).land_file(people, upload, received_by="zhang", source="upload")

    import hashlib

    sha = hashlib.sha256(b"PK\x03\x04 workbook bytes").hexdigest()
    blob = settings.landing_dir / "civil" / "people" / sha[:2] / f"{sha}.xlsx"
    assert receipt.sha256 == sha and receipt.path == str(blob)
    assert blob.read_bytes() == b"PK\x03\x04 workbook bytes"
    assert receipt.size == len(b"PK\x03\x04 workbook bytes") and receipt.filename == "人口.xlsx"
    stored = json.loads(Path(receipt.receipt_path).read_text(encoding="utf-8"))
    assert stored["received_by"] == "zhang" and stored["source"] == "upload" and stored["kind"] == "file"
    assert stored["received_at"].endswith("+00:00")


def test_same_content_twice_is_one_blob_and_two_receipts(settings, people, tmp_path):
    landing = Landing(settings)
    (tmp_path / "a.csv").write_bytes(b"id,name\n1,a\n")
    first = landing.land_file(people, tmp_path / "a.csv", received_by="zhang", source="upload")
    second = landing.land_bytes(people, b"id,name\n1,a\n", filename="b.csv", received_by="li", source="api")
    assert first.path == second.path
    assert first.receipt_path != second.receipt_path
    blobs = [p for p in (settings.landing_dir / "civil" / "people").rglob("*.csv")]
    assert len(blobs) == 1
    assert [r.received_by for r in landing.receipts(people)] == ["zhang", "li"]


def test_landing_never_overwrites_an_existing_blob(settings, people):
    landing = Landing(settings)
    receipt = landing.land_bytes(people, b"original", filename="x.json", received_by="a", source="s")
    # even if someone tampered with permissions, landing the same address again leaves the bytes alone
    os.chmod(receipt.path, 0o644)
    with open(receipt.path, "wb") as f:
        f.write(b"tampered")
    again = landing.land_bytes(people, b"original", filename="x.json", received_by="a", source="s")
    assert Path(again.path).read_bytes() == b"tampered"  # nothing rewritten: landing is append-only
    assert len(landing.receipts(people)) == 2


def test_landed_blob_is_read_only(settings, people):
    receipt = Landing(settings).land_bytes(people, b"abc", filename="p.json", received_by="a", source="s")
    assert os.stat(receipt.path).st_mode & 0o222 == 0


def test_missing_file_is_a_readable_error(settings, people, tmp_path):
    with pytest.raises(GovhubError) as err:
        Landing(settings).land_file(people, tmp_path / "nope.xlsx", received_by="a", source="upload")
    assert "找不到" in err.value.problems[0].message_zh


def test_sink_lands_pages_as_one_bundle_whose_manifest_identifies_the_input(settings, people):
    landing = Landing(settings)

    def pull(pages):
        sink = landing.sink(people, received_by="scheduler", source="http://api/people")
        for i, page in enumerate(pages):
            sink.write(f"page-{i:04d}.json", page)
        return sink.close()

    first = pull([b'{"data":[1]}', b'{"data":[2]}'])
    same = pull([b'{"data":[1]}', b'{"data":[2]}'])
    other = pull([b'{"data":[1]}', b'{"data":[3]}'])
    assert first.kind == "bundle" and len(first.parts) == 2 and first.size == 24
    assert first.sha256 == same.sha256 != other.sha256
    manifest = json.loads(Path(first.path).read_text(encoding="utf-8"))
    assert [p["name"] for p in manifest["parts"]] == ["page-0000.json", "page-0001.json"]
    for part in first.parts:
        assert os.path.exists(part["path"])
    assert [read_part(p) for p in first.parts] == [b'{"data":[1]}', b'{"data":[2]}']
    assert len(landing.receipts(people)) == 3


def test_pulled_pages_land_byte_for_byte_in_one_tar_bundle_named_by_the_manifest(settings, people):
    import hashlib
    import tarfile

    pages = [os.urandom(700), b"", '{"名称": "松江"}'.encode(), os.urandom(1024)]
    sink = Landing(settings).sink(people, received_by="scheduler", source="api")
    for i, page in enumerate(pages):
        sink.write(f"page-{i:06d}.json", page)
    receipt = sink.close()
    bundles = {p["path"] for p in receipt.parts}
    assert len(bundles) == 1  # one file, one fsync per pull
    bundle = Path(bundles.pop())
    assert bundle.suffix == ".tar" and bundle.stem == hashlib.sha256(bundle.read_bytes()).hexdigest()
    with tarfile.open(bundle) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [f"page-{i:06d}.json" for i in range(4)]
        assert [tar.extractfile(m).read() for m in members] == pages
    manifest = json.loads(Path(receipt.path).read_text(encoding="utf-8"))
    assert manifest["bundle"] == {"format": "tar", "sha256": bundle.stem}
    assert [p["sha256"] for p in manifest["parts"]] == [hashlib.sha256(p).hexdigest() for p in pages]
    assert [read_part(p) for p in receipt.parts] == pages
    assert not list((settings.landing_dir / "civil" / "people" / ".incoming").iterdir())


def test_an_identical_pull_reuses_the_landed_bundle(settings, people):
    landing = Landing(settings)
    receipts = []
    for _ in range(2):
        sink = landing.sink(people, received_by="scheduler", source="api")
        sink.write("page-000001.json", b'{"data": [1, 2]}')
        receipts.append(sink.close())
    assert receipts[0].sha256 == receipts[1].sha256
    assert receipts[0].parts[0]["path"] == receipts[1].parts[0]["path"]
    assert len(list((settings.landing_dir / "civil" / "people").rglob("*.tar"))) == 1


LAND_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from govhub.config import get_settings
from govhub.warehouse.landing import Landing
from conftest import make_resource

home, upload = Path(sys.argv[1]), Path(sys.argv[2])
Landing(get_settings(home, home / "catalog")).land_file(make_resource(), upload, received_by="t", source="upload")
"""


def _land_killed_while_copying(settings, upload: Path) -> int:
    """Run `land_file` in a child process, SIGKILL it once the bytes are copied (before the blob is linked in)."""
    import signal
    import subprocess
    import sys
    import time

    marker = settings.home / "paused-landing"
    script = settings.home / "_land_script.py"
    script.write_text(LAND_SCRIPT.format(tests=str(Path(__file__).parent)))
    env = {**os.environ, "GOVHUB_TEST_PAUSE_AT": "landing_copied", "GOVHUB_TEST_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(settings.home), str(upload)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "land_file never reached the pause point"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def test_a_landing_killed_mid_copy_leaves_a_part_that_the_next_landing_sweeps(settings, people, tmp_path):
    upload = tmp_path / "upload.csv"
    upload.write_bytes(b"person_id,name\n" + b"P0000001,x\n" * 200_000)  # 2 MB: two chunks
    pid = _land_killed_while_copying(settings, upload)
    incoming = settings.landing_dir / "civil" / "people" / ".incoming"
    (left,) = incoming.glob("*.part")
    assert left.name.startswith(f"{pid}-") and left.stat().st_size == upload.stat().st_size
    assert not list((settings.landing_dir / "civil" / "people").rglob("*.csv"))  # never linked in
    # a partial file of a writer that is alive (this process) is not touched
    mine = incoming / f"{os.getpid()}-0123456789ab.part"
    mine.write_bytes(b"still being written")
    receipt = Landing(settings).land_file(people, upload, received_by="zhang", source="upload")
    assert Path(receipt.path).read_bytes() == upload.read_bytes()
    assert sorted(incoming.iterdir()) == [mine]


def test_a_backup_sweeps_dead_partial_files_and_never_archives_incoming(settings, people, tmp_path):
    import tarfile

    from govhub.warehouse.backup import create_backup
    from tests.warehouse.conftest import make_catalog

    upload = tmp_path / "upload.csv"
    upload.write_bytes(b"person_id,name\nP1,x\n")
    Landing(settings).land_file(people, upload, received_by="zhang", source="upload")
    pid = _land_killed_while_copying(settings, upload)
    incoming = settings.landing_dir / "civil" / "people" / ".incoming"
    mine = incoming / f"{os.getpid()}-0123456789ab.part"
    mine.write_bytes(b"still being written")
    assert (incoming / mine.name).exists() and any(p.name.startswith(f"{pid}-") for p in incoming.iterdir())
    half = settings.hub_dir / "_meta" / "loads" / f".x.json.{pid}.abc123.tmp"  # a record cut off mid-write
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_text("{half")
    create_backup(settings, make_catalog(people), tmp_path / "b.tar")
    assert sorted(incoming.iterdir()) == [mine]  # the dead writer's file swept, the live one's kept
    assert not half.exists()
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = tar.getnames()
    assert any(n.endswith(".csv") for n in names) and not any(".incoming" in n for n in names)
    assert not any(n.endswith(".tmp") for n in names)
