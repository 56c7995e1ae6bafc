"""The Treg/Tcon ratio is kept to four decimal places (5 % / 80 % is 0.0625, not 0.063).

Panels saved before were rounded to three places: their ratio is recomputed from the entered
percentages, which the record keeps exactly, under an audit reason.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models

from audit.tracking import reason_in_migration

STEP = Decimal("0.0001")


def recompute_ratios(apps, schema_editor):
    panels = apps.get_model("assessments", "TregPanel").objects.using(
        schema_editor.connection.alias
    )
    reason_in_migration(schema_editor, "Treg/Tcon ratio recomputed to four decimal places")
    for panel in panels.filter(treg_tcon_ratio__isnull=False).iterator():
        if not panel.tcon_pct_of_cd4:
            continue
        ratio = (panel.treg_pct_of_cd4 / panel.tcon_pct_of_cd4).quantize(
            STEP, rounding=ROUND_HALF_UP
        )
        if ratio != panel.treg_tcon_ratio:
            panels.filter(pk=panel.pk).update(treg_tcon_ratio=ratio)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_no_hard_delete"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tregpanel",
            name="treg_tcon_ratio",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                max_digits=11,
                null=True,
                verbose_name="Treg/Tcon ratio",
            ),
        ),
        migrations.AlterField(
            model_name="tregpanelevent",
            name="treg_tcon_ratio",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                max_digits=11,
                null=True,
                verbose_name="Treg/Tcon ratio",
            ),
        ),
        migrations.RunPython(recompute_ratios, migrations.RunPython.noop),
    ]
