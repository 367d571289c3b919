"""The Celery app. Without REDIS_URL, tasks run in-process (settings: CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# All periodic jobs live here, under readable names (style.md 18). Later issues add to it.
app.conf.beat_schedule = {
    # A scan task lost with a broker outage leaves its document pending: send it again.
    "hourly-rescan-stale-documents": {
        "task": "enterprises.tasks.rescan_stale_documents",
        "schedule": crontab(minute=17),
    },
    # The same for the evidence files attached to objections to a public notice.
    "hourly-rescan-stale-objection-evidence": {
        "task": "certification.tasks.rescan_stale_objection_evidence",
        "schedule": crontab(minute=23),
    },
    # Facts and size class read "the last complete fiscal year", which moves on 1 January.
    "daily-refresh-enterprise-facts": {
        "task": "enterprises.tasks.refresh_facts",
        "schedule": crontab(hour=2, minute=5),
    },
    # Reviewers hear of applications waiting at their region when their level's deadline is near.
    # Dynamic management: expiry reminders, expiry, monitoring. One DailyRun row per day makes a second
    # beat process (or a rerun) do nothing (certification.lifecycle.run_daily).
    "daily-lifecycle": {
        "task": "certification.tasks_lifecycle.run_daily",
        "schedule": crontab(hour=1, minute=30),
    },
    # Revocation evidence left unscanned by a broker outage: send it again.
    "hourly-rescan-stale-revocation-evidence": {
        "task": "certification.tasks_lifecycle.rescan_stale_revocation_evidence",
        "schedule": crontab(minute=29),
    },
    "daily-review-deadline-reminders": {
        "task": "certification.tasks.send_deadline_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
}
