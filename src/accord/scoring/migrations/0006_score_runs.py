import django.db.models.deletion
from django.db import migrations, models

# History rows name their run (instant, rules and model versions) instead of repeating them:
# one run is made for each distinct (instant, versions) already stored, and each row is
# pointed at it with one set-based UPDATE.


def fill_runs(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scoring_scorerun (computed_at, rule_version, model_version) "
            "SELECT DISTINCT computed_at, rule_version, model_version FROM scoring_leadscore"
        )
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE scoring_leadscore AS l SET run_id = r.id FROM scoring_scorerun AS r "
                "WHERE r.computed_at = l.computed_at AND r.rule_version IS NOT DISTINCT FROM l.rule_version "
                "AND r.model_version IS NOT DISTINCT FROM l.model_version"
            )
            return
        # Each row finds its run through this index; it goes once every row has one.
        cursor.execute("CREATE INDEX scoring_scorerun_match ON scoring_scorerun (computed_at, rule_version, model_version)")
        cursor.execute(
            "UPDATE scoring_leadscore SET run_id = (SELECT r.id FROM scoring_scorerun AS r "
            "WHERE r.computed_at = scoring_leadscore.computed_at AND r.rule_version IS scoring_leadscore.rule_version "
            "AND r.model_version IS scoring_leadscore.model_version)"
        )
        cursor.execute("DROP INDEX scoring_scorerun_match")


class Migration(migrations.Migration):

    dependencies = [
        ("scoring", "0005_narrower_score_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScoreRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("computed_at", models.DateTimeField()),
                ("rule_version", models.PositiveIntegerField(blank=True, null=True)),
                ("model_version", models.PositiveIntegerField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name="leadscore",
            name="run",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="scores", to="scoring.scorerun"),
        ),
        # Back to 0005 only with an empty history: its instant comes back NOT NULL, unfilled.
        migrations.RunPython(fill_runs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="leadscore",
            name="run",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="scores", to="scoring.scorerun"),
        ),
        migrations.RemoveField(model_name="leadscore", name="computed_at"),
        migrations.RemoveField(model_name="leadscore", name="model_version"),
        migrations.RemoveField(model_name="leadscore", name="rule_version"),
        migrations.AlterModelOptions(
            name="leadscore",
            options={"ordering": ["-run__computed_at", "-id"]},
        ),
    ]
