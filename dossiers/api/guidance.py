"""Rule outcomes in the API's item shape, each with its FAQ guidance (one query for all the codes)."""
from __future__ import annotations

from typing import Any

from faqref.links import guidance_for

from ..services import RulesFailed


def with_faq(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items, each given the `faq` links of its `rule`."""
    guidance = guidance_for(item["rule"] for item in items)
    return [{**item, "faq": guidance[item["rule"]]} for item in items]


def rules_failed_body(refused: RulesFailed) -> dict[str, list[dict[str, Any]]]:
    """The 409 body: blocking failures in `errors`, the warnings that came with them in `warnings`."""
    items = with_faq([failure.as_dict() for failure in [*refused.failures, *refused.warnings]])
    blocking = len(refused.failures)
    return {"errors": items[:blocking], "warnings": items[blocking:]}
