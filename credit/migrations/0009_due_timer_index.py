"""A partial index on viewflow's task table for the timer sweep (credit.timers): the due timers are the
scheduled ones, by due moment. Fired timers leave it, so a sweep with nothing due reads one index page
however large the table grows (../shared/FINDINGS.md: without it, fired timers kept matching)."""

from django.db import migrations

INDEX = "viewflow_task_due_timers"


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0008_overlay_complaint_reply_days"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX {INDEX} ON viewflow_task (scheduled, id) "
                "WHERE status = 'SCHEDULED' AND flow_task_type = 'TIMER'"
            ),
            reverse_sql=f"DROP INDEX {INDEX}",
        )
    ]
