# The dossier list at the size of the biggest vendor (issue 18): the client's name kept on the dossier (filled here
# for the existing rows), one btree index per list sort with the organisation first, and on PostgreSQL the search's
# trigram indexes over `segurtrack_fold(...)` (segurtrack.search), the IMMUTABLE wrapper of `unaccent` created here.
# SQLite (the embedded default) gets the column and the btree indexes; segurtrack.search registers its own function.
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION segurtrack_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$
"""
# (name, table, indexed columns): btree_gin lets each one lead with the organisation, as every list reads.
TRIGRAM_INDEXES = [
    ("dossier_org_client_name_trgm", "dossiers_dossier", "segurtrack_fold(client_name) gin_trgm_ops"),
    ("dossier_org_reference_trgm", "dossiers_dossier", "segurtrack_fold(reference) gin_trgm_ops"),
    ("client_org_name_trgm", "dossiers_client", "segurtrack_fold(name) gin_trgm_ops"),
    ("client_org_finess_geo_trgm", "dossiers_client", "finess_geo gin_trgm_ops"),
    ("client_org_finess_legal_trgm", "dossiers_client", "finess_legal gin_trgm_ops"),
    ("client_org_siret_trgm", "dossiers_client", "siret gin_trgm_ops"),
]


def fill_client_name(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE dossiers_dossier AS d SET client_name = c.name FROM dossiers_client AS c "
                              "WHERE c.id = d.client_id AND d.client_name IS DISTINCT FROM c.name")
        return
    Dossier, Client = apps.get_model("dossiers", "Dossier"), apps.get_model("dossiers", "Client")
    Dossier.objects.update(client_name=Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("name")[:1]))


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(FOLD_FUNCTION)
    for name, table, columns in TRIGRAM_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (organisation_id, {columns})")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # The extensions stay: another migration may have wanted them too.
    schema_editor.execute("DROP FUNCTION IF EXISTS segurtrack_fold(text)")


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0014_merge_reports_app"),
        ("organisations", "0003_merge_tokens_invitations"),
    ]

    operations = [
        migrations.AddField(
            model_name="dossier",
            name="client_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=200,
                                   verbose_name="nom du client"),
        ),
        migrations.RunPython(fill_client_name, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["organisation", "-updated_at", "-id"], name="dossier_org_updated"),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["organisation", "client_name", "id"], name="dossier_org_client_name"),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["organisation", "reference", "id"], name="dossier_org_reference"),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["organisation", "state", "id"], name="dossier_org_state_id"),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
