"""FAQ pages: the search with its facet filters, and an entry with its revisions, rules and vote form."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .models import Facet
from .queries import entries_for_detail, facet_choices, linked_rules, revisions_with_changes, sources_of
from .search import excerpt, search
from .votes import cast_vote, vote_summary

PAGE_SIZE = 20


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False, max_length=200)
    couloir = forms.ChoiceField(label=Facet.Key.COULOIR.label, required=False)
    dispositif = forms.ChoiceField(label=Facet.Key.DISPOSITIF.label, required=False)
    theme = forms.ChoiceField(label=Facet.Key.THEMATIQUE.label, required=False)

    def __init__(self, *args, choices: dict[str, list[str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, key in (("couloir", Facet.Key.COULOIR), ("dispositif", Facet.Key.DISPOSITIF),
                          ("theme", Facet.Key.THEMATIQUE)):
            self.fields[name].choices = [("", _("Tous"))] + [(value, value) for value in choices[key]]


def facet_items(facets: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """An entry's facets as (label, values), in the facets' own order."""
    labels = dict(Facet.Key.choices)
    return [(labels[key], facets[key]) for key in labels if facets.get(key)]


class VoteForm(forms.Form):
    useful = forms.TypedChoiceField(choices=[("yes", _("Oui")), ("no", _("Non"))], coerce=lambda v: v == "yes")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None, choices=facet_choices())
    params = form.cleaned_data if form.is_valid() else {"q": "", "couloir": "", "dispositif": "", "theme": ""}
    page = Paginator(search(**params), PAGE_SIZE).get_page(request.GET.get("page"))
    results = [{"entry": entry, "excerpt": excerpt(entry, params["q"]), "facets": facet_items(entry.facets)}
               for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "faqref/index.html", {
        "form": form, "page": page, "results": results, "query": query.urlencode(),
        "searching": any(params.values()), "has_demo": any(result["entry"].is_demo for result in results),
    })


@login_required
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(entries_for_detail(), pk=pk)
    # Bound on any POST, an empty one included: it is then refused (400), never taken for a plain visit.
    form = VoteForm(request.POST if request.method == "POST" else None)
    membership = request.membership
    if request.method == "POST":
        if not membership:
            raise PermissionDenied(_("Seuls les membres d'une organisation votent."))
        if form.is_valid():
            cast_vote(entry_id=entry.pk, user=request.user, organisation_id=membership.organisation_id,
                      useful=form.cleaned_data["useful"])
            return redirect(f"{entry.get_absolute_url()}#vote")
    return render(request, "faqref/entry.html", {
        "entry": entry,
        "revisions": revisions_with_changes(entry),
        "rules": linked_rules(entry),
        "sources": sources_of(entry),
        "votes": vote_summary(entry, request.user, membership.organisation_id) if membership else None,
        "vote_form": form,
        "facets": facet_items(entry.facets),
    }, status=400 if form.errors else 200)
