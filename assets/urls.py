"""Routes of the assets API (mounted under /api/v1/)."""

from django.urls import path

from assets import api, converters  # noqa: F401  (registers <hex32:>)
from assets.webhooks import api as webhook_api


urlpatterns = [
    path("assets", api.AssetListView.as_view(), name="asset-list"),
    path("assets/<hex32:asset_id>", api.AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<hex32:asset_id>/content/<str:name>", api.AssetContentView.as_view(), name="asset-content"),
    path("assets/<hex32:asset_id>/data/update", api.AssetDataUpdateView.as_view(), name="asset-data-update"),
    path("assets/<hex32:asset_id>/lineage", api.AssetLineageView.as_view(), name="asset-lineage"),
    path("assetschemas", api.SchemaListView.as_view(), name="schema-list"),
    path("assetschemas/<str:schema_id>", api.SchemaDetailView.as_view(), name="schema-detail"),
    path("jobs/<hex32:job_id>", api.JobDetailView.as_view(), name="job-detail"),
    path("webhooks", webhook_api.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<hex32:webhook_id>", webhook_api.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<hex32:webhook_id>/deliveries", webhook_api.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
]
