# The `unaccent` extension behind the accent-insensitive searches (segurtrack.search): "hopital" finds "Hôpital".
# A no-op on SQLite, where segurtrack.search registers a Python function of the same name on each connection.
# Migrating back leaves the extension: faqref's french_unaccent search configuration (faqref 0002) depends on it.
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class KeptUnaccentExtension(UnaccentExtension):
    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0010_merge_trust_data"),
    ]

    operations = [
        KeptUnaccentExtension(),
    ]
