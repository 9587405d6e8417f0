import django.db.models.deletion
from django.db import migrations, models

# Drops the foreign key's own index, which leadscore_contact_recent (contact first) makes
# redundant. Only the index goes: AlterField would make SQLite copy the whole history table.
FOREIGN_KEY_INDEX = "scoring_leadscore_contact_id_bdd9fc21"


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0006_touchpoint_indexes"),
        ("scoring", "0002_engagement_rollup"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="leadscore",
                    name="contact",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="lead_scores", to="capture.contact"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{FOREIGN_KEY_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{FOREIGN_KEY_INDEX}" ON "scoring_leadscore" ("contact_id")',
                ),
            ],
        ),
    ]
