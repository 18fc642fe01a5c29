"""Open311 filings wait as received reports (issue #22 item 2): a request's case is empty
until registered, the tracking code links the two; attributes carry their change time
(discovery's changeset, item 5); districts may open public reads (item 1)."""

import django.db.models.deletion
from django.db import migrations, models


def tracking_codes_from_cases(apps, schema_editor):
    ServiceRequest = apps.get_model("open311", "ServiceRequest")
    for row in ServiceRequest.objects.filter(tracking_code="").select_related("case").iterator(chunk_size=1000):
        ServiceRequest.objects.filter(pk=row.pk).update(tracking_code=row.case.tracking_code)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0025_category_changed_sensitive_intake_open311"),
        ("grid", "0007_posts_for_organisations_and_mediators"),
        ("open311", "0002_hotline_clients"),
    ]

    operations = [
        migrations.AddField(
            model_name="serviceattribute",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="changed at"),
        ),
        migrations.AlterField(
            model_name="servicerequest",
            name="case",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                       related_name="open311", to="cases.case", verbose_name="case"),
        ),
        migrations.AddField(
            model_name="servicerequest",
            name="tracking_code",
            field=models.CharField(default="", max_length=16, verbose_name="tracking code"),
            preserve_default=False,
        ),
        migrations.RunPython(tracking_codes_from_cases, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="servicerequest",
            name="tracking_code",
            field=models.CharField(max_length=16, unique=True, verbose_name="tracking code"),
        ),
        migrations.CreateModel(
            name="PublicReads",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enabled", models.BooleanField(default=False, help_text="Anyone may read this district's ordinary matters over Open311 without an API key: service, status, public notes, building and dates only, never who reported them.", verbose_name="public reads")),
                ("changed_at", models.DateTimeField(auto_now=True, verbose_name="changed at")),
                ("district", models.OneToOneField(limit_choices_to={"kind": "district"}, on_delete=django.db.models.deletion.CASCADE, related_name="open311_public_reads", to="grid.area", verbose_name="district")),
            ],
            options={
                "verbose_name": "Open311 public reads",
                "verbose_name_plural": "Open311 public reads",
                "ordering": ["district_id"],
            },
        ),
    ]
