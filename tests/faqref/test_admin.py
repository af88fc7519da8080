"""Curation in the admin: entries weakest first, pinned and removed rule links, read-only answer text."""
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from faqref.links import guidance_for
from faqref.models import Entry, RuleLink, Vote

from ..factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("curator", "c@example.fr", "pw-curator-1")
    client.force_login(user)
    return client


def _entry(n, text):
    return Entry.objects.create(slug=f"entree-{n}", derived_title=f"Entrée {n}", text=text, fingerprint=f"{n:064d}")


def _votes(entry, yes, no):
    User = get_user_model()
    for i in range(yes + no):
        user = User.objects.create_user(f"u{entry.pk}-{i}", password="x")
        Vote.objects.create(entry=entry, user=user, organisation=OrganisationFactory(name=f"Éditeur {i % 2}"),
                            useful=i < yes)


def test_entries_are_listed_weakest_first(staff_client):
    good, bad, unvoted = _entry(1, "bonne"), _entry(2, "mauvaise"), _entry(3, "inconnue")
    _votes(good, yes=4, no=1)
    _votes(bad, yes=1, no=3)
    response = staff_client.get(reverse("admin:faqref_entry_changelist"))
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert [e.pk for e in listed] == [bad.pk, good.pk, unvoted.pk]
    assert "75%" in response.content.decode()


def test_pinning_puts_an_entry_first_and_removing_hides_it(staff_client):
    auto, wrong, right = _entry(1, "a"), _entry(2, "b"), _entry(3, "c")
    links = [RuleLink.objects.create(rule="solde.pv_pilote", entry=e, rank=r, origin=RuleLink.Origin.AUTO)
             for e, r in ((auto, 0.9), (wrong, 0.8), (right, 0.1))]
    url = reverse("admin:faqref_rulelink_changelist")
    staff_client.post(url, {"action": "pin", "_selected_action": [links[2].pk]})
    staff_client.post(url, {"action": "remove", "_selected_action": [links[1].pk]})
    ids = [ref["id"] for ref in guidance_for(["solde.pv_pilote"])["solde.pv_pilote"]]
    assert ids == [right.pk, auto.pk]


def test_the_answer_text_is_read_only_but_the_question_can_be_written(staff_client):
    entry = _entry(1, "texte importé")
    url = reverse("admin:faqref_entry_change", args=[entry.pk])
    response = staff_client.post(url, {
        "question": "Quand déposer le solde ?", "text": "texte falsifié",
        "rule_links-TOTAL_FORMS": "0", "rule_links-INITIAL_FORMS": "0",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.question, entry.text, entry.title) == ("Quand déposer le solde ?", "texte importé",
                                                         "Quand déposer le solde ?")


def test_a_rule_link_names_a_known_rule(staff_client):
    entry = _entry(1, "a")
    url = reverse("admin:faqref_rulelink_add")
    refused = staff_client.post(url, {"rule": "pas.une.regle", "entry": entry.pk, "origin": "pinned", "rank": 0})
    assert refused.status_code == 200 and not RuleLink.objects.exists()
    staff_client.post(url, {"rule": "bdc.document", "entry": entry.pk, "origin": "pinned", "rank": 0})
    assert RuleLink.objects.get().origin == RuleLink.Origin.PINNED
