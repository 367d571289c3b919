"""Notifications become an outbox (reliability.md C7, C9): the email's requeue count, its last requeue and
the moment it was given up, and a partial index on the rows whose email is still due, for the sweep."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_audit_roles_request_id_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="email_given_up_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="email given up"),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_requeued_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="email last sent again"
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="email_requeues",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="email sent again"
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("email_given_up_at", None), ("emailed_at", None)),
                fields=["created_at"],
                name="notification_email_due",
            ),
        ),
    ]
