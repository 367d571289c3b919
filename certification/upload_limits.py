"""A size cap on evidence files that acts while the body streams in (reliability.md F1).

Django has no setting that caps an uploaded file and writes the whole body to a temporary file before any
form check runs, so a form's own size check comes too late: the public objection page would take any
amount of disk from anyone. `limit_uploads` puts a handler first among the view's upload handlers, before
anything reads the body (the view is CSRF-exempted for that, and the check runs inside it instead, as
enterprises.document_views does for documents); a file past the limit is dropped chunk by chunk
(SkipFile) and `oversize_error` turns it into the evidence field's error.
"""

from __future__ import annotations

from functools import wraps

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from enterprises.documents import sanitize_filename


class SizeLimitHandler(FileUploadHandler):
    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.skipped: list[str] = []

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.skipped.append(self.file_name or "")
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the UploadedFile


def limit_uploads(limit: int):
    """Decorator (outermost): files of the request past `limit` bytes are not taken in."""

    def decorator(view):
        protected = csrf_protect(view)

        # SECURITY: exempt only so that the handler is in place before the CSRF check reads the body;
        # csrf_protect runs the same check around the view.
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            request.upload_limit = SizeLimitHandler(request, limit=limit)
            request.upload_handlers.insert(0, request.upload_limit)
            return protected(request, *args, **kwargs)

        return wrapped

    return decorator


def oversize_error(request, form, field: str = "evidence") -> bool:
    """After form.is_valid(): the files the limit dropped become `field`'s error. True if there were any."""
    limiter = getattr(request, "upload_limit", None)
    if limiter is None or not limiter.skipped:
        return False
    for name in limiter.skipped:
        form.add_error(
            field,
            _("%(name)s is larger than %(limit)s.")
            % {"name": sanitize_filename(name), "limit": filesizeformat(limiter.limit)},
        )
    return True
