from django.db import migrations, models

import accord.scoring.models

# Narrower score indexes, so a whole-base rescore writes and sorts less (models.py says why):
# the history's index keeps the contact and drops the instant (a contact's few hundred rows
# at most are sorted on read), and on SQLite the score lists' index drops the contact, which
# every entry already ends with as the rowid. The history's new index is built before its
# old one goes, so its reads always have one.


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0007_contact_score_moves_to_scoring"),
        ("scoring", "0004_contactscore"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="leadscore",
            index=models.Index(fields=["contact"], name="leadscore_contact"),
        ),
        migrations.RemoveIndex(
            model_name="leadscore",
            name="leadscore_contact_recent",
        ),
        migrations.RemoveIndex(
            model_name="contactscore",
            name="contactscore_total",
        ),
        migrations.AddIndex(
            model_name="contactscore",
            index=accord.scoring.models.ScoreOrderIndex(fields=["-total", "-contact"], name="contactscore_total"),
        ),
    ]
