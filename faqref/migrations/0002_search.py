"""PostgreSQL full-text search: the french_unaccent configuration and a GIN index on Entry.search_vector.

On other databases (SQLite in development and the default tests) these operations do nothing: the search
falls back to Entry.search_text there (see faqref/search.py).
"""
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class PostgresRunSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only (SQLite has neither text search configurations nor GIN indexes)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


CREATE_CONFIGURATION = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
        CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
        -- Accents go before stemming, so "soldé", "solde" and "SOLDE" share one lexeme.
        ALTER TEXT SEARCH CONFIGURATION french_unaccent
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("faqref", "0001_initial"),
    ]

    operations = [
        UnaccentExtension(),  # a no-op outside PostgreSQL
        PostgresRunSQL(CREATE_CONFIGURATION, "DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;"),
        PostgresRunSQL(
            "CREATE INDEX IF NOT EXISTS faq_entry_search_gin ON faqref_entry USING gin (search_vector);",
            "DROP INDEX IF EXISTS faq_entry_search_gin;",
        ),
        # Entries saved before this migration (none in a fresh database) get their vector now.
        PostgresRunSQL(
            """
            UPDATE faqref_entry SET search_vector =
                setweight(to_tsvector('french_unaccent', coalesce(nullif(question, ''), derived_title)), 'A')
                || setweight(to_tsvector('french_unaccent', text), 'B');
            """,
            migrations.RunSQL.noop,
        ),
    ]
