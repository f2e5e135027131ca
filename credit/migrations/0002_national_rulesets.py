from django.db import migrations
from django.utils import timezone


def install(apps, schema_editor):
    from credit.rulesets import install as install_rulesets

    install_rulesets(
        apps.get_model("credit", "RuleSet"),
        apps.get_model("credit", "TierRule"),
        apps.get_model("credit", "DomainPeriodRule"),
        apps.get_model("credit", "DeadlineRule"),
        timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
