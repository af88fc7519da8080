"""The dossier page's history rows are drawn once per (row, language, time zone) (dossiers/templatetags/history.py):
rows never change once written, a new row shows on the very next request, and the HTML is the page's as before."""
import re

import pytest
from django.template import engines
from django.utils import translation

from dossiers import services
from dossiers.models import HistoryEntry, State
from dossiers.models.records import AppendOnlyError
from dossiers.templatetags import history


def rows_of(page: str) -> list[str]:
    return re.findall(r'<li class="timeline__item.*?</li>', page, re.DOTALL)


def test_a_new_row_shows_on_the_next_request_and_the_others_stay_as_drawn(dossier_at, as_manager, manager_membership):
    dossier = dossier_at(State.DEPLOYED)
    url = f"/dossiers/{dossier.pk}/"
    before = rows_of(as_manager.get(url).content.decode())
    assert len(before) == dossier.history.count() > 1
    assert rows_of(as_manager.get(url).content.decode()) == before  # drawn again from the memo

    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"installed_version": "7.1"})

    page = as_manager.get(url).content.decode()
    after = rows_of(page)
    assert len(after) == len(before) + 1
    assert "7.1" in after[0] and after[1:] == before  # newest first
    assert f'<span class="count">{len(after)}</span>' in page


def test_the_same_row_is_drawn_once_per_language(dossier_at):
    dossier = dossier_at(State.BDC_SIGNED)
    row = dossier.history.order_by("seq").first()
    template = engines["django"].from_string("{% load history %}{% history_row row %}")
    with translation.override("fr"):
        first = template.render({"row": row})
        size = len(history._drawn)
        assert template.render({"row": row}) == first
        assert len(history._drawn) == size
    with translation.override("en"):
        template.render({"row": row})
    assert len(history._drawn) == size + 1


def test_rows_are_never_rewritten_which_the_key_relies_on(dossier_at):
    row = dossier_at(State.BDC_SIGNED).history.first()
    row.action = "autre"
    with pytest.raises(AppendOnlyError):
        row.save()


def test_nothing_is_kept_under_debug_and_at_most_max_rows(dossier_at, settings, monkeypatch):
    dossier = dossier_at(State.DEPLOYED)
    rows = list(HistoryEntry.objects.filter(dossier=dossier))
    template = engines["django"].from_string("{% load history %}{% for row in rows %}{% history_row row %}{% endfor %}")
    history._drawn.clear()
    settings.DEBUG = True
    template.render({"rows": rows})
    assert len(history._drawn) == 0
    settings.DEBUG = False
    monkeypatch.setattr(history, "MAX_ROWS", 2)
    template.render({"rows": rows})
    assert len(history._drawn) == 2
    assert [key[0] for key in history._drawn] == [row.pk for row in rows[-2:]]  # the oldest went first
