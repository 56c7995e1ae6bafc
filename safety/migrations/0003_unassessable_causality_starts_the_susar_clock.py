"""Serious, unexpected events of conditional or unassessable causality are SUSARs (ICH E2A:
related until clarified). Rows saved before this rule get their regulator clocks now, with
a reason in the audit trail, so no open SUSAR hides from the reminder sweep."""

from django.db import migrations

from audit.tracking import reason_in_migration
from safety import clocks

REASON = "Causality not assessable counts as related for expedited reporting (ICH E2A)"


def start_the_clocks(apps, schema_editor):
    events = apps.get_model("safety", "AdverseEvent").objects.using(
        schema_editor.connection.alias
    )
    affected = events.filter(
        serious=True,
        expectedness="unexpected",
        relationship__in=["conditional", "unassessable"],
        is_susar=False,
    ).select_related("participant__site")
    reason_in_migration(schema_editor, REASON)
    for adverse_event in affected:
        result = clocks.compute_clocks(
            awareness_at=adverse_event.awareness_at,
            tz=adverse_event.participant.site.timezone,
            serious=True,
            relationship=adverse_event.relationship,
            unexpected=True,
            fatal_or_life_threatening=adverse_event.results_in_death
            or adverse_event.life_threatening,
        )
        events.filter(pk=adverse_event.pk).update(
            is_susar=result.is_susar,
            regulator_report_due=result.regulator_report_due,
            regulator_complete_report_due=result.regulator_complete_report_due,
        )


class Migration(migrations.Migration):
    dependencies = [("safety", "0002_no_hard_delete")]

    operations = [migrations.RunPython(start_the_clocks, migrations.RunPython.noop)]
