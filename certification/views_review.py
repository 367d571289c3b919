"""Officials' pages: being written (helper-owned; placeholder until then)."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


round_list = round_edit = round_detail = review_queue = review_queue_export = review_bulk = _todo
review_detail = review_act = review_experts = review_pdf = expert_home = expert_review = _todo
