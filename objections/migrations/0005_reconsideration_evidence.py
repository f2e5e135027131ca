# Evidence files of an administrative reconsideration: with the application, and in answer to a supplement.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("objections", "0004_dashboard_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReconsiderationEvidence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file", models.FileField(upload_to="reconsiderations/evidence/%Y/")),
                ("original_name", models.CharField(max_length=200, verbose_name="file name")),
                ("content_type", models.CharField(max_length=60)),
                ("size", models.PositiveIntegerField()),
                ("sha256", models.CharField(max_length=64)),
                ("description", models.CharField(blank=True, max_length=300, verbose_name="description")),
                (
                    "supplement",
                    models.BooleanField(default=False, verbose_name="answers the notice to supplement"),
                ),
                ("uploaded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "reconsideration",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evidence",
                        to="objections.reconsideration",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "reconsideration evidence",
                "verbose_name_plural": "reconsideration evidence",
                "ordering": ["uploaded_at", "id"],
            },
        ),
    ]
