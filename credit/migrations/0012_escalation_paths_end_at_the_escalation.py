"""The escalation paths of the case flows end at the escalation itself (credit.flows.Escalate): their
`escalated` End nodes are gone. The End tasks that earlier escalations left behind carry nothing (the
escalation task before each holds what happened) and name nodes that no longer exist, so viewflow could not
load them: they are removed, with their links to the escalation task."""

from django.db import migrations

ENDS = [
    "credit/flows.RecordMaskFlow.escalated",
    "repair/flows.RepairFlow.escalated",
    "objections/flows.ObjectionFlow.escalated",
    "objections/flows.ReconsiderationFlow.escalated",
    "objections/flows.ComplaintFlow.escalated",
]


def remove_escalated_ends(apps, schema_editor):
    # In SQL: loading such a row through the ORM would resolve its node, which no longer exists.
    connection = schema_editor.connection
    ends = "SELECT id FROM viewflow_task WHERE flow_task_type = 'END' AND flow_task IN (%s)" % ", ".join(
        ["%s"] * len(ENDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM viewflow_task_previous WHERE to_task_id IN ({ends}) OR from_task_id IN ({ends})",
            ENDS + ENDS,
        )
        cursor.execute(f"DELETE FROM viewflow_task WHERE id IN ({ends})", ENDS)


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0011_deadline_provisional_index"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(remove_escalated_ends, migrations.RunPython.noop)]
