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
    # Facts and size class read "the last complete fiscal year", which moves on 1 January.
    "daily-refresh-enterprise-facts": {
        "task": "enterprises.tasks.refresh_facts",
        "schedule": crontab(hour=2, minute=5),
    },
    # Reviewers hear of applications waiting at their region when their level's deadline is near.
    "daily-review-deadline-reminders": {
        "task": "certification.tasks.send_deadline_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
}
