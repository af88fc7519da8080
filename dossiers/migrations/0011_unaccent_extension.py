# The `unaccent` extension behind the accent-insensitive searches (segurtrack.search): "hopital" finds "Hôpital".
# A no-op on SQLite, where segurtrack.search registers a Python function of the same name on each connection.
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0010_merge_trust_data"),
    ]

    operations = [
        UnaccentExtension(),
    ]
