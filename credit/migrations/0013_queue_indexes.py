"""Indexes for the staff queues (workspace.queues), which read a page in index order and never the whole
queue (../shared/FINDINGS.md: viewflow's stock queue page takes 46 s at 1,000,000 open tasks).

- `deadline_queue`: the open deadlines (pending, or missed and not yet closed: `Deadline.objects.open()`)
  linked to a task's boundary timer, per case type by due date: the queue's default order. Deadlines without
  a timer (a record's, the whole-case clock) and closed ones (met, missed and closed, ...) are not in it, so
  it does not grow with history. The case and the timer are in the index too: the queue reads them for each
  row it walks, from the index alone.
- `viewflow_task_open`: the open human tasks per node and status by creation: the tasks of nodes without a
  clock, and the order by creation.
- `viewflow_task_archive`: each user's finished human tasks by the moment they were finished.

Written in SQL, like 0009, because two are on viewflow's table; the same statements work on SQLite."""

from django.db import migrations

INDEXES = {
    "deadline_queue": (
        "credit_deadline (content_type_id, due_date, id, object_id, task_id) "
        "WHERE status IN ('pending', 'missed') AND closed_at IS NULL AND task_id IS NOT NULL"
    ),
    "viewflow_task_open": (
        "viewflow_task (flow_task, status, created, id) "
        "WHERE status IN ('NEW', 'ASSIGNED', 'STARTED') AND flow_task_type = 'HUMAN'"
    ),
    "viewflow_task_archive": (
        "viewflow_task (owner_id, finished, id) WHERE finished IS NOT NULL AND flow_task_type = 'HUMAN'"
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0012_escalation_paths_end_at_the_escalation"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(sql=f"CREATE INDEX {name} ON {definition}", reverse_sql=f"DROP INDEX {name}")
        for name, definition in INDEXES.items()
    ]
