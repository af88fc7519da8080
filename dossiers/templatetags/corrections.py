"""{% corrections dossier documents as corrections %}: what the dossier page offers to correct now (no query)."""
from typing import Any

from django import template
from django.urls import reverse

from ..models import TRANSITION_LABELS
from ..services import correctable_steps, document_refusal, draft_refusal

register = template.Library()


@register.simple_tag
def corrections(dossier, documents) -> dict[str, Any]:
    """The steps whose data may be corrected, the documents that may be replaced or withdrawn, whether the solde
    draft may be deleted; from the dossier and the documents the page already holds."""
    steps = [{"label": TRANSITION_LABELS[step], "url": reverse("dossier-correct-step", args=[dossier.pk, step])}
             for step in correctable_steps(dossier)]
    open_documents = [document for document in documents if document_refusal(dossier, document.kind) is None]
    draft = bool(dossier.solde_draft) and draft_refusal(dossier) is None
    return {"steps": steps, "documents": open_documents, "draft": draft,
            "any": bool(steps or open_documents or draft)}
