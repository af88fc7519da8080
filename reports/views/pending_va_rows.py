"""The pending-VA page's rows, written in Python: twenty-five rows through the template engine cost a `{% url %}`,
two `default` chains, a date filter and some thirty lookups each, several milliseconds a page; here the dossier
URL's shape, the words and each day's French date are worked out once per page and each row is one f-string, every
value escaped as the template escaped it (tests/reports/test_pending_va_rows.py compares it with the template it
replaces)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from segurtrack.formats import euros
from segurtrack.quick_forms import escaped as e, shown as _shown
from segurtrack.reversing import url_maker

from ..queries import PendingVa


def pending_va_rows(items: Iterable[PendingVa], *, staff: bool, own: int | None) -> SafeString:
    """The `<tr>` of each row of the page (`PendingVaReport.item`s). Platform staff see other organisations' rows
    without a link (their dossier pages are not theirs to open); `own`: the viewer's organisation (None for staff
    without a membership, who see no row linked)."""
    dossier_url = url_maker("dossier-detail")
    # `{% translate %}` leaves its literal unescaped (template literals are safe).
    late = f' <span class="badge badge--alert">{_("en retard")}</span>'
    overdue_class = ' class="row--overdue"'
    days: dict[Any, str] = {}
    out = []
    for item in items:
        row = item.row
        pk = row["id"]
        name = _shown(row["reference"] or pk)
        linked = not staff or (own is not None and row["organisation_id"] == own)
        reference = f'<a href="{e(dossier_url(pk))}">{name}</a>' if linked else name
        deployed = row["deployed_on"]
        if deployed not in days:
            days[deployed] = e(date_format(deployed, "j F Y")) if deployed is not None else ""
        age, overdue = item.age_days, item.overdue
        out.append(
            f"\n      <tr{overdue_class if overdue else ''}>\n"
            f'        <th scope="row">{reference}</th>\n'
            f'        <td>{_shown(row["client__name"])}<br><span class="muted mono">'
            f"{_shown(row['client__finess_geo'] or row['client__siret'] or '—')}</span></td>\n"
            f"        <td>{_shown(row['solution__name'])} {_shown(row['solution__version'])}<br>"
            f"<span class=\"muted\">{_shown(row['dispositif__code'])}</span></td>\n"
            f"        <td>{days[deployed]}</td>\n"
            f'        <td class="num">{_shown(age)}{late if overdue else ""}</td>\n'
            f'        <td class="num">{e(euros(item.amount_at_stake))}</td>\n'
            f"      </tr>\n    ")
    return mark_safe("".join(out))
