"""Indexes for the staff queues (workspace.queues), which read a page in index order and never the whole
queue (../shared/FINDINGS.md: viewflow's stock queue page takes 46 s at 1,000,000 open tasks).

- `deadline_queue`: the open deadlines (pending, or missed and not yet closed: `Deadline.objects.open()`)
  linked to a task's boundary timer, per case type by due date: the queue's default order. Deadlines without
  a timer (a record's, the whole-case clock) and closed ones (met, missed and closed, ...) are not in it, so
  it does not grow with history. The case and the timer are in the index too: the queue reads them for each
  row it walks, from the index alone.
- `viewflow_task_open`: the open human tasks per node by creation (their status beside: the queue wants the
  unclaimed ones, a head's team list all open ones): the tasks of nodes without a clock, and the order by
  creation.
- `viewflow_task_archive`: each user's finished human tasks by the moment they were finished.

The others let the queue find a page from the cases' side when they are few, and check a case or a task
from an index alone when it walks the due order (workspace.queues._scope):

- `<case>_queue_scope` (department, state, id): the ids of the cases in scope, a bounded read;
- `<case>_queue_case` (id, department, state): is this case in scope, asked for each row walked;
- `deadline_queue_case`: the open, timed deadlines of given cases, with what the page needs;
- `viewflow_process_artifact_queue` and `viewflow_task_open_process`: the open human tasks of given cases.

Written in SQL, like 0009, because most are on other apps' tables (viewflow's, the case apps'); the same
statements work on SQLite."""

from django.db import migrations

INDEXES = {
    "deadline_queue": (
        "credit_deadline (content_type_id, due_date, id, object_id, task_id) "
        "WHERE status IN ('pending', 'missed') AND closed_at IS NULL AND task_id IS NOT NULL"
    ),
    "viewflow_task_open": (
        "viewflow_task (flow_task, created, id, status) "
        "WHERE status IN ('NEW', 'ASSIGNED', 'STARTED') AND flow_task_type = 'HUMAN'"
    ),
    "viewflow_task_archive": (
        "viewflow_task (owner_id, finished, id) WHERE finished IS NOT NULL AND flow_task_type = 'HUMAN'"
    ),
    "deadline_queue_case": (
        "credit_deadline (content_type_id, object_id, due_date, id, task_id) "
        "WHERE status IN ('pending', 'missed') AND closed_at IS NULL AND task_id IS NOT NULL"
    ),
    "viewflow_process_artifact_queue": "viewflow_process (artifact_content_type_id, artifact_object_id, id)",
    "viewflow_task_open_process": (
        "viewflow_task (process_id, flow_task, status, created, id) "
        "WHERE status IN ('NEW', 'ASSIGNED', 'STARTED') AND flow_task_type = 'HUMAN'"
    ),
}
CASES = {
    "repair": "repair_repaircase",
    "objection": "objections_objection",
    "reconsideration": "objections_reconsideration",
    "complaint": "objections_complaint",
}
for _name, _table in CASES.items():
    INDEXES[f"{_name}_queue_scope"] = f"{_table} (department_id, state, id)"
    INDEXES[f"{_name}_queue_case"] = f"{_table} (id, department_id, state)"


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0012_escalation_paths_end_at_the_escalation"),
        ("viewflow", "0015_task_scheduled"),
        ("repair", "0003_repaircase_reopened_count"),
        ("objections", "0003_complaint"),
    ]

    operations = [
        migrations.RunSQL(sql=f"CREATE INDEX {name} ON {definition}", reverse_sql=f"DROP INDEX {name}")
        for name, definition in INDEXES.items()
    ]
