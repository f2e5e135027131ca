"""Indexes for the staff dashboard (workspace.stats): the cases decided (or replied to) in a period, and
the cases received in it city-wide. The decision index is partial: open cases have no decision time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('repair', '0003_repaircase_reopened_count'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='repaircase',
            index=models.Index(condition=models.Q(('decided_at__isnull', False)), fields=['decided_at'], name='repair_decided'),
        ),
        migrations.AddIndex(
            model_name='repaircase',
            index=models.Index(fields=['received_at'], name='repair_received'),
        ),
    ]
