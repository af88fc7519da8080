"""Bulk transitions from the dossier list: select, choose, fill once, dry run (refusals with rule and FAQ), apply."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers.models import HistoryEntry, State

from ..api.conftest import guidance  # noqa: F401 (fixture: FAQ guidance linked to every rule)
from ..factories import days_ago, walk_to
from .conftest import signed_in

pytestmark = pytest.mark.django_db


def _dry_run(token: str, name: str) -> str:
    return f"{reverse('dossier-bulk-dry-run')}?token={token}&transition={name}"


def _start(client, *dossiers, follow: bool = False, **params):
    return client.get(reverse("dossier-bulk"), {"dossier": [d.pk for d in dossiers], **params}, follow=follow)


def test_select_choose_dry_run_then_apply(as_manager, manager_membership, guidance):  # noqa: F811
    filed = walk_to("avance_filed", membership=manager_membership)
    draft = walk_to("draft", membership=manager_membership)
    listing = as_manager.get(reverse("dossier-list")).content.decode()
    assert f'name="dossier" value="{filed.pk}"' in listing and 'form="bulk-form"' in listing
    answer = _start(as_manager, filed, draft)
    assert answer.status_code == 200
    token = answer.context["token"]
    page = as_manager.get(reverse("dossier-bulk"), {"token": token, "transition": "validate_avance"}).content.decode()
    assert "2 dossiers sélectionnés" in page and 'name="validate_avance-on"' in page
    dry = as_manager.post(_dry_run(token, "validate_avance"), {"validate_avance-on": days_ago(1).isoformat()})
    text = dry.content.decode()
    assert dry.status_code == 200 and "1 dossier passerait" in text and "1 refus" in text
    assert "state.transition_not_allowed" in text and guidance.get_absolute_url() in text
    filed.refresh_from_db()
    assert filed.state == State.AVANCE_FILED
    applied = as_manager.post(reverse("dossier-bulk-apply"), {"token": token}).content.decode()
    assert "1 dossier mis à jour" in applied
    filed.refresh_from_db(), draft.refresh_from_db()
    assert (filed.state, draft.state) == (State.AVANCE_VALIDATED, State.DRAFT)
    assert HistoryEntry.objects.filter(dossier=filed, action="validate_avance").count() == 1
    # The token is spent once applied.
    assert as_manager.post(reverse("dossier-bulk-apply"), {"token": token}).status_code == 404


def test_every_dossier_matching_the_filters(as_manager, manager_membership):
    filed = [walk_to("avance_filed", membership=manager_membership) for _ in range(2)]
    walk_to("draft", membership=manager_membership)
    page = as_manager.get(reverse("dossier-bulk"), {"all": "1", "state": "avance_filed"}).content.decode()
    assert "2 dossiers sélectionnés" in page and len(filed) == 2


def test_a_malformed_payload_comes_back_on_the_form_in_french(as_manager, manager_membership):
    filed = walk_to("avance_filed", membership=manager_membership)
    token = _start(as_manager, filed).context["token"]
    answer = as_manager.post(_dry_run(token, "validate_avance"), {"validate_avance-on": "hier"})
    assert answer.status_code == 400 and "date" in answer.content.decode().lower()


def test_an_empty_selection_is_refused_with_a_message(as_manager):
    answer = as_manager.get(reverse("dossier-bulk"), follow=True)
    assert "Cochez au moins un dossier" in answer.content.decode()


def test_another_organisations_dossiers_are_never_selected(as_manager, outsider_membership):
    foreign = walk_to("avance_filed", membership=outsider_membership)
    answer = _start(as_manager, foreign, follow=True)
    assert "Cochez au moins un dossier" in answer.content.decode()


def test_another_organisations_token_is_a_404(as_manager, manager_membership, outsider_membership):
    filed = walk_to("avance_filed", membership=manager_membership)
    token = _start(as_manager, filed).context["token"]
    outsider = signed_in(outsider_membership)
    assert outsider.get(reverse("dossier-bulk"), {"token": token}).status_code == 404
    assert outsider.post(reverse("dossier-bulk-apply"), {"token": token}).status_code == 404
    assert outsider.post(_dry_run(token, "validate_avance"), {}).status_code == 404


def test_a_viewer_gets_403(as_viewer, manager_membership):
    filed = walk_to("avance_filed", membership=manager_membership)
    assert _start(as_viewer, filed).status_code == 403
    assert as_viewer.get(reverse("dossier-bulk-statement")).status_code == 403
    assert 'form="bulk-form"' not in as_viewer.get(reverse("dossier-list")).content.decode()


def test_an_asp_statement_page_simulates_then_applies(as_manager, manager_membership):
    validated = walk_to("avance_validated", membership=manager_membership)
    text = f"reference;paid_on;amount\n{validated.reference};{days_ago(1).strftime('%d/%m/%Y')};1 000,00\nX;01/01/2025;1\n"

    def send(apply: bool):
        data = {"file": SimpleUploadedFile("releve.csv", text.encode()), "transition": "record_avance_payment"}
        if apply:
            data["apply"] = "on"
        return as_manager.post(reverse("dossier-bulk-statement"), data).content.decode()

    assert "1 dossier passerait" in send(False)
    validated.refresh_from_db()
    assert validated.state == State.AVANCE_VALIDATED
    assert "1 dossier mis à jour" in send(True)
    validated.refresh_from_db()
    assert validated.state == State.AVANCE_PAID


def test_a_statement_without_reference_column_is_a_french_error(as_manager):
    answer = as_manager.post(reverse("dossier-bulk-statement"), {
        "file": SimpleUploadedFile("releve.csv", b"paid_on;amount\n01/01/2025;1\n")})
    assert answer.status_code == 400 and "reference" in answer.content.decode()
