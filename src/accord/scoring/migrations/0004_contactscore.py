"""Move the current score out of the wide contact row into ContactScore (capture 0007 drops it).

Every score above 0 is carried over by one INSERT … SELECT (a contact without a row scores 0,
as the column's default did), before the index is built: a sorted index built once is
cheaper than a million entries added one by one.
"""

import django.db.models.deletion
from django.db import migrations, models


def create_table(apps, schema_editor):
    """Create the table; on SQLite with the contact id as the rowid itself.

    Django declares a key pointing at a big auto id `bigint`, which SQLite keeps beside a
    rowid of its own with a second index on it: every score written then went into two
    B-trees more than needed. `integer PRIMARY KEY` makes the contact id the rowid. (A
    later AlterField of this model would remake the table Django's way; keep the type then.)
    """
    model = apps.get_model("scoring", "ContactScore")
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.create_model(model)
        return
    schema_editor.execute(
        'CREATE TABLE "scoring_contactscore" ("contact_id" integer NOT NULL PRIMARY KEY '
        'REFERENCES "capture_contact" ("id") DEFERRABLE INITIALLY DEFERRED, "total" smallint NOT NULL)'
    )


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("scoring", "ContactScore"))


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0006_touchpoint_indexes"),
        ("scoring", "0003_leadscore_one_contact_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ContactScore",
                    fields=[
                        ("contact", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                         primary_key=True, related_name="current_score",
                                                         serialize=False, to="capture.contact")),
                        ("total", models.SmallIntegerField()),
                    ],
                ),
            ],
        ),
        migrations.RunPython(create_table, drop_table),
        migrations.RunSQL(
            "INSERT INTO scoring_contactscore (contact_id, total) SELECT id, score FROM capture_contact "
            "WHERE score <> 0 ORDER BY id",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="contactscore",
            index=models.Index(fields=["-total", "-contact"], name="contactscore_total"),
        ),
    ]
