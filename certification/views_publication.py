"""Pages of the public notice and publication: being written (helper-owned; placeholder until then)."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


notice_public_list = notice_public = notice_pdf = objection_new = published_public = published_pdf = _todo
published_xlsx = published_verify = verify = notice_manage_list = notice_create = notice_manage = _todo
notice_publish = objection_resolve = published_manage = certificates_retry = certification_list = _todo
certificate_download = _todo
