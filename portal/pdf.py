"""PDFs (申报书, notices, certificates) rendered from our own templates with WeasyPrint.

WeasyPrint is imported inside the functions: it needs pango, and the rest of the portal
(management commands, the API, most tests) runs without it.

SECURITY: a PDF is rendered on the server, so anything the HTML points at is fetched by the
server. The templates autoescape what enterprises typed (a name like
`<img src="file:///etc/passwd">` prints as text), and the URL fetcher below serves only our own
static files: `file://` URLs, other hosts and other schemes are refused, so a template mistake
cannot read a server file or reach the network (server-side request forgery).
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

# The base URL the HTML is rendered against. No such host exists: only `url_fetcher` understands it,
# and it turns `/static/…` below it into a file of ours.
BASE_URL = "http://pdf.srdi-portal.invalid/"


class ResourceRefused(ValueError):
    """The PDF asked for something other than one of our static files."""


def static_path_for(url: str) -> Path:
    """The file on disk behind `url`, when it is one of our static files; otherwise ResourceRefused."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if parts.scheme != base.scheme or parts.netloc != base.netloc:
        raise ResourceRefused(f"PDF resources come only from our static files, not {url!r}")
    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    path = unquote(parts.path)
    if not path.startswith(static_prefix):
        raise ResourceRefused(f"not a static file: {url!r}")
    relative = path[len(static_prefix) :]
    if not relative or any(part in ("", ".", "..") for part in relative.split("/")) or "\\" in relative:
        raise ResourceRefused(f"not a static file: {url!r}")
    found = finders.find(relative)
    if found:
        return Path(found)
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = (root / relative).resolve()
        # resolve() follows symlinks: the file must still be inside STATIC_ROOT afterwards.
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    raise ResourceRefused(f"no such static file: {url!r}")


def url_fetcher(url: str, headers=None):
    """WeasyPrint's fetch for one URL: our static files, nothing else (raises ResourceRefused)."""
    from weasyprint.urls import URLFetcherResponse

    try:
        path = static_path_for(url)
    except ResourceRefused:
        log.warning("PDF resource refused: %s", url[:200])
        raise
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": content_type})


def _fetcher():
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        """Hands every URL to `url_fetcher`: no file://, no network, whatever the HTML says."""

        def fetch(self, url, headers=None):
            return url_fetcher(url, headers)

    return StaticOnlyFetcher()


def render_pdf(template_name: str, context: dict[str, Any], *, request=None) -> bytes:
    """Render a Django template (autoescaped as any page) to PDF bytes."""
    import weasyprint

    html = render_to_string(template_name, context, request=request)
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher())
    return document.write_pdf()
