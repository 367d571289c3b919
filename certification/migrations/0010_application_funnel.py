from django.db import migrations, models


class Migration(migrations.Migration):
    """The dashboard's funnel (reports.aggregates._funnel) reads a round's applications by county, state and level
    from this index alone."""

    dependencies = [
        ("certification", "0009_certification_county_section"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["tenant", "round", "county", "state", "level"], name="application_funnel"),
        ),
    ]
