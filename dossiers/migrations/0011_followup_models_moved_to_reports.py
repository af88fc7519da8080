"""DigestSent, ReminderSent, ExportJob and CalendarFeed belong to the reports app now (its migration 0001 takes them
over with their tables): removed from this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0010_merge_trust_data'),
    ]

    # The models moved to the reports app with their tables (db_table): forgotten here, nothing dropped.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='digestsent',
                name='organisation',
            ),
            migrations.RemoveField(
                model_name='digestsent',
                name='user',
            ),
            migrations.RemoveField(
                model_name='exportjob',
                name='organisation',
            ),
            migrations.RemoveField(
                model_name='exportjob',
                name='user',
            ),
            migrations.RemoveField(
                model_name='remindersent',
                name='organisation',
            ),
            migrations.RemoveField(
                model_name='remindersent',
                name='user',
            ),
            migrations.DeleteModel(
                name='CalendarFeed',
            ),
            migrations.DeleteModel(
                name='DigestSent',
            ),
            migrations.DeleteModel(
                name='ExportJob',
            ),
            migrations.DeleteModel(
                name='ReminderSent',
            ),
        ], database_operations=[]),
    ]
