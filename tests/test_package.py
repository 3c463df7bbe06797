import json
import zipfile

import pytest

from overheard.outputs.package import build_package, verify_package


@pytest.fixture
def package(demo_store, tmp_path):
    out = tmp_path / "evidence.zip"
    manifest = build_package(demo_store, out)
    return out, manifest


def test_package_round_trips_through_verify(package, demo_store):
    out, manifest = package
    rep = verify_package(out)
    assert rep.ok, rep.problems
    assert rep.originals == demo_store.counts()["sources"]
    roles = {m["role"] for m in manifest["members"]}
    assert {"original", "transcript", "findings", "audit", "clip"} <= roles   # the no-water report is audio
    clip_ids = {int(m["path"][6:-4]) for m in manifest["members"] if m["role"] == "clip"}
    audio_findings = {r[0] for r in demo_store.conn.execute(
        "SELECT DISTINCT f.utterance_id FROM findings f JOIN utterances u ON u.id = f.utterance_id"
        " WHERE u.start_s IS NOT NULL")}
    assert clip_ids == audio_findings
    with zipfile.ZipFile(out) as z:
        findings = [json.loads(x) for x in z.read("findings.jsonl").decode().splitlines()]
        assert len(findings) == demo_store.counts()["findings"]
        assert all(len(f["source_sha256"]) == 64 for f in findings)


def _rewrite(src, dst, member, mutate):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = mutate(data)
            zout.writestr(info, data)


def test_one_byte_change_in_any_member_is_caught(package, tmp_path):
    out, manifest = package
    names = [m["path"] for m in manifest["members"]] + ["manifest.json", "manifest.sha256"]
    for name in names:
        bad = tmp_path / "bad.zip"

        def flip(data):
            b = bytearray(data)
            b[len(b) // 2] ^= 0x01
            return bytes(b)
        _rewrite(out, bad, name, flip)
        rep = verify_package(bad)
        assert not rep.ok, f"change in {name} not caught"
        assert any(name in p or "manifest" in p for p in rep.problems), (name, rep.problems)


def test_missing_and_extra_members_are_named(package, tmp_path):
    out, manifest = package
    victim = next(m["path"] for m in manifest["members"] if m["role"] == "original")
    bad = tmp_path / "missing.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            if info.filename != victim:
                zout.writestr(info, zin.read(info.filename))
        zout.writestr("smuggled.txt", b"hello")
    rep = verify_package(bad)
    assert f"{victim}: missing from the package" in rep.problems
    assert "smuggled.txt: in the package but not in the manifest" in rep.problems


def test_cli_package_and_verify(cli, tmp_path):
    from conftest import TEXT_EXAMPLES
    cli("ingest", *TEXT_EXAMPLES)
    cli("analyze")
    out = tmp_path / "p.zip"
    r = cli("export", "--format", "package", "--out", out)
    assert r.exit_code == 0 and out.exists()
    ok = cli("verify", "--package", out)
    assert ok.exit_code == 0 and "OK" in ok.output
    assert cli("export", "--format", "package").exit_code == 2      # needs --out
    garbage = tmp_path / "g.zip"
    garbage.write_bytes(b"not a zip")
    bad = cli("verify", "--package", garbage)
    assert bad.exit_code == 1 and "not a readable zip" in bad.output


def test_package_without_its_originals_or_with_duplicates_fails(package, tmp_path):
    out, manifest = package
    import hashlib
    stripped = tmp_path / "stripped.zip"
    with zipfile.ZipFile(out) as zin:
        m = json.loads(zin.read("manifest.json"))
        m["members"] = [x for x in m["members"] if x["role"] != "original"]
        body = json.dumps(m).encode()
        with zipfile.ZipFile(stripped, "w") as zout:
            for info in zin.infolist():
                if not info.filename.startswith("originals/") and info.filename not in ("manifest.json", "manifest.sha256"):
                    zout.writestr(info, zin.read(info.filename))
            zout.writestr("manifest.json", body)
            zout.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
    rep = verify_package(stripped)
    assert not rep.ok and any("its original is not in the package" in p for p in rep.problems)
    dup = tmp_path / "dup.zip"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out) as zin, zipfile.ZipFile(dup, "w") as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info.filename))
            zout.writestr("findings.jsonl", b"{}\n")
    assert any("more than once" in p for p in verify_package(dup).problems)


def _repack(src, dst, manifest=None, extra=(), drop=()):
    """Copy a package, optionally with a new manifest (and its hash) and extra members."""
    import hashlib
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop or (manifest is not None and info.filename in ("manifest.json", "manifest.sha256")):
                continue
            zout.writestr(info, zin.read(info.filename))
        if manifest is not None:
            body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
            zout.writestr("manifest.json", body)
            zout.writestr("manifest.sha256", f"{hashlib.sha256(body).hexdigest()}  manifest.json\n")
        for name, data in extra:
            zout.writestr(name, data)


@pytest.mark.parametrize("mutate,expect", [
    (lambda m: [m], "not a JSON object"),
    (lambda m: {**m, "members": [1, 2]}, "member 0 is not an object"),
    (lambda m: {**m, "members": [{"sha256": "x", "role": "original"}]}, "member 0 is not an object"),
    (lambda m: {**m, "members": "all"}, "'members' is not a list"),
    (lambda m: {**m, "sources": [{"id": 1}]}, "source 0 has no sha256"),
    (lambda m: {**m, "sources": []}, "holds no sources"),
], ids=["list", "numbers", "no-path", "members-str", "source-no-sha", "empty"])
def test_malformed_manifest_is_one_line_not_a_traceback(package, tmp_path, mutate, expect):
    """Issue 13, Low 6 and 7: malformed manifests and empty packages are refused cleanly."""
    out, manifest = package
    bad = tmp_path / "bad.zip"
    _repack(out, bad, manifest=mutate(dict(manifest)))
    rep = verify_package(bad)
    assert not rep.ok and any(expect in p for p in rep.problems), rep.problems


def test_audit_row_with_wrong_types_is_named(package, tmp_path):
    out, manifest = package
    with zipfile.ZipFile(out) as z:
        rows = [json.loads(l) for l in z.read("audit.jsonl").decode().splitlines()]
    rows[0]["at"] = 12345
    bad = tmp_path / "bad.zip"
    _repack(out, bad, drop={"audit.jsonl"}, extra=[("audit.jsonl", "\n".join(map(json.dumps, rows)).encode())])
    rep = verify_package(bad)
    assert not rep.ok and any("line 1: not an audit row" in p for p in rep.problems), rep.problems


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..\\..\\win", "originals/./y", "C:/evil"])
def test_unsafe_member_names_are_refused(package, tmp_path, name):
    out, _ = package
    bad = tmp_path / "bad.zip"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _repack(out, bad, extra=[(name, b"x")])
    rep = verify_package(bad)
    assert not rep.ok and any("unsafe member name" in p for p in rep.problems), rep.problems


def test_zip_bomb_member_is_refused_without_reading_it(package, tmp_path):
    """Issue 13, Medium 3: a highly compressed huge member is refused from its header, and
    members are hashed in chunks (memory stays flat)."""
    import resource
    out, _ = package
    bad = tmp_path / "bomb.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        with zout.open("clips/bomb.ogg", "w", force_zip64=True) as fh:
            block = b"\0" * 2**20
            for _ in range(200):                      # 200 MiB of zeros, ~200 KB compressed
                fh.write(block)
    assert bad.stat().st_size < 5 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rep = verify_package(bad)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert not rep.ok and any("compression-ratio cap" in p for p in rep.problems), rep.problems
    assert grew_mb < 100, grew_mb
