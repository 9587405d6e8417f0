"""Drop Contact.score and its index: the current score lives in scoring.ContactScore now.

scoring 0004 copies every score first. The index goes before the column, so SQLite can drop
the column in place (ALTER TABLE … DROP COLUMN) instead of copying the whole contact table.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0006_touchpoint_indexes"),
        ("scoring", "0004_contactscore"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_score",
        ),
        migrations.RemoveField(
            model_name="contact",
            name="score",
        ),
    ]
