"""Pages of an enterprise's documents: the list with the upload form, download, delete.

Downloads are the only way to a stored file (MEDIA_URL is never served): they authorise the viewer,
answer 404 to anyone who may not open the document, and send it as an attachment that the browser
must not sniff or render (reliability.md F5).
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from enterprises.documents import (
    ALLOWED_EXTENSIONS,
    document_can_delete,
    document_delete,
    document_downloadable_by,
    document_downloaded,
    document_upload,
    enterprise_documents_size,
    too_large_message,
)
from enterprises.models import Document
from enterprises.views import _apply_errors, _url, enterprise_member_required
from portal.views import tenant_login_required

log = logging.getLogger(__name__)


class DocumentSizeLimitHandler(FileUploadHandler):
    """Stops taking a file in as soon as it passes DOCUMENT_MAX_BYTES (reliability.md F1).

    Django has no setting that caps an uploaded file, and would otherwise write the whole body to a
    temporary file before any check runs. Placed first among the upload handlers, this one sees each
    chunk before the others store it; SkipFile makes Django discard the rest of that file (and close
    the temporary file, which deletes it) while the other form fields are still parsed.
    """

    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the UploadedFile


# Lives here rather than in forms.py: it exists only for this page.
class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"), choices=Document.Type.choices)
    # Empty files pass here so that document_upload refuses them, with the message every caller gets.
    file = forms.FileField(
        label=gettext_lazy("File"),
        allow_empty_file=True,
        error_messages={"required": gettext_lazy("Choose a file to upload.")},
    )

    def __init__(self, *args, oversize: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.oversize = oversize
        if oversize:
            # The size limit cut the file off, so it arrives as no file at all: say why, not "required".
            self.fields["file"].required = False
        self.fields["file"].widget.attrs["accept"] = ",".join(ALLOWED_EXTENSIONS)
        self.fields["file"].help_text = _(
            "PDF, JPEG, PNG or OFD, at most %(limit)s. Others can open the file only after the malware "
            "check has passed it."
        ) % {"limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)}

    def clean_file(self):
        if self.oversize:
            raise ValidationError(too_large_message(), code="too_large")
        return self.cleaned_data["file"]


@csrf_exempt
def documents(request, tenant_code):
    # SECURITY: exempt only so that the size limit can be installed before anything reads the body
    # (Django docs, "Modifying upload handlers on the fly"); the CSRF check runs in _documents_page.
    limiter = DocumentSizeLimitHandler(request, limit=settings.DOCUMENT_MAX_BYTES)
    request.upload_handlers.insert(0, limiter)
    return _documents_page(request, tenant_code, limiter=limiter)


@enterprise_member_required()
@csrf_protect
def _documents_page(request, tenant_code, enterprise, limiter: DocumentSizeLimitHandler):
    status = 200
    if request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES, oversize=limiter.exceeded)
        if form.is_valid():
            try:
                document = document_upload(
                    enterprise=enterprise,
                    by=request.user,
                    doc_type=form.cleaned_data["doc_type"],
                    uploaded_file=form.cleaned_data["file"],
                    request=request,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "%(name)s has been uploaded. It is being checked for malware; others can open it "
                        "once the check has passed."
                    )
                    % {"name": document.original_name},
                )
                return HttpResponseRedirect(_url("enterprise_documents", request))
        status = 413 if limiter.exceeded else 400
    else:
        form = DocumentUploadForm()
    docs = (
        Document.objects.filter(enterprise=enterprise)
        .select_related("uploaded_by", "enterprise")
        .order_by("-uploaded_at", "-id")
    )
    page = Paginator(docs, 50).get_page(request.GET.get("page"))
    rows = [
        {
            "document": d,
            "can_download": document_downloadable_by(document=d, user=request.user, tenant=request.tenant),
            "can_delete": document_can_delete(document=d, user=request.user),
        }
        for d in page
    ]
    return render(
        request,
        "enterprises/documents.html",
        {
            "enterprise": enterprise,
            "form": form,
            "page": page,
            "rows": rows,
            "used": enterprise_documents_size(enterprise=enterprise),
            "limit": settings.ENTERPRISE_DOCUMENTS_MAX_BYTES,
        },
        status=status,
    )


def _content_disposition(document: Document) -> str:
    """attachment with an ASCII fallback and the real name as RFC 5987 filename* (RFC 6266 §4.3)."""
    name = document.original_name or "document"
    stem, ext = os.path.splitext(name)
    fallback_stem = re.sub(r"[^A-Za-z0-9._()+-]+", "_", stem).strip("_.")
    fallback = (fallback_stem or f"document-{document.pk}") + re.sub(r"[^A-Za-z0-9.]", "", ext)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@tenant_login_required
def download(request, tenant_code, pk):
    # SECURITY: one answer, 404, for "no such document", "another tenant's", "not yours to see" and
    # "not yet passed by the scanner", so that the response reveals nothing.
    document = (
        Document.objects.select_related("enterprise__tenant")
        .filter(pk=pk, enterprise__tenant=request.tenant)
        .first()
    )
    if document is None or not document_downloadable_by(
        document=document, user=request.user, tenant=request.tenant
    ):
        raise Http404
    try:
        fh = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        log.error("document %s: stored file %r is missing", document.pk, document.file.name)
        raise Http404 from None
    document_downloaded(document=document, by=request.user, request=request)
    response = FileResponse(fh, content_type=document.content_type)
    response["Content-Disposition"] = _content_disposition(document)
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
@enterprise_member_required()
def delete(request, tenant_code, enterprise, pk):
    document = get_object_or_404(
        Document.objects.select_related("enterprise__tenant"), pk=pk, enterprise=enterprise
    )
    try:
        document_delete(document=document, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(_url("enterprise_documents", request))
    messages.success(request, _("%(name)s has been deleted.") % {"name": document.original_name})
    return HttpResponseRedirect(_url("enterprise_documents", request))
