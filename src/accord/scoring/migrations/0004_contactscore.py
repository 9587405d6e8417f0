"""Move the current score out of the wide contact row into ContactScore (capture 0007 drops it).

Every score above 0 is carried over by one INSERT … SELECT (a contact without a row scores 0,
as the column's default did), before the index is built: a sorted index built once is
cheaper than a million entries added one by one.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0006_touchpoint_indexes"),
        ("scoring", "0003_leadscore_one_contact_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactScore",
            fields=[
                ("contact", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                 related_name="current_score", serialize=False,
                                                 to="capture.contact")),
                ("total", models.SmallIntegerField()),
            ],
        ),
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
