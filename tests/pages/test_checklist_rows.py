"""The checklist's rows, written in Python (dossiers/views/checklist_rows.py), are the HTML the page's loop wrote:
every status (ok, failed, pending), blocking and advisory rules, the PV pilote link, the upload form beside a rule,
FAQ guidance (demo badge, excerpt or none) and values to escape, for a member who may act and one who may not."""
import re
from types import SimpleNamespace

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from dossiers.forms import DocumentForm
from dossiers.models import DocumentKind
from dossiers.queries import RuleOutcome
from dossiers.views.checklist_rows import checklist_rows

# The loop as templates/dossiers/solde.html wrote it before the rows were written in Python.
OLD_LOOP = """{% load i18n %}    {% for row in rows %}{% with item=row.item %}
    <li class="check-item check-item--{{ item.status }}{% if item.severity == 'warn' %} check-item--warn{% endif %}" data-rule="{{ item.rule }}" data-status="{{ item.status }}">
      <div class="check-item__head">
        {% if item.status == "ok" %}<span class="mark mark--ok" aria-hidden="true">✔</span><span class="visually-hidden">{% translate "Respectée :" %}</span>
        {% elif item.status == "failed" %}{% if item.severity == "warn" %}<span class="mark mark--warn" aria-hidden="true">!</span><span class="visually-hidden">{% translate "Avertissement :" %}</span>{% else %}<span class="mark mark--failed" aria-hidden="true">✘</span><span class="visually-hidden">{% translate "Non respectée :" %}</span>{% endif %}
        {% else %}<span class="mark mark--pending">{% translate "à renseigner" %}</span>{% endif %}
        <strong>{{ item.title }}</strong> <code class="rule-code">{{ item.rule }}</code>
        {% if item.severity == "warn" %}<span class="badge">{% translate "conseil" %}</span>{% endif %}
      </div>
      {% if item.status != "ok" %}<p class="check-item__message">{{ item.message }}</p>{% endif %}
      {% if item.rule == "solde.pv_pilote" and item.status != "ok" %}<p><a href="{% url 'solution-detail' solution.pk %}#pv-pilotes">{% translate "Voir les PV pilotes de la solution" %}</a></p>{% endif %}
      {% if row.upload_form and can_act and filing %}
      <form method="post" action="{% url 'dossier-document-upload' dossier.pk %}" enctype="multipart/form-data" class="inline-form upload-inline">
        {% csrf_token %}
        <input type="hidden" name="return_to" value="solde">
        <input type="hidden" name="kinds" value="{{ row.upload_kind }}">
        {% include "_form_errors.html" with form=row.upload_form %}
        {% for field in row.upload_form %}{% include "_field.html" %}{% endfor %}
        <button type="submit" class="button button--small">{% if row.has_document %}{% translate "Ajouter une autre version" %}{% else %}{% translate "Téléverser" %}{% endif %}</button>
      </form>
      {% endif %}
      {% if item.guidance and item.status != "ok" %}
      <details class="guidance-details"><summary>{% translate "Ce que dit la FAQ" %}</summary>{% include "_guidance.html" with guidance=item.guidance %}</details>
      {% elif item.guidance %}
      <details class="guidance-details"><summary>{% translate "FAQ" %}</summary>{% include "_guidance.html" with guidance=item.guidance %}</details>
      {% endif %}
    </li>
    {% endwith %}{% endfor %}"""

GUIDE = [{"id": 1, "title": "Facture <\"TVA\"> & co", "url": "/faq/1/", "is_demo": True,
          "excerpt": "Une facture « <b>conforme</b> »…"},
         {"id": 2, "title": "Deuxième", "url": "/faq/2/?a=1&b=2", "is_demo": False, "excerpt": ""}]


def rows():
    invoice = DocumentForm(kinds=[DocumentKind.INVOICE])
    outcomes = [
        (RuleOutcome("solde.invoice_number", "Numéro de facture", "block", "ok", "", GUIDE), None, False),
        (RuleOutcome("solde.pv_pilote", "PV <pilote>", "block", "failed", "Aucun PV « validé » & signé", []),
         None, False),
        (RuleOutcome("solde.invoice_document", "Facture jointe", "block", "failed", "Joindre la facture", GUIDE),
         invoice, True),
        (RuleOutcome("solde.vat", "TVA", "warn", "failed", "Taux <inhabituel>", GUIDE[1:]), None, False),
        (RuleOutcome("solde.date", "Date", "warn", "pending", "À renseigner", []), None, False),
        (RuleOutcome("solde.amount", "Montant", "block", "pending", "Saisir le montant", GUIDE[:1]), None, False),
        (RuleOutcome("solde.pv_pilote", "PV pilote", "block", "ok", "", []), None, False),
    ]
    return [{"item": item, "upload_kind": DocumentKind.INVOICE if form else None, "upload_form": form,
             "has_document": has} for item, form, has in outcomes]


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("can_act,filing", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_rows_are_the_html_the_template_wrote(can_act, filing, language):
    request = RequestFactory().get("/dossiers/12/solde/")
    dossier, solution, page_rows = SimpleNamespace(pk=12), SimpleNamespace(pk=34), rows()
    with translation.override(language):
        old = engines["django"].from_string(OLD_LOOP).render({
            "rows": page_rows, "can_act": can_act, "filing": filing, "dossier": dossier, "solution": solution,
            "csrf_token": "token"}, request)
        new = checklist_rows(request, page_rows, dossier=dossier, solution=solution, can_act=can_act, filing=filing)
    # The page keeps the loop's indentation before `{{ checklist_rows }}`.
    assert without_tokens("    " + new) == without_tokens(old)
    assert ("upload-inline" in new) is (can_act and filing)
    assert "&lt;pilote&gt;" in new and "<pilote>" not in new and "/solutions/34/#pv-pilotes" in new
