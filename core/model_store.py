"""The installed models: `<name>.onnx` files in the model folder (U2NET_HOME). No Django.

Listing is cheap: the SHA-256 of each file is computed once per process and kept while
the file's size, modification time and inode stay the same, and the input size is read
from the file's header (core.onnx_input), never by loading the model.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from core.model_catalogue import is_catalogued, pipeline_for
from core.onnx_input import OnnxFormatError, onnx_first_input

SUFFIX = ".onnx"

_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


@dataclass(frozen=True)
class ModelFile:
    name: str
    file: str
    size: int
    sha256: str
    input_size: tuple[int, int] | None  # (width, height), None when not fixed or unreadable
    pipeline: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file": self.file,
            "size": self.size,
            "checksum": self.sha256,
            "input_size": list(self.input_size) if self.input_size else None,
        }


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file's bytes, read in 1 MiB blocks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def model_path(home: Path, name: str) -> Path:
    return Path(home) / f"{name}{SUFFIX}"


def installed_names(home: Path) -> set[str]:
    """The names of the model files in `home` (a directory listing; nothing is read)."""
    folder = Path(home)
    if not folder.is_dir():
        return set()
    return {entry.name[: -len(SUFFIX)] for entry in folder.iterdir() if entry.name.endswith(SUFFIX) and entry.is_file()}


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    digest = _digests.get(key)
    if digest is None:
        digest = file_digest(path, "sha256")
        with _digests_lock:
            _digests[key] = digest
    return digest


def model_pipeline(name: str, path: Path) -> str:
    """Which code runs the model file `path` named `name` (core.model_catalogue.pipeline_for);
    only a custom model's file is read, for its input size."""
    return pipeline_for(name, None if is_catalogued(name) else _input_size(path))


def _input_size(path: Path) -> tuple[int, int] | None:
    try:
        return onnx_first_input(path).image_size
    except (OnnxFormatError, OSError):
        return None


def model_file(home: Path, name: str) -> ModelFile | None:
    """What is installed under `name`, or None."""
    path = model_path(home, name)
    if not path.is_file():
        return None
    size = _input_size(path)
    return ModelFile(
        name=name, file=path.name, size=path.stat().st_size, sha256=_sha256(path), input_size=size,
        pipeline=pipeline_for(name, size),
    )


def model_files(home: Path) -> list[ModelFile]:
    """Every installed model, by name."""
    return [found for name in sorted(installed_names(home)) if (found := model_file(home, name)) is not None]
