"""Django admin for the asset domain: assets (thumbnails, conversions, lineage, data),
data schemas, jobs (read-only, with a re-queue action), accounts, API keys, and webhooks
with their deliveries (read-only, with a resend action).

Staff see every account. Files are shown through `AssetAdmin.file_view`
(`admin/assets/asset/<id>/file/<name>/`), not the API's content URL: staff need no account
membership, and that view is guarded by the admin site's login and the view permission on
Asset. Edits go through the same checks as the API: `data` against its schema, a schema
against draft 2020-12 and against the assets that use it.

One module per sub-domain (STYLE.md: small modules); importing them registers the admins.
"""

from assets.admin import account, asset, job, schema, webhook  # noqa: F401
