"""The dossier list's rows as the page shows them, written in Python: a page of 25 rows through the template engine
cost a `{% url %}`, an include, `get_state_display` (which rebuilds the choices' dict on every call), a filter and a
dozen variable lookups per row, several milliseconds a page; here each shared value (a URL's shape, the states'
labels, a day's French date) is computed once per page and each row is one f-string, every value escaped."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from organisations.models import Membership
from segurtrack.quick_forms import escaped as e
from segurtrack.reversing import url_maker

from .. import queries
from ..models import Dossier, State

def list_rows(dossiers: Sequence[Dossier], *, selectable: bool, members: list[Membership]) -> SafeString:
    """The `<tr>` of each dossier of the page (relations already read by `queries.dossier_list`), its blocking
    rules read by one query; `selectable`: with the bulk form's checkbox first (members who may act); `members`: the
    organisation's assignable members, who own most dossiers (`queries.owner_names`)."""
    owners = queries.owner_names(dossiers, members)
    blocking = queries.blocking_rules([dossier.pk for dossier in dossiers])
    url = url_maker("dossier-detail")
    states = dict(State.choices)
    select = _("Sélectionner %(reference)s")
    none = '<span class="muted">—</span>'
    days: dict[Any, str] = {}
    out = []
    for dossier in dossiers:
        pk, reference = dossier.pk, e(dossier.reference)
        client, solution, dispositif = dossier.client, dossier.solution, dossier.dispositif
        state = e(dossier.state)
        owner = e(owners[dossier.owner_id]) if dossier.owner_id else none
        blockers = "<br>".join(
            f'<span class="blocker-title">{e(queries.rule_title(rule))} <code class="rule-code">{e(rule)}</code>'
            f"</span>" for rule in blocking.get(pk, ())) or none
        day = timezone.localtime(dossier.updated_at).date()
        if day not in days:
            days[day] = e(date_format(day, "j F Y"))
        checkbox = (f'<td><input type="checkbox" form="bulk-form" name="dossier" value="{pk}" id="select-{pk}" '
                    f'aria-label="{select % {"reference": reference}}"></td>') if selectable else ""
        out.append(
            f"\n    <tr>\n      {checkbox}\n"
            f'      <th scope="row"><a href="{e(url(pk))}">{reference}</a></th>\n'
            f'      <td>{e(client.name)}<br><span class="muted mono">{e(client.site_identifier or "—")}</span></td>\n'
            f"      <td>{e(solution.name)} {e(solution.version)}<br><span class=\"muted\">{e(dispositif.code)} · "
            f"{e(dispositif.couloir.label)}</span></td>\n"
            # dossiers/_state.html, with its file's last newline
            f'      <td><span class="state state--{state}">{e(str(states.get(dossier.state, dossier.state)))}</span>\n'
            f"</td>\n"
            f"      <td>{owner}</td>\n"
            f"      <td>{blockers}</td>\n"
            f"      <td>{days[day]}</td>\n"
            f"    </tr>")
    return mark_safe("".join(out))
