"""Refresh ahead with a real Celery worker: after a change, the worker counts the dashboard in use again."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from reports import aggregates
from tests.enterprises.conftest import make_enterprise
from tests.portal.test_worker import celery_worker_process  # noqa: F401 - the worker fixture
from tests.reports.test_dashboard import signed_in, url

pytestmark = pytest.mark.services


def test_after_a_change_the_worker_counts_the_provincial_dashboard_again(
    client,
    world,
    province_reviewer,
    celery_worker_process,  # noqa: F811
):
    client = signed_in(client, province_reviewer)
    assert client.get(url(world.tenant)).status_code == 200  # looked at: on the tenant's list
    today = timezone.localdate()
    root = world.tenant.root_region
    before = aggregates.dashboard_data(world.tenant, root, today.year)["certified_total"]
    # when a certification is published and committed
    with transaction.atomic():
        world.certifier.certify(make_enterprise(world.tenant, "520103", 953, name="工作进程计数企业有限公司"))
    key = aggregates.dashboard_key(world.tenant.pk, root.pk, today.year, today)
    # then, without anyone opening the page, the worker has the new generation's numbers in the cache
    deadline = time.monotonic() + 45
    counted = None
    while time.monotonic() < deadline and counted is None:
        assert celery_worker_process.poll() is None, "the worker died; see .pytest_cache/celery-worker.log"
        found = cache.get(key)
        if found is not None and found["generation"] == aggregates.generation(world.tenant.pk):
            counted = found
        time.sleep(0.5)
    assert counted is not None, "the worker did not count the dashboard again within 45 s"
    assert counted["certified_total"] == before + 1
