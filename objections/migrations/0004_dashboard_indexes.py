"""Indexes for the staff dashboard (workspace.stats): the cases decided (or replied to) in a period, and
the cases received in it city-wide. The decision index is partial: open cases have no decision time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('objections', '0003_complaint'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='complaint',
            index=models.Index(condition=models.Q(('replied_at__isnull', False)), fields=['replied_at'], name='complaint_replied'),
        ),
        migrations.AddIndex(
            model_name='complaint',
            index=models.Index(fields=['received_at'], name='complaint_received'),
        ),
        migrations.AddIndex(
            model_name='objection',
            index=models.Index(condition=models.Q(('decided_at__isnull', False)), fields=['decided_at'], name='objection_decided'),
        ),
        migrations.AddIndex(
            model_name='objection',
            index=models.Index(fields=['received_at'], name='objection_received'),
        ),
        migrations.AddIndex(
            model_name='reconsideration',
            index=models.Index(condition=models.Q(('decided_at__isnull', False)), fields=['decided_at'], name='reconsideration_decided'),
        ),
        migrations.AddIndex(
            model_name='reconsideration',
            index=models.Index(fields=['received_at'], name='reconsideration_received'),
        ),
    ]
