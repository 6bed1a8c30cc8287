"""The Django admin's data schemas: an invalid JSON Schema is refused with its error, a
new schema needs an account, a change that assets would no longer satisfy is refused,
and the built-in schema is read-only."""

from __future__ import annotations

import json

import pytest

from assets.models import DataSchema
from tests.web.conftest import PRICE_SCHEMA, SCHEMAS, form_fields

pytestmark = pytest.mark.django_db


# --- data schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "error"),
    [
        ('{"type": "nonsense"}', "not a valid JSON Schema (draft 2020-12)"),
        ('{"type": "object", "properties": {"a": {"minimum": "zero"}}}', "at properties/a/minimum"),
        ('["type", "object"]', "must be a JSON Schema object"),
        ('{"type": ', "Enter a valid JSON."),
    ],
)
def test_adding_an_invalid_json_schema_shows_the_error_and_saves_nothing(web, acme_user, schema, error):
    count = DataSchema.objects.count()
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account=str(acme_user.membership.account.id), name="bad", schema=schema)
    response = web.post(f"{SCHEMAS}add/", fields)
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert list(form_errors) == ["schema"], form_errors
    assert error in " ".join(form_errors["schema"])
    assert len(form_errors["schema"]) == 1
    assert DataSchema.objects.count() == count


def test_adding_a_valid_schema_saves_it(web, acme_user):
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account=str(acme_user.membership.account.id), name="priced", schema=json.dumps(PRICE_SCHEMA))
    assert web.post(f"{SCHEMAS}add/", fields).status_code == 302
    saved = DataSchema.objects.get(name="priced")
    assert saved.schema == PRICE_SCHEMA and saved.account == acme_user.membership.account


def test_a_new_schema_needs_an_account(web, acme_user):
    count = DataSchema.objects.count()
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account="", name="global", schema='{"type": "object"}')
    response = web.post(f"{SCHEMAS}add/", fields)
    assert response.status_code == 200 and "account" in response.context["adminform"].form.errors
    assert DataSchema.objects.count() == count


def test_changing_a_schema_is_validated_and_refused_when_assets_would_break(web, priced):
    schema = priced.data_schema
    url = f"{SCHEMAS}{schema.id}/change/"
    fields = form_fields(web.get(url).content)
    assert json.loads(fields["schema"]) == PRICE_SCHEMA
    assert fields["schema"] == json.dumps(DataSchema.objects.get(id=schema.id).schema, indent=2)

    fields["schema"] = '{"type": "object", "required": ["sku"]}'  # the asset has no sku
    response = web.post(url, fields)
    assert response.status_code == 200
    assert f"1 asset(s) using data schema {schema.id} would no longer satisfy it (first: {priced.id})" in " ".join(
        response.context["adminform"].form.errors["schema"]
    )
    fields["schema"] = '{"type": "nonsense"}'
    response = web.post(url, fields)
    assert "not a valid JSON Schema" in " ".join(response.context["adminform"].form.errors["schema"])
    assert DataSchema.objects.get(id=schema.id).schema == PRICE_SCHEMA

    fields["schema"] = '{"type": "object", "required": ["price"]}'
    assert web.post(url, fields).status_code == 302
    assert DataSchema.objects.get(id=schema.id).schema == {"type": "object", "required": ["price"]}


def test_the_builtin_schema_is_read_only(web):
    builtin = DataSchema.objects.get(id=0)
    before = (builtin.name, builtin.schema)
    page = web.get(f"{SCHEMAS}0/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    response = web.post(f"{SCHEMAS}0/change/", {"name": "hacked", "schema": "{}"})
    assert response.status_code == 403
    assert web.post(f"{SCHEMAS}0/delete/", {"post": "yes"}).status_code == 403
    builtin.refresh_from_db()
    assert (builtin.name, builtin.schema) == before
