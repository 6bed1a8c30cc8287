"""assets.services called directly, as the API, the admin and the jobs call them: creating,
deleting and updating assets, saving and deleting conversions, replacing and deleting data
schemas. Each test asserts on the rows and on the files under the test's MEDIA_ROOT (real
images from tests/images.py); a file that a transaction drops goes only once it commits
(django_capture_on_commit_callbacks runs those callbacks as a real commit would).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from assets import services
from assets.errors import ApiError, Conflict, FieldError, Forbidden, NotFound
from assets.models import DEFAULT_SCHEMA_ID, Asset, Conversion, DataSchema, Role
from assets.services.schemas import schema_replacement_problem
from core.imaging import image_describe
from tests.assets.conftest import PRODUCT_SCHEMA, VALID_PRODUCT, file_of, make_schema, sha256
from tests.conftest import add_conversion, make_asset, stored_files
from tests.images import jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db

JPEG = jpeg_bytes("chelsea", (90, 60))
PNG = png_bytes("rocket", (40, 30))


def relative(media_root, paths) -> set[str]:
    return {str(p.relative_to(media_root)) for p in paths}


def backdate(asset: Asset) -> datetime:
    """Set the asset's update_time an hour back, so a later change of it is visible."""
    earlier = timezone.now() - timedelta(hours=1)
    Asset.objects.filter(pk=asset.pk).update(update_time=earlier)
    return earlier


@pytest.fixture
def user(make_user):
    return make_user(Role.ADMIN)[0]


@pytest.fixture
def outsider(make_user):
    """An ADMIN of another account."""
    return make_user(Role.ADMIN, account="globex")[0]


# --- asset_create ---------------------------------------------------------------------------


def test_asset_create_stores_the_bytes_and_a_row_described_by_the_info(user, media_root):
    account = user.membership.account
    asset = services.asset_create(
        account=account, user=user, content=ContentFile(JPEG), info=image_describe(JPEG), name="cat.jpg"
    )

    row = Asset.objects.get(pk=asset.pk)
    assert (row.account, row.created_by, row.name) == (account, user, "cat.jpg")
    assert (row.content_type, row.width, row.height) == ("image/jpeg", 90, 60)
    assert (row.size, row.checksum) == (len(JPEG), sha256(JPEG))
    assert (row.data, row.data_schema_id, row.source_asset_id) == ({}, DEFAULT_SCHEMA_ID, None)
    assert row.file.name == f"accounts/{account.id}/assets/{row.id}/original.jpg"
    assert stored_files(media_root) == [media_root / row.file.name]
    assert file_of(media_root, row).read_bytes() == JPEG


def test_asset_create_with_an_asset_id_uses_it_and_without_a_user_has_no_creator(user, media_root):
    wanted = "0123456789abcdef0123456789abcdef"
    asset = services.asset_create(
        account=user.membership.account, user=None, content=ContentFile(PNG), info=image_describe(PNG),
        name="made.png", asset_id=wanted,
    )
    row = Asset.objects.get(pk=wanted)
    assert row.created_by is None
    assert row.file.name.endswith(f"/assets/{wanted}/original.png")
    assert file_of(media_root, row).read_bytes() == PNG
    assert asset.pk == wanted


def test_asset_create_with_data_satisfying_the_schema_stores_both(user, media_root):
    schema = make_schema(user)
    asset = make_asset(user, "mug.png", PNG, data=VALID_PRODUCT, data_schema=schema)
    row = Asset.objects.get(pk=asset.pk)
    assert (row.data, row.data_schema_id) == (VALID_PRODUCT, schema.id)


def test_asset_create_with_data_violating_the_schema_stores_nothing(user, media_root):
    schema = make_schema(user)
    with pytest.raises(ApiError) as refused:
        services.asset_create(
            account=user.membership.account, user=user, content=ContentFile(PNG), info=image_describe(PNG),
            name="mug.png", data={"sku": "nope"}, data_schema=schema,
        )
    assert refused.value.code == "schema_violation"
    assert set(refused.value.errors) == {"data", "data.sku"}  # title missing, sku not matching
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_asset_create_whose_row_fails_validation_removes_the_file_again(user, media_root):
    with pytest.raises(ValidationError) as refused:
        services.asset_create(
            account=user.membership.account, user=user, content=ContentFile(JPEG), info=image_describe(JPEG),
            name="cat.jpg", source_asset_id="NOT-A-HEX-ID",
        )
    assert "source_asset_id" in refused.value.message_dict
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


# --- asset_delete and assets_delete ---------------------------------------------------------


def test_asset_delete_removes_rows_now_and_files_on_commit_and_keeps_derived_assets(
    user, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(user, "source.jpg", JPEG)
    conversion = add_conversion(asset, "thumb", PNG)
    derived = make_asset(user, "derived.png", PNG, source=asset)
    gone = {media_root / asset.file.name, media_root / conversion.file.name}

    with django_capture_on_commit_callbacks(execute=True):
        services.asset_delete(user=user, asset_id=asset.id)
        assert not Asset.objects.filter(pk=asset.pk).exists()
        assert all(path.exists() for path in gone)  # not before the commit

    assert not Conversion.objects.filter(asset_id=asset.id).exists()
    assert not any(path.exists() for path in gone)
    assert stored_files(media_root) == [media_root / derived.file.name]
    assert Asset.objects.get(pk=derived.pk).source_asset_id == asset.id  # dangling, kept


def test_asset_delete_of_another_accounts_asset_is_not_found_and_changes_nothing(
    user, outsider, media_root, django_capture_on_commit_callbacks
):
    theirs = make_asset(outsider, "theirs.jpg", JPEG)
    before = stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotFound) as refused:
        services.asset_delete(user=user, asset_id=theirs.id)
    assert refused.value.code == "asset_not_found"
    assert Asset.objects.filter(pk=theirs.pk).exists()
    assert stored_files(media_root) == before


def test_assets_delete_removes_exactly_the_given_assets_with_their_conversions_and_files(
    user, outsider, media_root, django_capture_on_commit_callbacks
):
    first = make_asset(user, "first.jpg", JPEG)
    second = make_asset(outsider, "second.jpg", JPEG)  # the admin deletes across accounts
    kept = make_asset(user, "kept.jpg", JPEG)
    add_conversion(first, "thumb", PNG)
    add_conversion(second, "thumb", PNG)
    kept_conversion = add_conversion(kept, "thumb", PNG)

    with django_capture_on_commit_callbacks(execute=True):
        services.assets_delete(ids=[first.id, second.id, "f" * 32])  # an unknown id is ignored

    assert list(Asset.objects.values_list("id", flat=True)) == [kept.id]
    assert list(Conversion.objects.values_list("pk", flat=True)) == [kept_conversion.pk]
    assert relative(media_root, stored_files(media_root)) == {kept.file.name, kept_conversion.file.name}


def test_assets_delete_of_no_ids_changes_nothing(user, media_root, django_capture_on_commit_callbacks):
    asset = make_asset(user, "cat.jpg", JPEG)
    with django_capture_on_commit_callbacks(execute=True):
        services.assets_delete(ids=[])
    assert Asset.objects.filter(pk=asset.pk).exists()
    assert stored_files(media_root) == [media_root / asset.file.name]


# --- asset_data_update ----------------------------------------------------------------------


def test_asset_data_update_append_merges_shallowly_and_touches_update_time(user):
    asset = make_asset(user, "cat.jpg", JPEG, data={"a": {"x": 1}, "keep": 1})
    earlier = backdate(asset)
    returned = services.asset_data_update(
        user=user, asset_id=asset.id, data={"a": {"y": 2}, "new": 3}, mode="APPEND"
    )
    row = Asset.objects.get(pk=asset.pk)
    assert row.data == returned.data == {"a": {"y": 2}, "keep": 1, "new": 3}
    assert row.data_schema_id == DEFAULT_SCHEMA_ID
    assert row.update_time > earlier


def test_asset_data_update_replace_swaps_the_object_and_can_switch_the_schema(user):
    schema = make_schema(user)
    asset = make_asset(user, "mug.jpg", JPEG, data={"old": True})
    services.asset_data_update(
        user=user, asset_id=asset.id, data=VALID_PRODUCT, mode="REPLACE", data_schema_id=schema.id
    )
    row = Asset.objects.get(pk=asset.pk)
    assert (row.data, row.data_schema_id) == (VALID_PRODUCT, schema.id)


def test_asset_data_update_violating_the_schema_changes_nothing(user):
    schema = make_schema(user)
    asset = make_asset(user, "mug.jpg", JPEG, data=VALID_PRODUCT, data_schema=schema)
    earlier = backdate(asset)
    with pytest.raises(ApiError) as refused:
        services.asset_data_update(user=user, asset_id=asset.id, data={"price": -1}, mode="APPEND")
    assert refused.value.code == "schema_violation"
    assert set(refused.value.errors) == {"data.price"}
    row = Asset.objects.get(pk=asset.pk)
    assert (row.data, row.data_schema_id, row.update_time) == (VALID_PRODUCT, schema.id, earlier)


def test_asset_data_update_naming_another_accounts_schema_is_a_field_error(user, outsider):
    foreign = make_schema(outsider, schema={"type": "object"})
    asset = make_asset(user, "cat.jpg", JPEG, data={"a": 1})
    with pytest.raises(FieldError) as refused:
        services.asset_data_update(user=user, asset_id=asset.id, data={}, mode="APPEND", data_schema_id=foreign.id)
    assert (refused.value.field, refused.value.code) == ("data_schema_id", "schema_not_found")
    row = Asset.objects.get(pk=asset.pk)
    assert (row.data, row.data_schema_id) == ({"a": 1}, DEFAULT_SCHEMA_ID)


def test_asset_data_update_of_another_accounts_asset_is_not_found(user, outsider):
    theirs = make_asset(outsider, "theirs.jpg", JPEG, data={"a": 1})
    with pytest.raises(NotFound):
        services.asset_data_update(user=user, asset_id=theirs.id, data={"b": 2}, mode="REPLACE")
    assert Asset.objects.get(pk=theirs.pk).data == {"a": 1}


# --- conversion_save and conversion_delete --------------------------------------------------


def test_conversion_save_stores_a_new_conversion_and_touches_the_asset(user, media_root):
    asset = make_asset(user, "cat.jpg", JPEG)
    earlier = backdate(asset)
    conversion = services.conversion_save(
        asset=asset, name="thumb", content=ContentFile(PNG), info=image_describe(PNG)
    )

    row = Conversion.objects.get(asset=asset, name="thumb")
    assert row.pk == conversion.pk
    assert (row.content_type, row.width, row.height, row.size, row.checksum) == (
        "image/png", 40, 30, len(PNG), sha256(PNG)
    )
    assert row.file.name.startswith(f"accounts/{asset.account_id}/assets/{asset.id}/conversions/thumb-")
    assert row.file.name.endswith(".png")
    assert file_of(media_root, row).read_bytes() == PNG
    assert relative(media_root, stored_files(media_root)) == {asset.file.name, row.file.name}
    assert Asset.objects.get(pk=asset.pk).update_time > earlier


def test_conversion_save_with_a_token_writes_the_tokens_path(user, media_root):
    asset = make_asset(user, "cat.jpg", JPEG)
    conversion = services.conversion_save(
        asset=asset, name="cut", content=ContentFile(PNG), info=image_describe(PNG), token="job1-item0"
    )
    assert conversion.file.name == f"accounts/{asset.account_id}/assets/{asset.id}/conversions/cut-job1-item0.png"
    assert file_of(media_root, conversion).read_bytes() == PNG


def test_conversion_save_again_replaces_the_row_and_deletes_the_old_file_on_commit(
    user, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(user, "cat.jpg", JPEG)
    old = add_conversion(asset, "thumb", PNG)
    old_file = media_root / old.file.name
    newer = png_bytes("coffee", (20, 10))

    with django_capture_on_commit_callbacks(execute=True):
        services.conversion_save(asset=asset, name="thumb", content=ContentFile(newer), info=image_describe(newer))
        assert old_file.exists()  # not before the commit

    row = Conversion.objects.get(asset=asset, name="thumb")
    assert Conversion.objects.filter(asset=asset).count() == 1
    assert row.pk == old.pk and row.file.name != old.file.name
    assert (row.width, row.height, row.size, row.checksum) == (20, 10, len(newer), sha256(newer))
    assert not old_file.exists()
    assert relative(media_root, stored_files(media_root)) == {asset.file.name, row.file.name}


@pytest.mark.parametrize("name", ["original", "bad name!", "x" * 31])
def test_conversion_save_under_a_bad_name_writes_nothing(user, media_root, name):
    asset = make_asset(user, "cat.jpg", JPEG)
    with pytest.raises(FieldError):
        services.conversion_save(asset=asset, name=name, content=ContentFile(PNG), info=image_describe(PNG))
    assert not Conversion.objects.exists()
    assert stored_files(media_root) == [media_root / asset.file.name]


def test_conversion_delete_removes_the_row_now_and_the_file_on_commit(
    user, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(user, "cat.jpg", JPEG)
    gone = add_conversion(asset, "thumb", PNG)
    kept = add_conversion(asset, "cut", png_bytes("coffee", (20, 10)))
    earlier = backdate(asset)

    with django_capture_on_commit_callbacks(execute=True):
        services.conversion_delete(user=user, asset_id=asset.id, name="thumb")
        assert (media_root / gone.file.name).exists()  # not before the commit

    assert list(Conversion.objects.filter(asset=asset).values_list("name", flat=True)) == ["cut"]
    assert relative(media_root, stored_files(media_root)) == {asset.file.name, kept.file.name}
    assert Asset.objects.get(pk=asset.pk).update_time > earlier


def test_conversion_delete_refuses_the_original_an_unknown_name_and_another_account(
    user, outsider, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(user, "cat.jpg", JPEG)
    add_conversion(asset, "thumb", PNG)
    theirs = make_asset(outsider, "theirs.jpg", JPEG)
    add_conversion(theirs, "thumb", PNG)
    before = stored_files(media_root)

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(FieldError) as original:
            services.conversion_delete(user=user, asset_id=asset.id, name="original")
        with pytest.raises(NotFound) as unknown:
            services.conversion_delete(user=user, asset_id=asset.id, name="nope")
        with pytest.raises(NotFound) as foreign:
            services.conversion_delete(user=user, asset_id=theirs.id, name="thumb")

    assert original.value.field == "name"
    assert unknown.value.code == "conversion_not_found"
    assert foreign.value.code == "asset_not_found"
    assert Conversion.objects.count() == 2
    assert stored_files(media_root) == before


# --- schema_replacement_problem, schema_update, schema_delete --------------------------------


def test_schema_replacement_problem_names_the_assets_that_would_break(user):
    schema = make_schema(user)
    breaking = make_asset(user, "a.jpg", JPEG, data=VALID_PRODUCT, data_schema=schema)
    make_asset(user, "b.jpg", JPEG, data={"no": "sku"})  # schema 0: not checked
    stricter = {**PRODUCT_SCHEMA, "required": ["sku", "title", "weight"]}
    looser = {**PRODUCT_SCHEMA, "required": ["sku"]}

    problem = schema_replacement_problem(schema_id=schema.id, schema=stricter)
    assert problem is not None
    assert f"1 asset(s) using data schema {schema.id}" in problem and breaking.id in problem
    assert schema_replacement_problem(schema_id=schema.id, schema=looser) is None
    assert DataSchema.objects.get(pk=schema.id).schema == PRODUCT_SCHEMA  # it only checks


def test_schema_update_replaces_name_and_schema(user):
    schema = make_schema(user)
    make_asset(user, "a.jpg", JPEG, data=VALID_PRODUCT, data_schema=schema)
    looser = {**PRODUCT_SCHEMA, "required": ["sku"]}
    returned = services.schema_update(user=user, schema_id=schema.id, name="looser", schema=looser)
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == (returned.name, returned.schema) == ("looser", looser)


def test_schema_update_that_would_break_an_asset_is_a_conflict_and_changes_nothing(user):
    schema = make_schema(user)
    make_asset(user, "a.jpg", JPEG, data=VALID_PRODUCT, data_schema=schema)
    with pytest.raises(Conflict) as refused:
        services.schema_update(
            user=user, schema_id=schema.id, name="strict", schema={"type": "object", "required": ["weight"]}
        )
    assert refused.value.code == "schema_in_use"
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)


def test_schema_update_and_delete_refuse_the_builtin_and_another_accounts_schema(user, outsider):
    foreign = make_schema(outsider, schema={"type": "object"}, name="theirs")
    builtin_before = DataSchema.objects.filter(pk=DEFAULT_SCHEMA_ID).values().get()
    for call in (
        lambda schema_id: services.schema_update(
            user=user, schema_id=schema_id, name="x", schema={"type": "object"}
        ),
        lambda schema_id: services.schema_delete(user=user, schema_id=schema_id),
    ):
        with pytest.raises(Forbidden) as builtin:
            call(DEFAULT_SCHEMA_ID)
        assert builtin.value.code == "builtin_schema"
        with pytest.raises(NotFound) as other:
            call(foreign.id)
        assert other.value.code == "schema_not_found"
    assert DataSchema.objects.filter(pk=DEFAULT_SCHEMA_ID).values().get() == builtin_before
    row = DataSchema.objects.get(pk=foreign.pk)
    assert (row.name, row.schema) == ("theirs", {"type": "object"})


def test_schema_delete_removes_an_unused_schema_and_refuses_one_in_use(user):
    unused = make_schema(user, name="unused")
    used = make_schema(user, name="used")
    asset = make_asset(user, "a.jpg", JPEG, data=VALID_PRODUCT, data_schema=used)

    services.schema_delete(user=user, schema_id=unused.id)
    assert not DataSchema.objects.filter(pk=unused.pk).exists()

    with pytest.raises(Conflict) as refused:
        services.schema_delete(user=user, schema_id=used.id)
    assert refused.value.code == "schema_in_use"
    assert "1 asset(s)" in refused.value.message
    assert DataSchema.objects.filter(pk=used.pk).exists()
    assert Asset.objects.get(pk=asset.pk).data_schema_id == used.id
