"""Mark the done visits that already have a record of every form their definition names
(`ScheduledVisit.forms_complete`, new in patients 0006), so that the missing-forms work
list need not probe them. The rule as it stands at this migration: eligibility and adverse
events are entered on pages of their own and never lack; a scored instrument is answered
by an instrument response, TREG by a Treg panel, STEROID by a steroid dose, any other code
by a form record. The mark is outside the audit trail (derived from records that have
their own), so this writes no event. A visit left unmarked is still judged by its records.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q

NOT_AT_VISITS = {"ELIG", "AE"}
INSTRUMENTS = {"RPDAI", "HAMD17", "PHQ9", "SLEDAI2K"}


def mark(apps, schema_editor):
    alias = schema_editor.connection.alias
    visit = apps.get_model("patients", "ScheduledVisit")
    definition = apps.get_model("trials", "VisitDefinition")

    def records(code):
        if code in INSTRUMENTS:
            return apps.get_model("assessments", "InstrumentResponse").objects.filter(
                instrument=code
            )
        if code == "TREG":
            return apps.get_model("assessments", "TregPanel").objects.all()
        if code == "STEROID":
            return apps.get_model("assessments", "SteroidDose").objects.all()
        return apps.get_model("assessments", "FormRecord").objects.filter(form_code=code)

    codes = {
        code
        for forms in definition.objects.using(alias).values_list("forms", flat=True)
        for code in forms
    } - NOT_AT_VISITS
    lacking = Q(pk__in=[])
    for code in sorted(codes):
        at_visit = records(code).using(alias).filter(scheduled_visit=OuterRef("pk"))
        lacking |= Q(definition__forms__contains=[code]) & ~Exists(at_visit)
    (
        visit.objects.using(alias)
        .filter(status="done", forms_complete=False, definition__isnull=False)
        .exclude(lacking)
        .update(forms_complete=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_steroid_total_with_concomitant_glucocorticoids"),
        ("patients", "0006_visit_forms_complete"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
