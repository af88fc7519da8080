"""FAQ pages: an entry with its revisions and the rules that cite it."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Entry


@login_required
def entry(request, pk: int):
    entry = get_object_or_404(Entry.objects.prefetch_related("revisions", "rule_links"), pk=pk)
    return render(request, "faqref/entry.html", {"entry": entry})
