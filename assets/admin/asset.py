"""Assets: thumbnails, filters and search in the list; conversions inline, lineage both
ways and `data` validated against its schema on the change page; the admin-only file view
(the stored file, or a rendition of it for previews)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.http import content_disposition_header

from assets.admin.fields import PrettyJSONField
from assets.downloads import rendition_response, stored_file_response
from assets.errors import ApiError, NotFound
from assets.models import Asset, Conversion, DataSchema
from assets.selectors import lineage_of, stored_file_get
from assets.services import asset_edit, assets_delete
from assets.templatetags.people import human_size
from assets.templatetags.renditions import contained, rendition_srcset
from assets.validators import data_check
from core.errors import ImageRejected, OptionError
from core.renditions import wants_rendition

CHECKERBOARD = "background: repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 16px 16px;"


def _file_url(asset_id: str, name: str, *, download: bool = False) -> str:
    url = reverse("admin:assets_asset_file", args=[asset_id, name])
    return f"{url}?download=1" if download else url


def _preview(asset_id: str, name: str, *, side: int, width: int | None, height: int | None):
    """A rendition of the file drawn at up to side × side CSS pixels (its width and height
    set, so the row does not jump as it loads), with a 2x candidate for dense screens.
    Renditions are browser formats, so HEIC, AVIF and TIFF originals show too."""
    src, srcset = rendition_srcset(_file_url(asset_id, name), side, width, height)
    drawn_w, drawn_h = contained(width, height, side)
    # A large preview shrinks to a narrow screen; in a table cell a percentage max-width
    # would let the column squeeze the image to nothing, so small ones keep their size.
    fluid = "max-width: 100%; height: auto; " if side > 128 else ""
    return format_html(
        '<img src="{}"{} width="{}" height="{}" alt="{}" loading="lazy" decoding="async" style="{}{}">',
        src,
        format_html(' srcset="{}"', srcset) if srcset else "",
        drawn_w,
        drawn_h,
        f"{name} of {asset_id}",
        fluid,
        CHECKERBOARD,
    )


def _download_link(asset_id: str, name: str):
    return format_html('<a href="{}">Download</a>', _file_url(asset_id, name, download=True))


def _asset_links(account_id: int, ids: list[str]):
    """Links to the assets' change pages; an id that no longer exists shows as "(deleted)"."""
    if not ids:
        return "-"
    names = dict(Asset.objects.filter(account_id=account_id, id__in=ids).values_list("id", "name"))
    items = [
        format_html('<a href="{}">{} ({})</a>', reverse("admin:assets_asset_change", args=[i]), names[i], i)
        if i in names
        else format_html("{} (deleted)", i)
        for i in ids
    ]
    return format_html('<ul style="margin: 0; padding: 0">{}</ul>', format_html_join("", "<li>{}</li>", ((i,) for i in items)))


class HasSourceFilter(admin.SimpleListFilter):
    title = "has source"
    parameter_name = "has_source"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(source_asset_id__isnull=False).exclude(source_asset_id="")
        if self.value() == "no":
            return queryset.filter(Q(source_asset_id__isnull=True) | Q(source_asset_id=""))
        return queryset


class HasConversionsFilter(admin.SimpleListFilter):
    title = "has conversions"
    parameter_name = "has_conversions"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        # EXISTS, not a join: a join would repeat an asset once per conversion.
        has = Exists(Conversion.objects.filter(asset=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has)
        if self.value() == "no":
            return queryset.filter(~has)
        return queryset


class ConversionInline(admin.TabularInline):
    """Conversions are written by the API and the worker (they probe the image); here they
    are shown, previewed and downloaded, not edited."""

    model = Conversion
    extra = 0
    can_delete = False
    fields = ["preview", "name", "content_type", "size", "width", "height", "update_time", "download"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="preview")
    def preview(self, obj: Conversion):
        return _preview(obj.asset_id, obj.name, side=128, width=obj.width, height=obj.height)

    @admin.display(description="file")
    def download(self, obj: Conversion):
        return _download_link(obj.asset_id, obj.name)


class AssetAdminForm(forms.ModelForm):
    data = PrettyJSONField(
        required=False, label="data", help_text="A JSON object; it must satisfy the data schema."
    )

    class Meta:
        model = Asset
        fields = ["name", "data_schema", "data"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "data_schema" in self.fields and self.instance.account_id:
            self.fields["data_schema"].queryset = DataSchema.objects.filter(
                Q(account__isnull=True) | Q(account_id=self.instance.account_id)
            )
            # No "delete schema" shortcut beside an asset's own schema choice.
            self.fields["data_schema"].widget.can_delete_related = False

    def clean_data(self) -> dict[str, Any]:
        data = self.cleaned_data.get("data")
        if data is None:  # an empty box: no data
            return {}
        if not isinstance(data, dict):
            raise ValidationError(f"must be a JSON object, got {type(data).__name__}")
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "data_schema" in self.fields:
            schema = cleaned.get("data_schema")  # None when the choice itself was invalid
        else:
            schema = self.instance.data_schema
        if "data" in cleaned and schema is not None:
            for field, problems in data_check(cleaned["data"], schema.schema).items():
                self.add_error("data", [f"{field}: {problem} (data schema {schema.id})" for problem in problems])
        return cleaned


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    """Assets are added by uploads (API or web page), which probe the image; the admin
    edits the name, the data and its schema, and deletes (files go once the rows have)."""

    form = AssetAdminForm
    # Short cells (an id's start, "2.3 MB", a compact date) so the list fits its area beside
    # the admin's two sidebars at 1400 px, without a sideways scroll.
    list_display = ["thumbnail", "short_id", "name", "account", "file_type", "dimensions", "file_size", "conversion_count", "uploaded"]
    list_display_links = ["thumbnail", "short_id", "name"]
    list_filter = ["account", "content_type", HasSourceFilter, HasConversionsFilter]
    list_select_related = ["account"]
    search_fields = ["^id", "name"]
    search_help_text = "An asset id (or its start) or part of a name."
    inlines = [ConversionInline]
    fieldsets = [
        (None, {"fields": ["id", "name", "account", "created_by", "status"]}),
        ("Original", {"fields": ["original_preview", "original_download", "content_type", "size", "width", "height", "checksum", "upload_time", "update_time"]}),
        ("Lineage", {"fields": ["lineage_sources", "lineage_derived"]}),
        ("Data", {"fields": ["data_schema", "data"]}),
    ]
    readonly_fields = [
        "id", "account", "created_by", "status", "original_preview", "original_download", "content_type",
        "size", "width", "height", "checksum", "upload_time", "update_time", "lineage_sources", "lineage_derived",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(conversion_total=Count("conversions"))

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.file_view)
        return [path("<path:object_id>/file/<str:name>/", view, name="assets_asset_file"), *super().get_urls()]

    def file_view(self, request, object_id: str, name: str):
        """The stored original (`name` "original") or conversion `name`, as stored: inline,
        or as an attachment with ?download=1. Range and conditional GET as in the API.
        With the API's rendition parameters (w, h, fit, format, q, bg: SPEC §9), a
        rendition of it, the same stored one the API serves."""
        asset = Asset.objects.filter(pk=unquote(object_id)).first()
        if not self.has_view_permission(request, asset):
            raise PermissionDenied
        if asset is None:
            raise Http404("no such asset")
        try:
            stored, filename = stored_file_get(asset=asset, name=name)
            if wants_rendition(request.GET):
                response = rendition_response(request, asset, name)
            else:
                response = stored_file_response(request, stored, filename)
        except NotFound:
            raise Http404("no such conversion") from None
        except (ApiError, OptionError, ImageRejected) as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
        if request.GET.get("download"):
            response["Content-Disposition"] = content_disposition_header(True, filename)
        # Uploaded bytes on the admin's origin: never let them run as a document.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @admin.display(description="")
    def thumbnail(self, obj: Asset):
        return _preview(obj.id, "original", side=64, width=obj.width, height=obj.height)

    @admin.display(description="id", ordering="id")
    def short_id(self, obj: Asset):
        return format_html('<code title="{}">{}…</code>', obj.id, obj.id[:8])

    @admin.display(description="type", ordering="content_type")
    def file_type(self, obj: Asset) -> str:
        return obj.content_type.removeprefix("image/").upper()

    @admin.display(description="w×h")
    def dimensions(self, obj: Asset) -> str:
        return f"{obj.width}×{obj.height}"

    @admin.display(description="size", ordering="size")
    def file_size(self, obj: Asset) -> str:
        return human_size(obj.size)

    @admin.display(description="uploaded", ordering="upload_time")
    def uploaded(self, obj: Asset) -> str:
        return date_format(localtime(obj.upload_time), "Y-m-d H:i")

    @admin.display(description="conv.", ordering="conversion_total")
    def conversion_count(self, obj: Asset) -> int:
        return obj.conversion_total

    @admin.display(description="preview")
    def original_preview(self, obj: Asset):
        return _preview(obj.id, "original", side=512, width=obj.width, height=obj.height)

    @admin.display(description="file")
    def original_download(self, obj: Asset):
        return _download_link(obj.id, "original")

    def _lineage(self, obj: Asset) -> dict[str, list[str]]:
        if not hasattr(obj, "_admin_lineage"):
            obj._admin_lineage = lineage_of(asset=obj)
        return obj._admin_lineage

    @admin.display(description="source (nearest first)")
    def lineage_sources(self, obj: Asset):
        return _asset_links(obj.account_id, self._lineage(obj)["ancestors"])

    @admin.display(description="derived assets")
    def lineage_derived(self, obj: Asset):
        return _asset_links(obj.account_id, self._lineage(obj)["descendants"])

    def save_model(self, request, obj: Asset, form, change: bool) -> None:
        # Only what the form changed, so a concurrent API write to other columns survives.
        changed = [f for f in form.changed_data if f in form.Meta.fields]
        if not change:
            obj.save()
        else:
            asset_edit(asset=obj, fields=changed)

    def delete_model(self, request, obj: Asset) -> None:
        assets_delete(ids=[obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        assets_delete(ids=list(queryset.values_list("pk", flat=True)))
