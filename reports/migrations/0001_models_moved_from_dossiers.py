"""The follow-up's models, taken over from the dossiers app with their tables and rows (no data moves).

Their content types follow them (permissions given on them stay given), and the export tasks waiting in the outbox
under their former name are renamed (`dossiers.tasks.run_export` is also still registered with Celery).
"""
import django.db.models.deletion
import reports.models
from django.conf import settings
from django.db import migrations, models

MOVED = ["digestsent", "remindersent", "exportjob", "calendarfeed"]
MOVED_TASKS = ["send_daily_digests", "send_digest", "send_deadline_reminders", "send_deadline_reminder", "run_export"]


def follow_the_models(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="reports").values_list("model", flat=True))
    ContentType.objects.filter(app_label="dossiers", model__in=set(MOVED) - taken).update(app_label="reports")
    OutboxMessage = apps.get_model("dossiers", "OutboxMessage")
    for name in MOVED_TASKS:
        OutboxMessage.objects.filter(task_name=f"dossiers.tasks.{name}").update(task_name=f"reports.tasks.{name}")


def leave_them(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label="dossiers").values_list("model", flat=True))
    ContentType.objects.filter(app_label="reports", model__in=set(MOVED) - taken).update(app_label="dossiers")
    OutboxMessage = apps.get_model("dossiers", "OutboxMessage")
    for name in MOVED_TASKS:
        OutboxMessage.objects.filter(task_name=f"reports.tasks.{name}").update(task_name=f"dossiers.tasks.{name}")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('dossiers', '0011_followup_models_moved_to_reports'),
        ('organisations', '0003_merge_tokens_invitations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist (created by the dossiers app): the models are added to this app's state only.
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='CalendarFeed',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('digest', models.CharField(max_length=64, unique=True)),
                    ('created_at', models.DateTimeField(auto_now=True, verbose_name='créé le')),
                    ('membership', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='calendar_feed', to='organisations.membership')),
                ],
                options={
                    'verbose_name': "flux d'agenda",
                    'verbose_name_plural': "flux d'agenda",
                    'db_table': 'dossiers_calendarfeed',
                },
            ),
            migrations.CreateModel(
                name='ExportJob',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('pending_va', 'VA en attente'), ('dossiers', 'Dossiers')], max_length=20, verbose_name='type')),
                    ('format', models.CharField(choices=[('csv', 'CSV'), ('xlsx', 'XLSX')], default='csv', max_length=4, verbose_name='format')),
                    ('params', models.JSONField(blank=True, default=dict, verbose_name='filtres')),
                    ('status', models.CharField(choices=[('queued', 'En attente'), ('running', 'En cours'), ('done', 'Terminé'), ('failed', 'Échec')], default='queued', max_length=10, verbose_name='statut')),
                    ('progress', models.PositiveSmallIntegerField(default=0, verbose_name='avancement (%)')),
                    ('row_count', models.PositiveIntegerField(default=0)),
                    ('file', models.FileField(blank=True, max_length=300, upload_to=reports.models.export_path)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('error', models.TextField(blank=True, default='')),
                    ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation')),
                    ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'export',
                    'verbose_name_plural': 'exports',
                    'db_table': 'dossiers_exportjob',
                    'ordering': ['-created_at', '-id'],
                },
            ),
            migrations.CreateModel(
                name='DigestSent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('day', models.DateField()),
                    ('sent_at', models.DateTimeField(auto_now_add=True)),
                    ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'résumé quotidien envoyé',
                    'verbose_name_plural': 'résumés quotidiens envoyés',
                    'db_table': 'dossiers_digestsent',
                    'constraints': [models.UniqueConstraint(fields=('user', 'organisation', 'day'), name='digest_once_per_day')],
                },
            ),
            migrations.CreateModel(
                name='ReminderSent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('day', models.DateField()),
                    ('count', models.PositiveIntegerField(default=0)),
                    ('sent_at', models.DateTimeField(auto_now_add=True)),
                    ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': "rappel d'échéances envoyé",
                    'verbose_name_plural': "rappels d'échéances envoyés",
                    'db_table': 'dossiers_remindersent',
                    'constraints': [models.UniqueConstraint(fields=('user', 'organisation', 'day'), name='reminder_once_per_day')],
                },
            ),
        ], database_operations=[]),
        migrations.RunPython(follow_the_models, leave_them, elidable=False),
    ]
