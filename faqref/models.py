"""FAQ entries with their revisions and sources, links from rule codes, and readers' votes."""
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Entry(models.Model):
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    # Curators may write the question the answer replies to; the exports carry none.
    question = models.CharField(_("question"), max_length=300, blank=True, default="")
    derived_title = models.CharField(max_length=300)
    text = models.TextField(_("texte"))
    blocks = models.JSONField(default=list, blank=True)
    facets = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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


class Revision(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_id", "number"]
        constraints = [models.UniqueConstraint(fields=["entry", "number"], name="faq_revision_number")]


class Source(models.Model):
    """Where an answer was seen: an export file and the answer's position in it."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sources")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="sources")
    file = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["file", "position"]
        constraints = [models.UniqueConstraint(fields=["file", "position"], name="faq_source_position")]


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


class Vote(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField()
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "user"], name="faq_vote_once")]
