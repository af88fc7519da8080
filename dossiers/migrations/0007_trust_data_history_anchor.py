"""Each dossier's history head gets its anchor (an HMAC with HISTORY_ANCHOR_KEY); existing heads are anchored as found.

Run `verify_history` before migrating: anchoring vouches for the chains as they stand at this moment.
"""
from django.db import migrations, models


def anchor_existing(apps, schema_editor):
    from dossiers.anchors import anchor

    Dossier = apps.get_model("dossiers", "Dossier")
    batch = []
    for dossier in Dossier.objects.only("pk", "history_seq", "history_hash").order_by("pk").iterator(chunk_size=2000):
        dossier.history_anchor = anchor(dossier.pk, dossier.history_seq, dossier.history_hash)
        batch.append(dossier)
        if len(batch) == 2000:
            Dossier.objects.bulk_update(batch, ["history_anchor"])
            batch = []
    Dossier.objects.bulk_update(batch, ["history_anchor"])


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0006_trust_data_outbox_done"),
    ]

    operations = [
        migrations.AddField(
            model_name="dossier",
            name="history_anchor",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="ancre de l'historique"),
        ),
        migrations.RunPython(anchor_existing, migrations.RunPython.noop),
    ]
