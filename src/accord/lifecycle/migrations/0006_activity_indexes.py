"""Drop the foreign-key indexes on an activity's contact, deal and user.

Each key is the first column of a composite index on the same table (activity_contact_time,
activity_deal_time, activity_user_time), which serves the key's look-ups, the cascades and
the SET NULL; the single-column copies only cost every activity written (logged by a rep,
imported, or simulated by the demo). Index-only: SQLite would otherwise copy the table to
change the fields' state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = (
    ("lifecycle_activity_contact_id_59ef6cf6", "contact_id"),
    ("lifecycle_activity_deal_id_38f9b411", "deal_id"),
    ("lifecycle_activity_user_id_51b5b36a", "user_id"),
)


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0007_contact_score_moves_to_scoring"),
        ("deals", "0002_drop_redundant_indexes"),
        ("lifecycle", "0005_import_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "lifecycle_activity" ("{column}")',
                )
                for name, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="contact",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="activities", to="capture.contact"),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="deal",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="activities", to="deals.deal"),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="user",
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="activities", to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
    ]
