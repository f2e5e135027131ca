"""The staff queues' read model (workspace.models.OpenTask), filled with the open human tasks of the four case
flows as they are when it is created. The fill is frozen here in SQL (as workspace.open_tasks.sync_all does it
today), so that later changes to that module do not change what this migration did."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# (flow reference as viewflow stores it, app label and model of the case)
FLOWS = [
    ("repair/flows.RepairFlow", "repair", "repaircase"),
    ("objections/flows.ObjectionFlow", "objections", "objection"),
    ("objections/flows.ReconsiderationFlow", "objections", "reconsideration"),
    ("objections/flows.ComplaintFlow", "objections", "complaint"),
]


def fill(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for flow, app_label, model in FLOWS:
            case_type = ContentType.objects.filter(app_label=app_label, model=model).first()
            if case_type is None:  # a fresh database: nothing to copy
                continue
            cursor.execute(
                "INSERT INTO workspace_opentask (task_id, flow_task, status, owner_id, created, case_type_id, "
                "case_id, department_id, person_id, due_date) "
                "SELECT t.id, t.flow_task, t.status, t.owner_id, t.created, %s, c.id, c.department_id, "
                "c.person_id, (SELECT d.due_date FROM credit_deadline d "
                "JOIN viewflow_task_previous p ON p.from_task_id = d.task_id WHERE p.to_task_id = t.id "
                "AND (d.status = 'pending' OR (d.status = 'missed' AND d.closed_at IS NULL)) "
                "ORDER BY d.id DESC LIMIT 1) "
                "FROM viewflow_task t JOIN viewflow_process pr ON pr.id = t.process_id "
                f"JOIN {app_label}_{model} c ON c.id = pr.artifact_object_id "
                "WHERE t.flow_task_type = 'HUMAN' AND t.status IN ('NEW', 'ASSIGNED', 'STARTED') "
                "AND pr.flow_class = %s AND pr.artifact_content_type_id = %s",
                [case_type.pk, flow, case_type.pk],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('credit', '0015_audit_export_and_log_indexes'),
        ('repair', '0004_dashboard_indexes'),
        ('objections', '0005_reconsideration_evidence'),
        ('viewflow', '0015_task_scheduled'),
        ('workspace', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OpenTask',
            fields=[
                ('task', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='viewflow.task')),
                ('flow_task', models.CharField(max_length=255)),
                ('status', models.CharField(max_length=50)),
                ('created', models.DateTimeField()),
                ('case_id', models.PositiveBigIntegerField()),
                ('due_date', models.DateField(blank=True, null=True)),
                ('case_type', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype')),
                ('department', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credit.department')),
                ('owner', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credit.person')),
            ],
            options={
                'verbose_name': 'open task',
                'verbose_name_plural': 'open tasks',
                'indexes': [models.Index(condition=models.Q(('due_date__isnull', False)), fields=['flow_task', 'due_date', 'created', 'task'], name='opentask_step_due'), models.Index(condition=models.Q(('due_date__isnull', False)), fields=['department', 'flow_task', 'due_date', 'created', 'task'], name='opentask_dept_due'), models.Index(condition=models.Q(('due_date__isnull', True)), fields=['flow_task', 'created', 'task'], name='opentask_step_untimed'), models.Index(condition=models.Q(('due_date__isnull', True)), fields=['department', 'flow_task', 'created', 'task'], name='opentask_dept_untimed'), models.Index(fields=['flow_task', 'created', 'task'], name='opentask_step_created'), models.Index(fields=['department', 'flow_task', 'created', 'task'], name='opentask_dept_created'), models.Index(condition=models.Q(('owner__isnull', False)), fields=['owner', 'flow_task', 'due_date', 'created', 'task'], name='opentask_owner_due'), models.Index(fields=['case_type', 'case_id'], name='opentask_case'), models.Index(fields=['person'], name='opentask_person')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
