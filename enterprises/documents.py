"""Documents of an enterprise: upload, malware scan, download rights, delete (reliability.md §5 F1–F6).

An upload is judged entirely before anything is written: its type is decided by its content (magic
bytes), never by its name or the browser's content type, and must agree with the name's extension;
empty, oversize and over-quota files are refused. Every refusal is a ValidationError on "file" and
leaves nothing behind (no file, no row). An accepted file is stored under a generated name
(`document_path`); the name the user gave is kept only as sanitised metadata for the download header.

A new document is PENDING and is served to no one but its uploader until the scanner passes it.
Infected files are deleted from storage at once (see `document_scan`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import ProtectedError, Sum
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Document, Enterprise
from enterprises.permissions import enterprises_visible_to, is_enterprise_admin, is_member
from enterprises.scanning import ScanError, Scanner, ScannerUnavailable, get_scanner
from portal.audit import audit_record
from portal.models import Tenant, User
from portal.notifications import notification_send
from portal.on_commit import on_commit_robust

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("PDF", "application/pdf", (".pdf",))
JPEG = FileKind("JPEG", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileKind("PNG", "image/png", (".png",))
# OFD (GB/T 33190-2016, 版式文档) is a ZIP package whose entry point is OFD.xml at its root.
OFD = FileKind("OFD", "application/ofd", (".ofd",))
KINDS = (PDF, JPEG, PNG, OFD)
ALLOWED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)

# Limits on an OFD package, checked on the ZIP's central directory before anything is inflated: a zip
# bomb (42.zip, a 10 KB entry that inflates to 10 GB) is refused without decompressing it (F4).
OFD_MAX_ENTRIES = 2000
OFD_MAX_UNCOMPRESSED = 100 * 1024 * 1024
OFD_XML_MAX = 1024 * 1024

# Browsers sniff the first 1445 bytes of a response (WHATWG MIME Sniffing, "resource header"). A file
# whose head carries markup (Django's "PNG header + HTML" example) is refused rather than trusted to
# nosniff alone.
SNIFF_WINDOW = 1445
_MARKUP = re.compile(rb"<\s*(?:script|html|iframe|svg|body|object|embed|!doctype\s+html)\b", re.IGNORECASE)
_OFD_ROOT = re.compile(rb"<\s*(?:[A-Za-z_][\w.-]*:)?OFD[\s>]")

RESCAN_AFTER = timedelta(hours=2)

ORIGINAL_NAME_MAX = 120
# Look-alikes of / and \ that would survive the split on real separators and read as a path.
_SLASH_LOOKALIKES = dict.fromkeys(map(ord, "\u2215\u2044\u29f8\u29f9\uff0f\uff3c"), "_")
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def too_large_message() -> str:
    return _("The file is larger than %(limit)s, the most a document may be.") % {
        "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)
    }


def sanitize_filename(name: str) -> str:
    """The user's file name, fit to show and to put in a header; never used as a path (F3, CVE-2021-31542).

    Keeps only the last path component (either separator), drops control and format characters
    (NUL, newlines, the right-to-left override U+202E that makes "gpj.exe" read as "exe.jpg"),
    and shortens long names while keeping the extension.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # Cc, Cf, Cs, Co, Cn
    name = name.translate(_SLASH_LOOKALIKES)
    name = _WINDOWS_RESERVED.sub("_", name)
    # Leading dots would make a hidden file on download; trailing dots and spaces vanish on Windows.
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > ORIGINAL_NAME_MAX:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: ORIGINAL_NAME_MAX - len(ext)].rstrip(" .") + ext
    return name or "document"


def _detect(fh: IO[bytes]) -> tuple[FileKind | None, bytes]:
    fh.seek(0)
    head = fh.read(SNIFF_WINDOW)
    # Strict: the signature at offset 0. PDF readers tolerate junk before %PDF- (within 1024 bytes),
    # which is exactly what polyglot files rely on.
    if head.startswith(b"%PDF-"):
        return PDF, head
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG, head
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, head
    if head.startswith(b"PK\x03\x04"):
        return OFD, head
    return None, head


def _check_ofd(fh: IO[bytes]) -> ValidationError | None:
    invalid = _refuse(_("The file is not a valid OFD document (a package with OFD.xml at its root)."), "ofd")
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as package:
            entries = package.infolist()
            if len(entries) > OFD_MAX_ENTRIES:
                return _refuse(
                    _("The OFD package has %(n)d entries; at most %(limit)d are allowed.")
                    % {"n": len(entries), "limit": OFD_MAX_ENTRIES},
                    "ofd_bomb",
                )
            unpacked = sum(entry.file_size for entry in entries)
            if unpacked > OFD_MAX_UNCOMPRESSED:
                return _refuse(
                    _("The OFD package unpacks to %(size)s, more than the %(limit)s allowed.")
                    % {"size": filesizeformat(unpacked), "limit": filesizeformat(OFD_MAX_UNCOMPRESSED)},
                    "ofd_bomb",
                )
            if "OFD.xml" not in package.namelist():
                return invalid
            # The sizes above are what the central directory declares. Reading is bounded too: zipfile
            # stops at the declared size, and we never ask for more than OFD_XML_MAX bytes.
            with package.open("OFD.xml") as entry:
                xml = entry.read(OFD_XML_MAX + 1)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError, ValueError):
        # RuntimeError: encrypted entry; NotImplementedError: unsupported compression method.
        return invalid
    if len(xml) > OFD_XML_MAX or not _OFD_ROOT.search(xml[:65536]):
        return invalid
    return None


def archive_within_limits(fh: IO[bytes], *, max_entries: int, max_uncompressed: int) -> bool:
    """Whether a ZIP package (an .xlsx, an OFD) is small enough to open, judged on its central directory
    before any member is inflated (reliability.md F4; the zipfile docs' zip-bomb warning, CVE-2019-9674).

    The declared sizes are what a reader would inflate to: zipfile stops reading a member at its
    declared size, so a member that lies about it fails with BadZipFile instead of growing.
    """
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as package:
            entries = package.infolist()
            within = len(entries) <= max_entries and sum(e.file_size for e in entries) <= max_uncompressed
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        within = False
    fh.seek(0)
    return within


def _check_content(uploaded_file: File, original_name: str) -> FileKind:
    """The file's kind, judged by content; raises the refusal that says what is wrong."""
    not_allowed = _refuse(
        _(
            "The file is not a PDF, JPEG, PNG or OFD document, whatever its name says. "
            "Upload the document in one of these formats."
        ),
        "type",
    )
    extension = os.path.splitext(original_name)[1].lower()
    kind, head = _detect(uploaded_file)
    if kind is None:
        raise not_allowed
    if _MARKUP.search(head):
        raise _refuse(_("The file contains web-page code, which a document must not contain."), "markup")
    if kind is OFD:
        error = _check_ofd(uploaded_file)
        if error is not None:
            # Any ZIP starts like an OFD package: a .docx or .zip is simply not an allowed type.
            is_other_zip = extension != ".ofd" and error.error_dict["file"][0].code == "ofd"
            raise not_allowed if is_other_zip else error
    else:
        uploaded_file.seek(0)
        # A PDF or image that is also a ZIP (central directory at its end) is a polyglot: one program
        # opens it as a document, another as an archive of anything (reliability.md F2).
        if zipfile.is_zipfile(uploaded_file):
            raise _refuse(
                _("The file is a %(kind)s that is also a ZIP archive. Upload a plain %(kind)s file.")
                % {"kind": kind.name},
                "polyglot",
            )
    if extension not in ALLOWED_EXTENSIONS:
        raise _refuse(
            _("The file name must end in %(extensions)s.") % {"extensions": ", ".join(ALLOWED_EXTENSIONS)},
            "extension",
        )
    if extension not in kind.extensions:
        raise _refuse(
            _("The file is a %(kind)s, but its name ends in %(extension)s. Rename it to end in %(expected)s.")
            % {"kind": kind.name, "extension": extension, "expected": " / ".join(kind.extensions)},
            "extension",
        )
    return kind


def file_sha256(uploaded_file: File) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def enterprise_documents_size(*, enterprise: Enterprise) -> int:
    """Bytes the enterprise's stored documents take (infected ones are deleted, so they do not count)."""
    total = (
        Document.objects.filter(enterprise=enterprise)
        .exclude(scan_status=Document.Scan.INFECTED)
        .aggregate(total=Sum("size"))["total"]
    )
    return total or 0


def document_upload(
    *, enterprise: Enterprise, by: User, doc_type: str, uploaded_file: File, request=None
) -> Document:
    """Check and store an uploaded file as a PENDING document; the malware scan runs after the commit."""
    if doc_type not in Document.Type.values:
        raise ValidationError({"doc_type": _("Choose a document type.")})
    original_name = sanitize_filename(uploaded_file.name or "")
    size = uploaded_file.size or 0
    if size == 0:
        raise _refuse(_("The file is empty."), "empty")
    if size > settings.DOCUMENT_MAX_BYTES:
        raise _refuse(too_large_message(), "too_large")
    kind = _check_content(uploaded_file, original_name)
    sha256 = file_sha256(uploaded_file)

    storage_name = ""
    try:
        with transaction.atomic():
            # Two uploads at once could each see room for themselves and together pass the cap. The
            # enterprise row lock serialises them (on SQLite the IMMEDIATE transaction already does).
            Enterprise.objects.select_for_update().filter(pk=enterprise.pk).values_list("pk").get()
            used = enterprise_documents_size(enterprise=enterprise)
            limit = settings.ENTERPRISE_DOCUMENTS_MAX_BYTES
            if used + size > limit:
                raise _refuse(
                    _(
                        "Your enterprise's documents would take %(total)s, more than the %(limit)s allowed. "
                        "Delete documents you no longer need, then upload again."
                    )
                    % {"total": filesizeformat(used + size), "limit": filesizeformat(limit)},
                    "quota",
                )
            document = Document(
                enterprise=enterprise,
                doc_type=doc_type,
                original_name=original_name,
                content_type=kind.content_type,
                size=size,
                sha256=sha256,
                uploaded_by=by,
                scan_status=Document.Scan.PENDING,
            )
            # upload_to (document_path) ignores the name given here and generates one.
            document.file.save(original_name, uploaded_file, save=False)
            storage_name = document.file.name
            document.save()
            audit_record(
                action="enterprise.document_uploaded",
                actor=by,
                tenant=enterprise.tenant,
                obj=document,
                summary=f"{doc_type} {original_name} ({kind.content_type}, {size} bytes, sha256 {sha256})",
                request=request,
            )
            # robust: with the row committed, a broker that is down must not turn the upload into an
            # error page; the document stays PENDING and documents_stale_pending finds it (C7).
            on_commit_robust(_enqueue_scan, document.pk)
    except BaseException:
        # Nothing stored on failure: the row rolled back, so the file must go too. (If a caller's own
        # outer transaction rolls back later, the file stays behind unreferenced; callers are views
        # and the API, which do not wrap this in a transaction of their own.)
        if storage_name:
            Document._meta.get_field("file").storage.delete(storage_name)
        raise
    return document


def _enqueue_scan(document_id: int) -> None:
    from enterprises.tasks import scan_document

    scan_document.delay(document_id)


# --- scanning ----------------------------------------------------------------------------


@contextmanager
def _local_path(field_file: FieldFile) -> Iterator[str]:
    """A path the scanner can open: the file itself on local disk, else a temporary copy (object storage)."""
    try:
        path = field_file.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="srdi-scan-") as tmp:
        with field_file.open("rb") as source:
            shutil.copyfileobj(source, tmp)
        tmp.flush()
        yield tmp.name


def _documents_link(tenant: Tenant) -> str:
    return reverse("enterprise_documents", kwargs={"tenant_code": tenant.code})


def _purge_file(document_id: int) -> None:
    """Delete an infected document's file from storage and forget its name. Safe to repeat."""
    document = Document.objects.filter(pk=document_id, scan_status=Document.Scan.INFECTED).first()
    if document is None or not document.file.name:
        return
    document.file.storage.delete(document.file.name)
    Document.objects.filter(pk=document_id).update(file="")


def document_scan(*, document_id: int, scanner: Scanner | None = None) -> str | None:
    """Scan a PENDING document and record the verdict; returns the document's scan status.

    Idempotent (reliability.md C1): the verdict is written by a claim-by-update on PENDING, so of two
    runs (a redelivered task, two workers) only one records it, audits it and notifies; the other
    finds the row decided and changes nothing. Raises ScannerUnavailable, leaving the row PENDING, when
    the scanner cannot be reached: the task retries.

    Infected files are deleted, not moved to a quarantine directory: no one may ever open them, the
    signature and sha256 stay on the row and in the audit log for the incident record, and a copy
    kept on the served volume (or in object storage) would be one more thing to protect.
    """
    document = (
        Document.objects.select_related("enterprise__tenant", "uploaded_by").filter(pk=document_id).first()
    )
    if document is None:
        return None
    if document.scan_status == Document.Scan.INFECTED:
        _purge_file(document.pk)  # completes a purge that a crash interrupted
    if document.scan_status != Document.Scan.PENDING:
        return document.scan_status
    scanner = scanner or get_scanner()
    # The scan runs outside any transaction: it may take seconds, and holds no lock meanwhile.
    try:
        with _local_path(document.file) as path:
            result = scanner.scan(path)
    except FileNotFoundError:
        if not Document.objects.filter(pk=document_id).exists():
            return None  # deleted while we scanned
        return _scan_failed(document, detail="the stored file is missing")
    except ScannerUnavailable:
        raise
    except ScanError as exc:
        return _scan_failed(document, detail=str(exc))

    now = timezone.now()
    tenant = document.enterprise.tenant
    with transaction.atomic():
        if result.clean:
            claimed = Document.objects.filter(pk=document.pk, scan_status=Document.Scan.PENDING).update(
                scan_status=Document.Scan.CLEAN, scan_detail="", scanned_at=now
            )
            if not claimed:
                return Document.objects.filter(pk=document.pk).values_list("scan_status", flat=True).first()
            audit_record(
                action="enterprise.document_scanned",
                tenant=tenant,
                obj=document,
                actor_label="scanner",
                summary=f"clean: {document.original_name} sha256 {document.sha256}",
            )
            return Document.Scan.CLEAN
        signature = (result.signature or "unknown")[:200]
        claimed = Document.objects.filter(pk=document.pk, scan_status=Document.Scan.PENDING).update(
            scan_status=Document.Scan.INFECTED, scan_detail=signature, scanned_at=now
        )
        if not claimed:
            return Document.objects.filter(pk=document.pk).values_list("scan_status", flat=True).first()
        audit_record(
            action="enterprise.document_quarantined",
            tenant=tenant,
            obj=document,
            actor_label="scanner",
            summary=f"{signature}: {document.original_name} sha256 {document.sha256}",
            outcome="failure",
        )
        if document.uploaded_by is not None:
            notification_send(
                recipient=document.uploaded_by,
                tenant=tenant,
                subject=_("Your document %(name)s was quarantined") % {"name": document.original_name},
                body=_(
                    "The malware scan found %(signature)s in the file %(name)s, so it has been deleted and "
                    "no one can open it. Check the computer it came from, then upload a clean copy."
                )
                % {"signature": signature, "name": document.original_name},
                link=_documents_link(tenant),
            )
    # After the verdict is committed: a crash between the two leaves an INFECTED row whose file is
    # never served (downloads need CLEAN) and is purged when the document is scanned again.
    _purge_file(document.pk)
    return Document.Scan.INFECTED


def _scan_failed(document: Document, *, detail: str) -> str | None:
    tenant = document.enterprise.tenant
    with transaction.atomic():
        claimed = Document.objects.filter(pk=document.pk, scan_status=Document.Scan.PENDING).update(
            scan_status=Document.Scan.FAILED, scan_detail=detail[:200], scanned_at=timezone.now()
        )
        if not claimed:
            return Document.objects.filter(pk=document.pk).values_list("scan_status", flat=True).first()
        log.error("scan of document %s failed: %s", document.pk, detail)
        audit_record(
            action="enterprise.document_scan_failed",
            tenant=tenant,
            obj=document,
            actor_label="scanner",
            summary=f"{detail}: {document.original_name}",
            outcome="failure",
        )
        if document.uploaded_by is not None:
            notification_send(
                recipient=document.uploaded_by,
                tenant=tenant,
                subject=_("Your document %(name)s could not be checked") % {"name": document.original_name},
                body=_(
                    "The malware scan of %(name)s did not complete, so the file cannot be opened. "
                    "Upload it again; if this happens again, contact the help desk."
                )
                % {"name": document.original_name},
                link=_documents_link(tenant),
            )
    return Document.Scan.FAILED


def documents_stale_pending(*, older_than: timedelta = RESCAN_AFTER, limit: int = 1000) -> list[int]:
    """Documents still PENDING long after upload: their scan task was lost (reliability.md C4, C7).

    `older_than` exceeds the scan task's whole retry window, so a document whose task is still
    retrying is normally left alone; enqueueing it twice would be harmless anyway (document_scan is
    idempotent, and the retries end in FAILED).
    """
    cutoff = timezone.now() - older_than
    return list(
        Document.objects.filter(scan_status=Document.Scan.PENDING, uploaded_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def document_scan_failed(*, document_id: int, detail: str) -> str | None:
    """Give up on a PENDING document after the scanner stayed unavailable through every retry."""
    document = (
        Document.objects.select_related("enterprise__tenant", "uploaded_by").filter(pk=document_id).first()
    )
    if document is None:
        return None
    return _scan_failed(document, detail=detail)


# --- who may open and delete ------------------------------------------------------------


# Extra readers registered by later apps: (document=, user=, tenant=) -> bool. certification adds the
# expert assigned to an application whose snapshot carries the document.
DOCUMENT_READERS: list = []


def document_downloadable_by(*, document: Document, user: User, tenant: Tenant) -> bool:
    """Members and the officials who see the enterprise open CLEAN files; the uploader also their PENDING one.

    SECURITY: the enterprise must be visible to the user in this tenant (members, officials of the
    region, granted commissioners); the views answer 404 otherwise, so a document's existence does not leak.
    """
    if document.enterprise.tenant_id != tenant.pk:
        return False
    member = is_member(user, document.enterprise)  # cached per user: the list page asks once per row
    if not member and not enterprises_visible_to(user, tenant).filter(pk=document.enterprise_id).exists():
        # Someone granted one file through another app (an expert reading a snapshot's attachments).
        return document.scan_status == Document.Scan.CLEAN and any(
            reader(document=document, user=user, tenant=tenant) for reader in DOCUMENT_READERS
        )
    if document.scan_status == Document.Scan.CLEAN:
        return True
    return member and document.scan_status == Document.Scan.PENDING and document.uploaded_by_id == user.pk


def document_can_delete(*, document: Document, user: User) -> bool:
    return is_member(user, document.enterprise) and (
        document.uploaded_by_id == user.pk or is_enterprise_admin(user, document.enterprise)
    )


def document_downloaded(*, document: Document, by: User, request=None) -> None:
    audit_record(
        action="enterprise.document_downloaded",
        actor=by,
        tenant=document.enterprise.tenant,
        obj=document,
        summary=document.original_name,
        request=request,
    )


def document_delete(*, document: Document, by: User, request=None) -> None:
    """Enterprise administrators delete any document of theirs; members delete what they uploaded."""
    if not document_can_delete(document=document, user=by):
        raise PermissionDenied(
            _("Only the enterprise's administrators or the uploader can delete a document.")
        )
    storage = document.file.storage
    name = document.file.name
    with transaction.atomic():
        audit_record(
            action="enterprise.document_deleted",
            actor=by,
            tenant=document.enterprise.tenant,
            obj=document,
            summary=f"{document.doc_type} {document.original_name} sha256 {document.sha256}",
            request=request,
        )
        try:
            with transaction.atomic():
                document.delete()
        except ProtectedError:
            raise ValidationError(
                _("This document is part of a submitted application and is kept as the reviewers saw it.")
            ) from None
        # The file goes only once the row is gone for good: a rollback keeps both.
        if name:
            transaction.on_commit(partial(storage.delete, name))
