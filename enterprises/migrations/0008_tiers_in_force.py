from django.db import migrations, models


def fill_tiers(apps, schema_editor):
    """The tiers of every enterprise's certifications in force, as certification.directory_cache keeps them."""
    Enterprise = apps.get_model("enterprises", "Enterprise")
    Certification = apps.get_model("certification", "Certification")
    tiers: dict[int, set[str]] = {}
    rows = Certification.objects.filter(status="active").values_list("enterprise_id", "program__tier")
    for enterprise_id, tier in rows.iterator(chunk_size=5000):
        tiers.setdefault(enterprise_id, set()).add(tier)
    by_value: dict[str, list[int]] = {}
    for pk, found in tiers.items():
        by_value.setdefault(f"|{'|'.join(sorted(found))}|", []).append(pk)
    for value, pks in by_value.items():
        for start in range(0, len(pks), 1000):
            Enterprise.objects.filter(pk__in=pks[start : start + 1000]).update(tiers_in_force=value)


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0007_directory_listed"),
        ("certification", "0009_certification_county_section"),
    ]

    operations = [
        migrations.AddField(
            model_name="enterprise",
            name="tiers_in_force",
            field=models.CharField(blank=True, default="", editable=False, max_length=80),
        ),
        migrations.RunPython(fill_tiers, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(
                condition=models.Q(("directory_listed", True)),
                fields=["tenant", "county", "tiers_in_force", "id"],
                name="enterprise_tiers_in_force",
            ),
        ),
    ]
