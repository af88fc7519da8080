"""The home page's two tables (deadlines overdue or due soon, dossiers waiting for the client), written in Python:
through the template engine each row cost a `{% url %}` or a date filter, one or two `{% blocktranslate %}` and some
twenty lookups; here the words and each day's French date are worked out once per page and each row is one
f-string, every value escaped as the template escaped it (tests/reports/test_home_rows.py compares both with the
template they replace)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from segurtrack.formats import french_date
from segurtrack.quick_forms import counted as _count, escaped as e, shown as _shown
from segurtrack.reversing import url_maker


def home_deadline_rows(deadlines: Iterable[dict[str, Any]]) -> SafeString:
    """The `<tr>` of each deadline the home page lists (with the view's `page_url`, `target`, `late_days`)."""
    # `{% translate %}` leaves its literal unescaped (template literals are safe).
    late, today = _("En retard"), _("aujourd'hui")
    out = []
    for row in deadlines:
        if row["overdue"]:
            days = f'<span class="badge badge--alert">{late}</span>'
            if row["late_days"]:
                days += (f' <span class="text-alert">'
                         f'{_count("de %(counter)s jour", "de %(counter)s jours", row["late_days"])}</span>')
            days += "\n          "
        elif row["days_left"] == 0:
            days = f'<span class="badge">{today}</span>\n          '
        else:
            days = (f'<span class="muted">'
                    f'{_count("dans %(counter)s jour", "dans %(counter)s jours", row["days_left"])}</span>')
        client = f'<br><span class="muted">{_shown(row["client"])}</span>' if row["dossier"] and row["client"] else ""
        out.append(
            f'\n      <tr class="deadline deadline--{_shown(row["kind"])}{" row--overdue" if row["overdue"] else ""}">\n'
            f'        <th scope="row">{e(french_date(row["due"]))}<br>\n'
            f"          {days}</th>\n"
            f"        <td>{_shown(row['label'])}</td>\n"
            f'        <td><a href="{_shown(row["page_url"])}">{_shown(row["target"])}</a>{client}</td>\n'
            f"      </tr>\n    ")
    return mark_safe("".join(out))


def home_waiting_rows(dossiers: Iterable[Any]) -> SafeString:
    """The `<tr>` of each dossier waiting for the client (with `age_days` and `overdue` set by `queries.home`)."""
    dossier_url = url_maker("dossier-detail")
    late = f' <span class="text-alert">{_("En retard")}</span>'
    overdue_class = ' class="row--overdue"'
    out = []
    for dossier in dossiers:
        deployed = french_date(dossier.deployed_on) or "—"
        if dossier.age_days is not None:
            badge = "badge badge--alert" if dossier.overdue else "badge"
            age = (f'<span class="{badge}">{_count("%(counter)s jour", "%(counter)s jours", dossier.age_days)}</span>'
                   f'{late if dossier.overdue else ""}')
        else:
            age = "—"
        out.append(
            f"\n      <tr{overdue_class if dossier.overdue else ''}>\n"
            f'        <th scope="row"><a href="{e(dossier_url(dossier.pk))}">{_shown(dossier.reference)}</a><br>'
            f'<span class="muted">{_shown(dossier.client.name)}</span></th>\n'
            f"        <td>{e(deployed)}</td>\n"
            f"        <td>{age}</td>\n"
            f"      </tr>\n    ")
    return mark_safe("".join(out))


def home_state_chips(state_counts: Iterable[tuple[str, str, int]]) -> SafeString:
    """The `<li>` chip of each state holding dossiers, linking to the list filtered on it (templates/dossiers/
    _state.html's badge written out, its trailing newline included)."""
    list_url = e(reverse("dossier-list"))
    out = []
    for value, label, count in state_counts:
        if count:
            out.append(f'\n    <li><a class="chip" href="{list_url}?state={_shown(value)}&amp;owner=all">'
                       f'<span class="state state--{_shown(value)}">{_shown(label)}</span>\n'
                       f" <strong>{_shown(count)}</strong></a></li>\n    ")
    return mark_safe("".join(out))


def home_blocked_groups(groups: Iterable[Any]) -> SafeString:
    """The `<article>` of each rule blocking dossiers (`queries.BlockedRule`): its title, its count linking to the
    list filtered on it, its first dossiers."""
    list_url = e(reverse("dossier-list"))
    dossier_url = url_maker("dossier-detail")
    out = []
    for group in groups:
        rule = _shown(group.rule)
        dossiers = "".join(
            f'\n        <li><a href="{e(dossier_url(dossier.pk))}">{_shown(dossier.reference)}</a> — '
            f"{_shown(dossier.client_name)}</li>\n        " for dossier in group.dossiers)
        out.append(
            f'\n    <article class="rule-group">\n'
            f'      <h3>{_shown(group.title)} <code class="rule-code">{rule}</code></h3>\n'
            f'      <p><a href="{list_url}?rule={rule}&amp;owner=all">'
            f'{_count("%(counter)s dossier bloqué", "%(counter)s dossiers bloqués", group.count)}</a></p>\n'
            f'      <ul class="plain">\n        {dossiers}\n      </ul>\n    </article>\n    ')
    return mark_safe("".join(out))
