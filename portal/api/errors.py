"""One error format for every 4xx of the API.

    {"error": {"status": 400, "code": "invalid", "message": "…",
               "fields": {"username": ["This field is required."]}}}

`fields` is present when the error names fields; messages are in the request's language.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.audit import note_denial


class DomainError(exceptions.APIException):
    """A business rule said no: raised by services, shown to API and page users alike."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(
        self,
        message,
        code: str | None = None,
        extra: dict | None = None,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ):
        super().__init__(detail=message, code=code or self.default_code)
        self.message = str(message)
        self.code = code or self.default_code
        self.extra = extra or {}
        self.fields = fields or {}  # {field or anchor: [messages]}: every problem at once
        if status is not None:
            self.status_code = status


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [str(x) if not isinstance(x, (dict, list)) else _flatten(x) for x in detail]
    return [str(detail)]


def _field_messages(detail, prefix: str = "") -> dict[str, list[str]]:
    """{field: [messages]} with nested errors under dotted names ("stages.0.deadline", "ids.7"): the
    documented shape of `fields`, whatever the depth of the serializer that raised them."""
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and any(isinstance(x, (dict, list)) for x in detail):
        items = enumerate(detail)
    else:
        return {prefix: _flatten(detail)} if prefix else {"non_field_errors": _flatten(detail)}
    out: dict[str, list[str]] = {}
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, (dict, list)) and not value:
            continue  # a list item without errors
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(x, (dict, list)) for x in value)
        ):
            out.update(_field_messages(value, name))
        else:
            out[name] = _flatten(value)
    return out


def exception_handler(exc, context):
    if isinstance(exc, (PermissionDenied, exceptions.PermissionDenied, exceptions.NotAuthenticated)):
        # portal.audit_middleware writes the audit row of the 403; this gives it the reason.
        request = context.get("request")
        note_denial(getattr(request, "_request", request), exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    body = {"status": response.status_code, "code": code}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _("Some fields are not valid.")
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _field_messages(detail)
            non_field = fields.pop("non_field_errors", None)
            if non_field:
                body["message"] = " ".join(non_field)
            if fields:
                body["fields"] = fields
        else:
            body["message"] = " ".join(_flatten(detail))
    else:
        detail = exc.detail if hasattr(exc, "detail") else str(exc)
        body["message"] = (
            str(detail)
            if not isinstance(detail, (dict, list))
            else " ".join(
                sum((_flatten(v) for v in (detail.values() if isinstance(detail, dict) else detail)), [])
            )
        )
        if hasattr(exc, "get_codes") and isinstance(exc.get_codes(), str):
            body["code"] = exc.get_codes()
    if isinstance(exc, DomainError) and exc.extra:
        body["extra"] = exc.extra
    if isinstance(exc, DomainError) and exc.fields:
        body["fields"] = {k: [str(m) for m in v] for k, v in exc.fields.items()}
    headers = {k: response[k] for k in ("WWW-Authenticate", "Retry-After", "Allow") if k in response}
    return Response({"error": body}, status=response.status_code, headers=headers)
