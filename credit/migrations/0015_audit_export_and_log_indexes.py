"""The log exports get their own append-only table (AuditExport) instead of rows in the transition log, whose
rows are legal steps; the exports already recorded there are copied over (the old rows stay: the log is
append-only). Indexes for the auditor's pages: the access log by (at, id) and by the case it was opened from,
the transition log by number and by the case that caused a step."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


EXPORT_STEPS = ("export_transitions_log", "export_accesses_log")


def copy_exports(apps, schema_editor):  # type: ignore[no-untyped-def]
    TransitionLog = apps.get_model("credit", "TransitionLog")
    AuditExport = apps.get_model("credit", "AuditExport")
    rows = []
    for step in TransitionLog.objects.filter(transition__in=EXPORT_STEPS, actor__isnull=False).order_by("pk"):
        payload = dict(step.payload or {})
        log = payload.pop("log", step.transition.split("_")[1])
        up_to = payload.pop("up_to_id", None) or 0
        rows.append(AuditExport(user_id=step.actor_id, log=log, filters=payload, up_to_id=up_to, at=step.at))
    AuditExport.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('credit', '0014_deadline_missed_open'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('log', models.CharField(choices=[('transitions', 'transition log'), ('accesses', 'data access log')], max_length=20, verbose_name='log')),
                ('filters', models.JSONField(blank=True, default=dict, verbose_name='filters')),
                ('up_to_id', models.PositiveBigIntegerField(verbose_name='last row covered')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
            ],
            options={
                'verbose_name': 'log export',
                'verbose_name_plural': 'log exports',
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['at', 'id'], name='accesslog_at'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['case_content_type', 'case_object_id'], name='accesslog_case'),
        ),
        migrations.AddIndex(
            model_name='transitionlog',
            index=models.Index(fields=['object_number'], name='transitionlog_number'),
        ),
        migrations.AddIndex(
            model_name='transitionlog',
            index=models.Index(condition=models.Q(('via_object_id__isnull', False)), fields=['via_content_type', 'via_object_id'], name='transitionlog_via'),
        ),
        migrations.AddField(
            model_name='auditexport',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AddIndex(
            model_name='auditexport',
            index=models.Index(fields=['at', 'id'], name='auditexport_at'),
        ),
        migrations.RunPython(copy_exports, migrations.RunPython.noop),
    ]
