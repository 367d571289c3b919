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
    # Audit events older than AUDIT_RETENTION_DAYS (≥ 183, 网络安全法 §21) go; nothing else ever
    # deletes them (reliability.md L6).
    "daily-purge-audit": {
        "task": "portal.tasks.purge_audit_events",
        "schedule": crontab(hour=3, minute=40),
    },
    "daily-review-deadline-reminders": {
        "task": "certification.tasks.send_deadline_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
    # Notification emails whose task was lost (a broker down at the commit, a Redis restart): send them
    # again, at most portal.notifications.MAX_EMAIL_REQUEUES times (C7, C9).
    "every-10-minutes-requeue-notification-emails": {
        "task": "portal.tasks.requeue_notification_emails",
        "schedule": crontab(minute="*/10"),
    },
    # Development reports whose task was lost with its worker or its broker: send them again (C7).
    "every-10-minutes-requeue-stuck-report-jobs": {
        "task": "reports.tasks.requeue_stuck_report_jobs",
        "schedule": crontab(minute="*/10"),
    },
}

# When each task acknowledges its message (reliability.md C3), checked against the tasks by
# tests/faults/test_celery_config.py, so a new task must say which it is and why.
# - Late (acks_late=True): the message is acknowledged when the task returns, so a worker killed outright leaves
#   it to be redelivered after the visibility timeout; the task must be idempotent by key (C1). A pool child
#   killed mid-task still acknowledges it (reject_on_worker_lost stays off: no redelivery loop, C9); the stuck
#   business row is then found by a sweep (C7).
# - Early (the default): periodic sweeps, where a run lost with its worker is replaced by the next run.
TASK_ACKS = {
    "portal.tasks.deliver_notification": ("late", "the email claimed by an update on emailed_at"),
    "portal.tasks.requeue_notification_emails": ("early", "periodic sweep, each send claimed by an update"),
    "portal.tasks.purge_audit_events": ("late", "deletes only what is past retention; a rerun removes 0"),
    "enterprises.tasks.scan_document": ("late", "claims the PENDING document; hourly rescan of stale ones"),
    "enterprises.tasks.rescan_stale_documents": ("early", "periodic sweep"),
    "enterprises.tasks.refresh_facts": ("late", "writes only changed facts"),
    "certification.tasks.screen_enterprise": ("late", "idempotent by facts hash and criteria version"),
    "certification.tasks.run_screening_batch": ("late", "chunks counted once by the batch"),
    "certification.tasks.send_deadline_reminders": ("late", "one reminder per (stage, region, day)"),
    "certification.tasks.generate_certificate": (
        "late",
        "a rendered certificate is kept (conditional UPDATE)",
    ),
    "certification.tasks.render_published_list": ("late", "a rendered list is kept (conditional UPDATE)"),
    "certification.tasks.scan_objection_evidence": ("late", "claims the PENDING file; hourly rescan"),
    "certification.tasks.rescan_stale_objection_evidence": ("early", "periodic sweep"),
    "certification.tasks_lifecycle.run_daily": ("late", "one DailyRun row per day"),
    "certification.tasks_lifecycle.scan_revocation_evidence": (
        "late",
        "claims the PENDING file; hourly rescan",
    ),
    "certification.tasks_lifecycle.rescan_stale_revocation_evidence": ("early", "periodic sweep"),
    "reports.tasks.render_development_report": ("late", "the first stored file is kept; reports.reconcile"),
    "reports.tasks.requeue_stuck_report_jobs": ("early", "periodic sweep, each send claimed by an update"),
    "reports.tasks.refresh_dashboards": ("early", "a lost refresh leaves the counting to the next visitor"),
}
