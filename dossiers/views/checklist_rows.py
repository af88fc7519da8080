"""The pre-solde checklist's rules as the page shows them, written in Python: fourteen rows through the template
engine cost a `{% with %}`, a dozen `{% if %}`, as many variable lookups and translations and an include of the FAQ
guidance per row, about a millisecond and a half a page; here each row is a few f-strings, every value escaped.
The rare upload form beside a rule (the invoice, the VAT exemption) is still drawn by its template
(templates/dossiers/_checklist_upload.html). tests/pages/test_checklist_rows.py compares it byte for byte with the
template the page used before."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from segurtrack.quick_forms import escaped as e

UPLOAD_TEMPLATE = "dossiers/_checklist_upload.html"


def guidance_html(guidance: Sequence[dict[str, Any]]) -> str:
    """templates/_guidance.html for a non-empty list of FAQ references."""
    demo = None
    items = []
    for ref in guidance:
        badge = ""
        if ref.get("is_demo"):
            if demo is None:
                demo = f' <span class="badge">{e(_("FAQ de démonstration"))}</span>'
            badge = demo
        excerpt = f'<p class="excerpt">{e(ref["excerpt"])}</p>' if ref.get("excerpt") else ""
        items.append(f'\n  <li>\n    <a href="{e(ref["url"])}">{e(ref["title"])}</a>{badge}\n'
                     f'    {excerpt}\n  </li>\n  ')
    return f'\n<ul class="guidance">\n  {"".join(items)}\n</ul>\n\n'


def checklist_rows(request: HttpRequest, rows: Sequence[dict[str, Any]], *, dossier, solution, can_act: bool,
                   filing: bool) -> SafeString:
    """The `<li>` of each rule (`rows` as `solde_context` builds them), as the page's loop wrote them."""
    ok_mark = (f'<span class="mark mark--ok" aria-hidden="true">✔</span>'
               f'<span class="visually-hidden">{e(_("Respectée :"))}</span>\n        \n')
    warn_mark = (f'<span class="mark mark--warn" aria-hidden="true">!</span>'
                 f'<span class="visually-hidden">{e(_("Avertissement :"))}</span>\n        \n')
    failed_mark = (f'<span class="mark mark--failed" aria-hidden="true">✘</span>'
                   f'<span class="visually-hidden">{e(_("Non respectée :"))}</span>\n        \n')
    pending_mark = f'<span class="mark mark--pending">{e(_("à renseigner"))}</span>\n'
    badge = f'<span class="badge">{e(_("conseil"))}</span>'
    upload_template = None
    out = []
    for row in rows:
        item = row["item"]
        status, rule, warn = e(item.status), e(item.rule), item.severity == "warn"
        if item.status == "ok":
            mark = ok_mark
        elif item.status == "failed":
            mark = warn_mark if warn else failed_mark
        else:
            mark = pending_mark
        message = f'<p class="check-item__message">{e(item.message)}</p>' if item.status != "ok" else ""
        pv = ""
        if item.rule == "solde.pv_pilote" and item.status != "ok":
            pv = (f'<p><a href="{e(reverse("solution-detail", args=[solution.pk]))}#pv-pilotes">'
                  f'{e(_("Voir les PV pilotes de la solution"))}</a></p>')
        upload = ""
        if row.get("upload_form") and can_act and filing:
            if upload_template is None:
                upload_template = get_template(UPLOAD_TEMPLATE)
                token = get_token(request)
            upload = "\n" + upload_template.render({"dossier": dossier, "row": row, "csrf_token": token}) + "      "
        guidance = ""
        if item.guidance:
            summary = _("Ce que dit la FAQ") if item.status != "ok" else _("FAQ")
            guidance = (f'\n      <details class="guidance-details"><summary>{e(summary)}</summary>'
                        f'{guidance_html(item.guidance)}</details>\n      ')
        out.append(
            f'\n    <li class="check-item check-item--{status}{" check-item--warn" if warn else ""}" '
            f'data-rule="{rule}" data-status="{status}">\n      <div class="check-item__head">\n        {mark}'
            f'        <strong>{e(item.title)}</strong> <code class="rule-code">{rule}</code>\n'
            f'        {badge if warn else ""}\n      </div>\n      {message}\n      {pv}\n      {upload}\n'
            f'      {guidance}\n    </li>\n    ')
    return mark_safe("".join(out))
