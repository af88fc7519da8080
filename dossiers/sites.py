"""A site is one client record (DOMAIN.md §8): the FINESS géographique and SIRET already taken in an organisation."""
from __future__ import annotations

from django.db.models import Count, Model
from django.utils.translation import gettext as _

SITE_FIELDS = ("finess_geo", "siret")


def site_conflicts(client: Model) -> dict[str, list[str]]:
    """The 400 body for a client whose FINESS géographique or SIRET another client of its organisation holds."""
    errors: dict[str, list[str]] = {}
    others = type(client)._default_manager.filter(organisation_id=client.organisation_id).exclude(pk=client.pk)
    for field in SITE_FIELDS:
        value = getattr(client, field)
        if not value:
            continue
        existing = others.filter(**{field: value}).only("pk", "name").order_by("pk").first()
        if existing is not None:
            errors[field] = [_("%(label)s %(value)s déjà utilisé par le client « %(name)s » (n° %(id)s) : un site "
                               "est un seul client, modifiez celui-ci plutôt que d'en créer un autre.") % {
                "label": type(client)._meta.get_field(field).verbose_name, "value": value,
                "name": existing.name, "id": existing.pk}]
    return errors


def duplicate_sites(client_model: type[Model]) -> list[str]:
    """Each group of clients sharing a FINESS géographique or a SIRET within one organisation, as a sentence."""
    report = []
    for field in SITE_FIELDS:
        groups = (client_model._default_manager.exclude(**{field: ""}).values("organisation_id", field)
                  .annotate(n=Count("pk")).filter(n__gt=1).order_by("organisation_id", field))
        for group in groups:
            clients = client_model._default_manager.filter(
                organisation_id=group["organisation_id"], **{field: group[field]}).order_by("pk")
            names = ", ".join(f"« {c.name} » (n° {c.pk})" for c in clients)
            report.append(f"organisation {group['organisation_id']}, {field} {group[field]} : {names}")
    return report


def refuse_duplicate_sites(apps, schema_editor) -> None:
    """Migration step: report existing duplicates and stop before the unique constraints, never merge them."""
    report = duplicate_sites(apps.get_model("dossiers", "Client"))
    if report:
        raise RuntimeError(
            "Clients en double (un site = un client) : fusionnez ou corrigez-les, puis relancez la migration.\n"
            + "\n".join(f"- {line}" for line in report))


def backfill_correction_due_dates(apps, schema_editor) -> None:
    """Migration step: corrections already requested get their due date in jours ouvrés (DOMAIN.md §8)."""
    from .business_days import correction_due_on

    Dossier = apps.get_model("dossiers", "Dossier")
    for prefix in ("avance", "solde"):
        rows = Dossier.objects.filter(**{f"{prefix}_fix_requested_on__isnull": False}).select_related("client")
        for dossier in rows.iterator():
            setattr(dossier, f"{prefix}_fix_due_on", correction_due_on(
                getattr(dossier, f"{prefix}_fix_requested_on"), department=dossier.client.department))
            dossier.save(update_fields=[f"{prefix}_fix_due_on"])
