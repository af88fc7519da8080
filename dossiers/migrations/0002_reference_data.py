"""Ship the programme's couloirs and dispositifs (DOMAIN.md §2) as editable reference data.

Avance deadlines are the two public dates known (asp-public.fr, vague 2 page); the others are unset until
staff enter them. Ceilings are left empty: the AF sets most of them per beneficiary (forfait or calculation
file), so a single figure per dispositif would be wrong more often than right; staff may set one in the admin.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import migrations

PARIS = ZoneInfo("Europe/Paris")

COULOIRS = [
    ("hopital", "Hôpital"),
    ("biologie", "Biologie médicale"),
    ("imagerie", "Imagerie médicale"),
    ("officine", "Officine"),
    ("medecine_ville", "Médecine de ville"),
    ("medico_social", "Médico-social"),
]

# code, label, couloir, vague, avance deadline (Paris), requires the MSS deployment indicator
DISPOSITIFS = [
    ("HOP-DPI-VA1", "Dossier patient informatisé (DPI) — vague 1", "hopital", 1, None, False),
    ("HOP-PFI-VA1", "Plateforme d'intermédiation (PFI) — vague 1", "hopital", 1, None, False),
    ("HOP-RI-VA1", "Identitovigilance (RI) — vague 1", "hopital", 1, None, False),
    ("HOP-DPI-VA2", "Dossier patient informatisé (DPI) — vague 2", "hopital", 2, datetime(2025, 12, 17, 12, 0), False),
    ("HOP-PFI-VA2", "Plateforme d'intermédiation (PFI) — vague 2", "hopital", 2, datetime(2025, 9, 17, 12, 0), False),
    ("BIO-SGL-VA1", "Système de gestion de laboratoire (SGL)", "biologie", 1, None, False),
    ("RAD-RIS-VA1", "Système d'information de radiologie (RIS)", "imagerie", 1, None, False),
    ("RAD-DRIMBOX-VA2", "DRIMbox", "imagerie", 2, None, False),
    ("MDV-LGC-VA1", "Logiciel de gestion de cabinet (LGC)", "medecine_ville", 1, None, False),
    ("MDV-SAS-VA1", "Service d'accès aux soins (SAS)", "medecine_ville", 1, None, False),
    ("OFF-LGO-VA1", "Logiciel de gestion d'officine (LGO)", "officine", 1, None, False),
    ("MS-DUI-MS1", "Dossier Usager Informatisé (DUI) médico-social (MS1)", "medico_social", 1, None, True),
    ("MS-DUI-MS2", "Dossier Usager Informatisé (DUI) - PDE (MS2)", "medico_social", 2, None, True),
]


def load(apps, schema_editor):
    Couloir = apps.get_model("dossiers", "Couloir")
    Dispositif = apps.get_model("dossiers", "Dispositif")
    for code, label in COULOIRS:
        Couloir.objects.update_or_create(code=code, defaults={"label": label})
    for code, label, couloir, vague, deadline, mss in DISPOSITIFS:
        Dispositif.objects.update_or_create(code=code, defaults={
            "label": label, "couloir_id": couloir, "vague": vague,
            "avance_deadline": deadline.replace(tzinfo=PARIS) if deadline else None,
            "requires_mss_deployment": mss,
        })


def unload(apps, schema_editor):
    apps.get_model("dossiers", "Dispositif").objects.filter(code__in=[d[0] for d in DISPOSITIFS]).delete()
    apps.get_model("dossiers", "Couloir").objects.filter(code__in=[c[0] for c in COULOIRS]).delete()


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
