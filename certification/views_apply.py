"""Enterprise pages of the application: being written (helper-owned; placeholder until then)."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


application_list = application_start = application_detail = application_save = _todo
application_attachments = application_submit = application_withdraw = application_pdf = _todo
