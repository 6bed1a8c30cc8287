"""Top-level routes. API errors outside DRF views (unknown paths, unreadable requests,
unhandled exceptions) answer in the API's one error shape; a missing web page gets the
site's styled 404 page with a way back; the admin keeps Django's."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from assets import converters  # noqa: F401  (registers <hex32:>)
from assets import errors
from assets import views as asset_views
from assets_project.health import healthz_view, readyz_view
from assets_project.metrics import metrics_view
from graphics import views as graphics_views

urlpatterns = [
    path("api/v1/", include("graphics.urls")),
    path("api/v1/", include("assets.urls")),
    path(
        "api/schema/",
        # OpenAPI 3.1: its schemas are JSON Schema 2020-12, which can say what the API
        # checks (propertyNames, type lists); assets.openapi adds the recursive components.
        SpectacularAPIView.as_view(
            permission_classes=[AllowAny],
            custom_settings={
                "OAS_VERSION": "3.1.0",
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "assets.openapi.add_components",
                ]
            },
        ),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    # operations (SPEC §12): no auth; /metrics answers METRICS_ALLOWED_IPS only
    path("healthz", healthz_view, name="healthz"),
    path("readyz", readyz_view, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("django.contrib.auth.urls")),
    # web pages (login required; they call the API above from the browser)
    path("", login_required(RedirectView.as_view(url="/upload/", permanent=False)), name="web-home"),
    path("upload/", graphics_views.bg_remove_upload_page_view, name="web-upload"),
    path("assets/", asset_views.asset_list_view, name="web-asset-list"),
    path("assets/add/", asset_views.asset_add_view, name="web-asset-add"),
    path("assets/<hex32:asset_id>/", asset_views.asset_detail_view, name="web-asset-detail"),
]


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _is_api(request):
        return errors.json_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return errors.json_permission_denied(request, exception)
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return errors.json_not_found(request, exception)
    if request.path.startswith("/admin/"):
        return defaults.page_not_found(request, exception)
    return asset_views.not_found_response(request)  # the site's own page, with a way back


def handler500(request):
    if _is_api(request):
        return errors.json_server_error(request)
    return defaults.server_error(request)
