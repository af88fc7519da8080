"""Votes belong to the organisation the voter worked for: existing votes go to the voter's oldest membership;
votes of users who belong to no organisation (nobody can see them) are dropped."""
import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def assign_organisations(apps, schema_editor):
    Vote = apps.get_model("faqref", "Vote")
    Membership = apps.get_model("organisations", "Membership")
    Vote.objects.update(organisation_id=Subquery(
        Membership.objects.filter(user_id=OuterRef("user_id")).order_by("created_at", "pk").values(
            "organisation_id")[:1]))
    Vote.objects.filter(organisation_id__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("faqref", "0002_search"),
        ("organisations", "0002_trust_org_invitations_accounts"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="vote", name="faq_vote_once"),
        migrations.AddField(
            model_name="vote", name="organisation",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="organisations.organisation"),
        ),
        migrations.RunPython(assign_organisations, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="vote", name="organisation",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="organisations.organisation"),
        ),
        migrations.AddConstraint(
            model_name="vote",
            constraint=models.UniqueConstraint(fields=("entry", "user", "organisation"),
                                               name="faq_vote_once_per_organisation"),
        ),
    ]
