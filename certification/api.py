"""API: programmes and on-demand evaluation of facts, under /api/v1/<tenant_code>/programs/."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from certification import services
from certification.facts_input import parse_facts
from certification.models import Program
from portal.api.views import TENANT_PARAM, TenantAPIMixin


def _drf(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


@extend_schema(parameters=[TENANT_PARAM])
class ProgramListApi(TenantAPIMixin, APIView):
    """The tenant's programmes with their criteria versions (public information)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request, tenant_code):
        programs = (
            Program.objects.for_tenant(self.tenant)
            .filter(is_active=True)
            .select_related("owner_region")
            .prefetch_related("versions")
            .order_by("tier", "code")
        )
        return Response([services.program_json(p) for p in programs])


@extend_schema(
    parameters=[
        TENANT_PARAM,
        OpenApiParameter("code", str, OpenApiParameter.PATH, description="programme code"),
        OpenApiParameter(
            "at", OpenApiTypes.DATE, description="use the version in force on this date (default today)"
        ),
        OpenApiParameter("version", int, description="use this version id"),
    ]
)
class EvaluateApi(TenantAPIMixin, APIView):
    """Screen a facts object (design.md vocabulary) against a programme. Nothing is stored."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request, tenant_code, code):
        program = get_object_or_404(Program.objects.for_tenant(self.tenant), code=code)
        at = None
        if request.query_params.get("at"):
            try:
                at = date.fromisoformat(request.query_params["at"])
            except ValueError:
                raise serializers.ValidationError(
                    {"at": [_("A date such as 2026-05-01 is expected.")]}
                ) from None
        version_id = request.query_params.get("version")
        try:
            facts = parse_facts(request.data)
            version = services.version_for(program, version_id=int(version_id) if version_id else None, at=at)
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        except ValueError:
            raise serializers.ValidationError({"version": [_("A version id is a number.")]}) from None
        result = services.screen_facts(version=version, facts=facts)
        return Response(services.result_json(program=program, version=version, result=result))
