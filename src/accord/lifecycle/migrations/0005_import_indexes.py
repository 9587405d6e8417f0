"""Drop the foreign-key indexes on who made a stage transition or an assignment.

No page, report, filter or API reads transitions or assignments by `by_user` or `assigned_by`
(docs/imports.md lists every index on these tables with its readers), and each index costs
every contact a CSV import creates. Index-only: SQLite would otherwise copy both tables to
change the fields' state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = (
    ("lifecycle_stagetransition_by_user_id_6778eefb", "lifecycle_stagetransition", "by_user_id"),
    ("lifecycle_leadassignment_assigned_by_id_61a82535", "lifecycle_leadassignment", "assigned_by_id"),
)


class Migration(migrations.Migration):

    dependencies = [
        ('lifecycle', '0004_import_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='leadassignment',
                    name='assigned_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assignments_made', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='stagetransition',
                    name='by_user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='stage_transitions', to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
    ]
