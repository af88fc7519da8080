"""FAQ entries with their revisions, sources and facets, links from rule codes, and readers' votes."""
from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

SLUG_WORDS_LENGTH = 60
# Created by migration 0002: the French configuration with unaccent before the French stemmer.
SEARCH_CONFIG = "french_unaccent"


def fold(text: str) -> str:
    """Lower-case words without accents, space-separated, with a space at both ends.

    The SQLite fallback of the search matches " stem" against it: a word start, whatever the accents.
    """
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return " " + " ".join("".join(c if c.isalnum() else " " for c in plain).split()) + " "


def make_slug(title: str, fingerprint: str) -> str:
    """Readable and unique without a query: the title's words, then the first fingerprint's head."""
    words = slugify(title)
    if len(words) > SLUG_WORDS_LENGTH:
        words = words[: SLUG_WORDS_LENGTH + 1].rsplit("-", 1)[0]  # no word cut in half
    return f"{words or 'reponse'}-{fingerprint[:8]}"


def search_vector() -> SearchVector:
    """What Entry.search_vector stores: the title (weight A) and the text (weight B); search.py queries it."""
    title = Coalesce(NullIf("question", Value("")), "derived_title")
    return (SearchVector(title, weight="A", config=SEARCH_CONFIG)
            + SearchVector("text", weight="B", config=SEARCH_CONFIG))


class EntryQuerySet(models.QuerySet):
    def refresh_search_vector(self) -> int:
        """Recompute the stored search vector of these entries (PostgreSQL only; one UPDATE)."""
        if connection.vendor != "postgresql":
            return 0
        return self.update(search_vector=search_vector())


class Entry(models.Model):
    # Given once, from the first text seen; it never changes, so links to it keep working.
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    # Curators may write the question the answer replies to; the exports carry none.
    question = models.CharField(_("question"), max_length=300, blank=True, default="")
    derived_title = models.CharField(_("titre déduit"), max_length=300)
    # The latest revision's text, blocks and fingerprint.
    text = models.TextField(_("texte"))
    blocks = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    # Facet key -> values, the union over the entry's sources (see Facet for filtering).
    facets = models.JSONField(default=dict, blank=True)
    # Title and text folded (no accents, lower case) for the search fallback used on SQLite.
    search_title = models.TextField(default="", blank=True, editable=False)
    search_text = models.TextField(default="", blank=True, editable=False)
    # Title (weight A) and text (weight B) under the french_unaccent configuration, PostgreSQL only.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # From the project's demonstration FAQ (faqref/demo), not the programme's: every page showing it says so.
    is_demo = models.BooleanField(_("FAQ de démonstration"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("entrée de FAQ")
        verbose_name_plural = _("entrées de FAQ")

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.question or self.derived_title

    def get_absolute_url(self) -> str:
        return reverse("faqref:entry", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        # Derived search data follows every save (import, admin edit of the question or the text).
        self.search_title = fold(self.title)
        self.search_text = fold(f"{self.question}\n{self.text}")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_title", "search_text"}
        super().save(*args, **kwargs)
        if update_fields is None or {"question", "derived_title", "text"} & set(update_fields):
            Entry.objects.filter(pk=self.pk).refresh_search_vector()


class Revision(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_id", "number"]
        constraints = [models.UniqueConstraint(fields=["entry", "number"], name="faq_revision_number")]
        verbose_name = _("révision")
        verbose_name_plural = _("révisions")

    def __str__(self) -> str:
        return f"{self.entry_id} #{self.number}"


class Source(models.Model):
    """Where an answer was seen: an export file (by name) and the answer's position in it."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sources")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="sources")
    file = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    line = models.PositiveIntegerField()
    # The facet values the export's header selected when this answer was exported.
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["file", "position"]
        constraints = [models.UniqueConstraint(fields=["file", "position"], name="faq_source_position")]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return f"{self.file} #{self.position + 1} ({_('ligne')} {self.line})"


class Facet(models.Model):
    """One facet value of an entry, a row per value so filters are plain joins on every database."""

    class Key(models.TextChoices):
        TYPE_OFFRE = "type_offre", _("Type d'offre")
        COULOIR = "couloir", _("Couloir Ségur")
        DISPOSITIF = "dispositif", _("Dispositif Ségur")
        PRODUIT = "produit", _("Produit ou service")
        THEMATIQUE = "thematique", _("Thématique")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="facet_values")
    key = models.CharField(max_length=20, choices=Key.choices)
    value = models.TextField()

    class Meta:
        ordering = ["key", "value"]
        constraints = [models.UniqueConstraint(fields=["entry", "key", "value"], name="faq_facet_once")]
        indexes = [models.Index(fields=["key", "value"], name="faq_facet_key_value")]
        verbose_name = _("facette")
        verbose_name_plural = _("facettes")

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class RuleLink(models.Model):
    """A rule code's guidance. Automatic links are recomputed on import; curated ones survive it."""

    class Origin(models.TextChoices):
        AUTO = "auto", _("Automatique")
        PINNED = "pinned", _("Épinglé")
        REMOVED = "removed", _("Retiré")

    rule = models.CharField(_("règle"), max_length=60, db_index=True)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="rule_links")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.AUTO)
    rank = models.FloatField(default=0)

    class Meta:
        ordering = ["rule", "-rank", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "entry"], name="faq_rule_entry")]
        verbose_name = _("lien règle → FAQ")
        verbose_name_plural = _("liens règle → FAQ")

    def __str__(self) -> str:
        return f"{self.rule} → {self.entry_id} ({self.origin})"


class Vote(models.Model):
    """"Cette réponse vous a-t-elle été utile ?": one answer per user, entry and organisation they vote in, which
    they may change. Members see their organisation's counts only; staff curate on the global figures."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField(_("utile"))
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "user", "organisation"],
                                               name="faq_vote_once_per_organisation")]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
