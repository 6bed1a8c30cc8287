"""Writes. Each function is one transaction and the only way its rows change.

Files and rows move together: a file is written before its row and deleted again if the
row does not commit (`stored_file`), and a replaced or deleted file is removed only once
the transaction that dropped its row has committed (`files_delete_on_commit`). A failed
save therefore leaves no row and no file; a crash between commit and delete can at worst
leave an unreferenced file, never a row without its file.

A write that creates, changes or deletes an asset or a conversion records its webhook
event (assets.webhooks) in the same transaction: every path (the API, the jobs, the admin)
goes through these functions, so each is reported once, and only if it committed.
"""

from assets.services.accounts import account_user_create, api_key_create
from assets.services.assets import (
    asset_create,
    asset_create_from_bytes,
    asset_data_update,
    asset_delete,
    asset_edit,
    asset_rename,
    assets_delete,
    asset_upload,
    data_validate,
    display_name,
)
from assets.services.conversions import conversion_delete, conversion_save, conversion_upload
from assets.files import files_delete_on_commit, stored_file
from assets.services.schemas import schema_create, schema_delete, schema_update

__all__ = [
    "account_user_create",
    "api_key_create",
    "asset_create",
    "asset_create_from_bytes",
    "asset_data_update",
    "asset_delete",
    "asset_edit",
    "asset_rename",
    "assets_delete",
    "asset_upload",
    "conversion_delete",
    "conversion_save",
    "conversion_upload",
    "data_validate",
    "display_name",
    "files_delete_on_commit",
    "schema_create",
    "schema_delete",
    "schema_update",
    "stored_file",
]
