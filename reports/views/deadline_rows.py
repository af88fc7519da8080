"""The deadlines page's rows, written in Python: fifty rows through the template engine cost two `{% url %}`, two
`{% blocktranslate %}`, a date filter and some twenty lookups each, several milliseconds a page; here the URLs'
shapes, the words and each day's French date are worked out once per page and each row is one f-string, every
value escaped (tests/reports/test_deadline_rows.py compares it with the template it replaces)."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dossiers.rules import money
from segurtrack.quick_forms import counted as _count, escaped as e
from segurtrack.reversing import url_maker

from .. import deadlines as dl


def deadline_rows(deadlines: Iterable[dict[str, Any]]) -> SafeString:
    """The `<tr>` of each deadline of the page (`DeadlinesReport.item`'s dicts)."""
    dossier_url, client_url, solution_url = (url_maker(name) for name in (
        "dossier-detail", "client-edit", "solution-detail"))
    # `{% translate "..." %}` leaves its literal unescaped (template literals are safe).
    today, owed = _("aujourd'hui"), _("Reste dû : %(amount)s")
    dates: dict[Any, str] = {}
    out = []
    for row in deadlines:
        due, kind = row["due"], row["kind"]
        if due not in dates:
            dates[due] = e(date_format(due, "j F Y, H:i" if hasattr(due, "hour") else "j F Y"))
        if row["overdue"]:
            days = (f'<span class="badge badge--alert">'
                    f'{_count("en retard de %(counter)s jour", "en retard de %(counter)s jours", max(-row["days_left"], 0))}'
                    f"</span>\n        ")
        elif row["days_left"] == 0:
            days = f'<span class="badge">{today}</span>\n        '
        else:
            days = (f'<span class="muted">'
                    f'{_count("dans %(counter)s jour", "dans %(counter)s jours", row["days_left"])}</span>')
        amount = "" if row["amount"] is None else (
            f'<br><span class="deadline__amount">{owed % {"amount": e(money(Decimal(row["amount"])))}}</span>')
        if row["dossier"] is not None:
            target_url, target = dossier_url(row["dossier"]), row["reference"] or f"#{row['dossier']}"
        elif kind == dl.Kind.PORTABILITY:
            target_url, target = client_url(row["client_id"]) + "#portabilite", row["client"]
        else:
            target_url, target = solution_url(row["solution_id"]) + "#modifications", row["solution"]
        parties = []
        if row["client"]:
            parties.append(f'<a href="{e(client_url(row["client_id"]))}">{e(row["client"])}</a>' if row["client_id"]
                           else e(row["client"]))
        if row["solution"]:
            parties.append(f'<a class="muted" href="{e(solution_url(row["solution_id"]))}">{e(row["solution"])}</a>'
                           if row["solution_id"] else e(row["solution"]))
        out.append(
            f'\n    <tr class="deadline deadline--{e(kind)}{" row--overdue" if row["overdue"] else ""}">\n'
            f'      <th scope="row">{dates[due]}<br>\n        {days}</th>\n'
            f"      <td>{e(row['label'])}{amount}</td>\n"
            f'      <td><a href="{e(target_url)}">{e(target)}</a></td>\n'
            f"      <td>{'<br>'.join(parties)}</td>\n"
            f"    </tr>")
    return mark_safe("".join(out))
