"""The indexes of migration credit 0013 that only the old way of reading the queues used (walking the open
deadlines in due order and checking each case): the queues read workspace.OpenTask now. Fewer indexes to
write at every filing and step. Kept: `viewflow_task_open`, `viewflow_task_archive`,
`viewflow_process_artifact_queue`, `viewflow_task_open_process` (the stock pages, the archive and finding a
case's work) and `<case>_queue_scope` (the dashboard's counts by department and state)."""

from django.db import migrations

DROPPED = {
    "deadline_queue": (
        "credit_deadline (content_type_id, due_date, id, object_id, task_id) "
        "WHERE status IN ('pending', 'missed') AND closed_at IS NULL AND task_id IS NOT NULL"
    ),
    "deadline_queue_case": (
        "credit_deadline (content_type_id, object_id, due_date, id, task_id) "
        "WHERE status IN ('pending', 'missed') AND closed_at IS NULL AND task_id IS NOT NULL"
    ),
    "repair_queue_case": "repair_repaircase (id, department_id, state)",
    "objection_queue_case": "objections_objection (id, department_id, state)",
    "reconsideration_queue_case": "objections_reconsideration (id, department_id, state)",
    "complaint_queue_case": "objections_complaint (id, department_id, state)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0013_queue_indexes"),
        ("workspace", "0002_open_tasks"),
    ]

    operations = [
        migrations.RunSQL(sql=f"DROP INDEX IF EXISTS {name}", reverse_sql=f"CREATE INDEX {name} ON {definition}")
        for name, definition in DROPPED.items()
    ]
