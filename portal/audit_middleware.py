"""Request ids, and the audit rows no view has to remember (reliability.md L1, L2).

Every request gets an id: it goes into the `X-Request-ID` response header, into every log line
(RequestIdFilter) and onto every audit row written while the request is served (portal.audit).

On the way out, two kinds of response are audited here, whatever produced them:

* a refusal (403): Django's PermissionDenied through handler403, the API's, the CSRF failure page, a view's
  own HttpResponseForbidden. One "auth.denied" row, at most one a minute per user and path
  (portal.audit.audit_denied). A visitor who is not signed in is redirected to the login page (302):
  that is not a refusal and is not recorded.
* a file handed to a signed-in user (a `Content-Disposition` with a filename: Excel exports, PDFs,
  documents, evidence, certificates): one "export" or "download" row, unless the view already wrote its
  own audit row while serving the request (the document, evidence and certificate downloads do, naming
  the object): one row per delivery, never two.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# No model imports here: settings.LOGGING loads RequestIdFilter before the apps are ready.

log = logging.getLogger(__name__)


@dataclass
class RequestContext:
    """What the audit needs to know about the request in progress."""

    request: Any
    request_id: str
    actions: list[str] = field(default_factory=list)  # the audit rows written while serving it


_current: ContextVar[RequestContext | None] = ContextVar("portal_audit_request", default=None)


def current_context() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else ""


_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", re.IGNORECASE)
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def delivered_filename(response) -> str | None:
    """The file name a response hands out (RFC 6266; the UTF-8 filename* first), or None."""
    disposition = response.get("Content-Disposition", "")
    if not disposition:
        return None
    star = _FILENAME_STAR.search(disposition)
    if star:
        return unquote(star.group(2).strip(), encoding=star.group(1) or "utf-8", errors="replace")
    plain = _FILENAME.search(disposition)
    if plain:
        return plain.group(1).strip()
    return "" if disposition.lower().startswith("attachment") else None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Generated, never taken from the client: a forged id could tie someone else's log lines together.
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(RequestContext(request=request, request_id=request_id))
        try:
            response = self.get_response(request)
            self._audit(request, response)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def _audit(self, request, response) -> None:
        from portal import audit

        ctx = current_context()
        if response.status_code == 403:
            try:
                audit.audit_denied(request=request, status=403)
            except Exception:
                # The refusal stands even if it cannot be written down; the failure is logged.
                log.exception("could not audit a refusal of %s %s", request.method, request.path)
            return
        if response.status_code != 200 or request.method == "HEAD":
            return
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        filename = delivered_filename(response)
        if filename is None or (ctx is not None and ctx.actions):
            return
        # Not caught: a file whose delivery cannot be audited is not delivered (a 500 instead).
        audit.audit_delivery(request=request, response=response, filename=filename)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or "-") on every log record, for the formatter's %(request_id)s."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True
