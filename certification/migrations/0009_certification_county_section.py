"""Certification.county and .industry_section: the enterprise's, copied so that the dashboards count
certifications by region and industry section without a join to every enterprise (issue 9, speed)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr


def copy_from_enterprises(apps, schema_editor):
    Certification = apps.get_model("certification", "Certification")
    Enterprise = apps.get_model("enterprises", "Enterprise")
    of_enterprise = Enterprise.objects.filter(pk=OuterRef("enterprise_id"))
    Certification.objects.update(
        county_id=Subquery(of_enterprise.values("county_id")),
        industry_section=Subquery(of_enterprise.values(section=Substr("industry_id", 1, 1))),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0008_lifecycle"),
        ("enterprises", "0006_lifecycle"),
        ("portal", "0002_audit_append_only_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="certification",
            name="county",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.region",
                verbose_name="county",
            ),
        ),
        migrations.AddField(
            model_name="certification",
            name="industry_section",
            field=models.CharField(blank=True, max_length=1, verbose_name="industry section"),
        ),
        migrations.RunPython(copy_from_enterprises, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certification",
            name="county",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.region",
                verbose_name="county",
            ),
        ),
    ]
