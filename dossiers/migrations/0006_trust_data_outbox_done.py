"""Outbox messages are done when their effect committed, not when published; messages already sent count as done."""

import django.utils.timezone
from django.db import migrations, models


def sent_is_done(apps, schema_editor):
    apps.get_model("dossiers", "OutboxMessage").objects.filter(sent_at__isnull=False).update(done_at=models.F("sent_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0005_french_labels'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='outboxmessage',
            name='outbox_unsent',
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='available_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='done_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(sent_is_done, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('done_at__isnull', True)), fields=['available_at', 'id'], name='outbox_waiting'),
        ),
    ]
