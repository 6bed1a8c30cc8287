"""The assets API of SPEC §3. Views are thin: read the request, call one service or
selector, render its result."""

from __future__ import annotations


from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assets import selectors, services
from assets.downloads import rendition_response, stored_file_response
from core.renditions import wants_rendition

from assets.openapi import (
    ASSET_LIST_PARAMETERS,
    ASSET_CHANGE,
    ASSET_PAGE,
    ASSET_UPLOAD,
    CONTENT_NAME,
    CONTENT_RESPONSES,
    CONVERSION_NAME,
    RENDITION_PARAMETERS,
    DATA_UPDATE,
    FILE_UPLOAD,
    SCHEMA_REQUEST,
    error_responses,
    path_name,
)
from assets.pagination import AssetPagination
from assets.parsers import SafeJSONParser, SafeMultiPartParser, single_file
from assets.requests import AssetChange, AssetFilters, AssetUpload, DataUpdate, SchemaWrite, json_body
from assets.permissions import ByMethod, CanAdmin, CanDelete, CanRead, CanWrite
from assets.serializers import (
    AssetDocument,
    ErrorDocument,
    JobDocument,
    LineageDocument,
    SchemaDocument,
    asset_document,
    content_url,
    job_document,
    schema_document,
)

ERRORS = error_responses(400, 401, 403, 404)


class AssetListView(APIView):
    permission_classes = [ByMethod.of(GET=CanRead, POST=CanWrite)]
    parser_classes = [SafeMultiPartParser]

    @extend_schema(operation_id="v1_assets_list", parameters=ASSET_LIST_PARAMETERS, responses={200: ASSET_PAGE, **ERRORS})
    def get(self, request: Request) -> Response:
        queryset = selectors.asset_list(user=request.user, filters=AssetFilters.from_query(request.query_params))
        paginator = AssetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([asset_document(a, request) for a in page])

    @extend_schema(
        request={"multipart/form-data": ASSET_UPLOAD}, responses={201: AssetDocument, **error_responses(413, 415), **ERRORS}
    )
    def post(self, request: Request) -> Response:
        asset = services.asset_upload(user=request.user, request=AssetUpload.from_request(request))
        return Response(
            asset_document(asset, request),
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(reverse("asset-detail", args=[asset.id]))},
        )


class AssetDetailView(APIView):
    permission_classes = [ByMethod.of(GET=CanRead, PATCH=CanWrite, DELETE=CanDelete)]
    parser_classes = [SafeJSONParser]

    @extend_schema(responses={200: AssetDocument, **ERRORS})
    def get(self, request: Request, asset_id: str) -> Response:
        asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
        return Response(asset_document(asset, request))

    @extend_schema(
        request={"application/json": ASSET_CHANGE}, responses={200: AssetDocument, **error_responses(415), **ERRORS}
    )
    def patch(self, request: Request, asset_id: str) -> Response:
        selectors.asset_get_for_user(user=request.user, asset_id=asset_id)  # 404 before 400
        change = AssetChange.from_body(json_body(request))
        asset = services.asset_rename(user=request.user, asset_id=asset_id, name=change.name)
        return Response(asset_document(asset, request))

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, asset_id: str) -> Response:
        services.asset_delete(user=request.user, asset_id=asset_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JsonOnly(DefaultContentNegotiation):
    """Always JSON (for errors), whatever `?format=` says: on content URLs `format` is a
    rendition parameter (SPEC §9), not DRF's renderer override."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AssetContentView(APIView):
    """`original` is the asset's own file; any other name is a conversion. With any of the
    rendition parameters, a GET answers with a rendition of it (SPEC §9)."""

    content_negotiation_class = JsonOnly

    permission_classes = [ByMethod.of(GET=CanRead, POST=CanWrite, DELETE=CanDelete)]
    parser_classes = [SafeMultiPartParser]

    @extend_schema(
        parameters=[path_name(CONTENT_NAME, "original, or a conversion name"), *RENDITION_PARAMETERS],
        responses=CONTENT_RESPONSES,
    )
    def get(self, request: Request, asset_id: str, name: str):
        asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
        if wants_rendition(request.query_params):
            return rendition_response(request, asset, name)
        return stored_file_response(request, *selectors.stored_file_get(asset=asset, name=name))

    @extend_schema(
        parameters=[path_name(CONVERSION_NAME, "the conversion name; not original")],
        request={"multipart/form-data": FILE_UPLOAD},
        responses={201: AssetDocument, **error_responses(413, 415), **ERRORS},
    )
    def post(self, request: Request, asset_id: str, name: str) -> Response:
        conversion = services.conversion_upload(
            user=request.user, asset_id=asset_id, name=name, upload=single_file(request.FILES, "file")
        )
        asset = selectors.asset_get_for_user(user=request.user, asset_id=conversion.asset_id)
        return Response(
            asset_document(asset, request),
            status=status.HTTP_201_CREATED,
            headers={"Location": content_url(request, asset.id, name)},
        )

    @extend_schema(parameters=[path_name(CONVERSION_NAME, "the conversion name; not original")], responses={204: None, **ERRORS})
    def delete(self, request: Request, asset_id: str, name: str) -> Response:
        services.conversion_delete(user=request.user, asset_id=asset_id, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetDataUpdateView(APIView):
    permission_classes = [CanWrite]
    parser_classes = [SafeJSONParser]

    @extend_schema(request={"application/json": DATA_UPDATE}, responses={200: AssetDocument, **error_responses(415), **ERRORS})
    def post(self, request: Request, asset_id: str) -> Response:
        selectors.asset_get_for_user(user=request.user, asset_id=asset_id)  # 404 before 400
        update = DataUpdate.from_body(json_body(request))
        asset = services.asset_data_update(
            user=request.user, asset_id=asset_id, data=update.data, mode=update.mode,
            data_schema_id=update.data_schema_id,
        )
        return Response(asset_document(asset, request))


class AssetLineageView(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses={200: LineageDocument, **ERRORS})
    def get(self, request: Request, asset_id: str) -> Response:
        asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
        return Response(LineageDocument(selectors.lineage_of(asset=asset)).data)


class SchemaListView(APIView):
    permission_classes = [ByMethod.of(GET=CanRead, POST=CanAdmin)]
    parser_classes = [SafeJSONParser]

    @extend_schema(responses={200: SchemaDocument(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        return Response([schema_document(s) for s in selectors.schema_list(user=request.user)])

    @extend_schema(request={"application/json": SCHEMA_REQUEST}, responses={201: SchemaDocument, **error_responses(415), **ERRORS})
    def post(self, request: Request) -> Response:
        write = SchemaWrite.from_body(json_body(request))
        schema = services.schema_create(user=request.user, name=write.name, schema=write.schema)
        return Response(schema_document(schema), status=status.HTTP_201_CREATED)


class SchemaDetailView(APIView):
    permission_classes = [ByMethod.of(GET=CanRead, PUT=CanAdmin, DELETE=CanAdmin)]
    parser_classes = [SafeJSONParser]

    @extend_schema(responses={200: SchemaDocument, **ERRORS})
    def get(self, request: Request, schema_id: str) -> Response:
        schema = selectors.schema_get(account=selectors.account_of(request.user), schema_id=schema_id)
        return Response(schema_document(schema))

    @extend_schema(
        request={"application/json": SCHEMA_REQUEST}, responses={200: SchemaDocument, **error_responses(409, 415), **ERRORS}
    )
    def put(self, request: Request, schema_id: str) -> Response:
        selectors.schema_get(account=selectors.account_of(request.user), schema_id=schema_id)  # 404 before 400
        write = SchemaWrite.from_body(json_body(request))
        schema = services.schema_update(user=request.user, schema_id=schema_id, name=write.name, schema=write.schema)
        return Response(schema_document(schema))

    @extend_schema(responses={204: None, 409: ErrorDocument, **ERRORS})
    def delete(self, request: Request, schema_id: str) -> Response:
        services.schema_delete(user=request.user, schema_id=schema_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobDetailView(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses={200: JobDocument, **ERRORS})
    def get(self, request: Request, job_id: str) -> Response:
        return Response(job_document(selectors.job_get_for_user(user=request.user, job_id=job_id)))
