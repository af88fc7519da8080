"""The daily digest and the deadline reminders: what each member is told, built in a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _, ngettext

from dossiers import rules
from dossiers.models import Channel, NotificationKind
from dossiers.queries import channel_for, digest_notices
from organisations.models import Membership, Organisation

from . import deadlines as dl, queries

DIGEST_DAYS = 7
OVERDUE_VA_SHOWN = 5


@dataclass
class Digest:
    organisation: Organisation
    day: date
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    overdue_va_count: int = 0
    overdue_va_references: list[str] = field(default_factory=list)
    # The member's notices of the kinds they chose to read here (dossiers.queries.digest_notices).
    notices: list[str] = field(default_factory=list)
    # The day's deadline reminders, for a member who chose to read them in the digest (reports.tasks._reminders).
    reminders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.deadlines or self.blockers or self.overdue_va_count or self.notices or self.reminders)

    @property
    def subject(self) -> str:
        return _("[segurtrack] Résumé du %(day)s — %(organisation)s") % {
            "day": formats.date_format(self.day, "SHORT_DATE_FORMAT"), "organisation": self.organisation.name}

    @property
    def summary(self) -> str:
        """One line for the in-app notification list."""
        overdue = sum(1 for d in self.deadlines if d["overdue"])
        blocked = sum(item["count"] for item in self.blockers)
        return _("Résumé du %(day)s : %(deadlines)s, dont %(overdue)s en retard ; %(blocked)s ; %(vas)s.") % {
            "day": formats.date_format(self.day, "SHORT_DATE_FORMAT"),
            "deadlines": ngettext("%(n)s échéance", "%(n)s échéances", len(self.deadlines)) % {"n": len(self.deadlines)},
            "overdue": overdue,
            "blocked": ngettext("%(n)s blocage", "%(n)s blocages", blocked) % {"n": blocked},
            "vas": ngettext("%(n)s VA en retard", "%(n)s VA en retard", self.overdue_va_count) % {
                "n": self.overdue_va_count},
        }

    def body(self) -> str:
        lines = [self.summary, ""]
        if self.reminders:
            lines.append(_("Rappels du jour :"))
            lines += [f"- {describe(d)}" for d in self.reminders]
            lines.append("")
        if self.deadlines:
            lines.append(_("Échéances (7 prochains jours et retards) :"))
            lines += [f"- {describe(d)}" for d in self.deadlines]
            lines.append("")
        if self.blockers:
            lines.append(_("Dossiers bloqués, par règle :"))
            for item in self.blockers:
                title = rules.CATALOGUE[item["rule"]].title if item["rule"] in rules.CATALOGUE else item["rule"]
                lines.append(_("- %(title)s (%(rule)s) : %(count)s dossier(s), dont %(refs)s") % {
                    "title": title, "rule": item["rule"], "count": item["count"],
                    "refs": ", ".join(item["references"])})
            lines.append("")
        if self.overdue_va_count:
            lines.append(_("VA en retard : %(count)s dossier(s), les plus anciens : %(refs)s") % {
                "count": self.overdue_va_count, "refs": ", ".join(self.overdue_va_references)})
            lines.append("")
        if self.notices:
            lines.append(_("Vos notifications d'hier :"))
            lines += [f"- {notice}" for notice in self.notices]
        return "\n".join(lines).rstrip() + "\n"


def describe(deadline: dict[str, Any]) -> str:
    """A deadline in one French line: what, for whom, when, how late."""
    due = deadline["due"]
    when = formats.date_format(due, "SHORT_DATETIME_FORMAT" if hasattr(due, "hour") else "SHORT_DATE_FORMAT")
    subject = deadline["reference"] or deadline["client"] or deadline["solution"] or ""
    if deadline["overdue"]:
        status = ngettext("en retard de %(n)s jour", "en retard de %(n)s jours", -deadline["days_left"]) % {
            "n": -deadline["days_left"]}
    elif deadline["days_left"] == 0:
        status = _("aujourd'hui")
    else:
        status = ngettext("dans %(n)s jour", "dans %(n)s jours", deadline["days_left"]) % {"n": deadline["days_left"]}
    detail = " — ".join(part for part in (deadline["client"] if deadline["reference"] else "", deadline["solution"]) if part)
    text = f"{deadline['label']} : {subject}"
    if detail:
        text += f" ({detail})"
    if deadline.get("amount") is not None:   # a recovery order: what is still owed
        text += " — " + _("reste dû : %(amount)s") % {"amount": rules.money(Decimal(deadline["amount"]))}
    return f"{text}, {when} ({status})"


def build_digest(organisation: Organisation, day: date, membership: Membership | None = None) -> Digest:
    """The organisation's digest for a day: deadlines (next 7 days and overdue), blockers, overdue VAs (4 queries);
    for a member, also their notices of the kinds they chose to read in the digest and their reminder channel (two
    more), and when that channel is the digest, the day's deadline reminders (one more)."""
    reminders = []
    if membership is not None and channel_for(membership, NotificationKind.DEADLINE_REMINDER) == Channel.DIGEST:
        reminders = dl.reminders_for(organisation, today=day)
    overdue_vas = queries.pending_va_queryset(organisation).filter(
        deployed_on__lt=day - timedelta(days=organisation.pending_va_days))
    references = list(overdue_vas.order_by("deployed_on", "id").values_list("reference", flat=True)[:OVERDUE_VA_SHOWN])
    return Digest(
        organisation=organisation, day=day,
        deadlines=dl.deadlines_for(organisation, due_before=day + timedelta(days=DIGEST_DAYS), today=day),
        blockers=queries.blockers_by_rule(organisation),
        overdue_va_count=overdue_vas.count() if references else 0,
        overdue_va_references=references,
        notices=digest_notices(membership, day) if membership is not None else [],
        reminders=reminders,
    )


@dataclass
class Reminders:
    organisation: Organisation
    day: date
    deadlines: list[dict[str, Any]]

    @property
    def subject(self) -> str:
        return _("[segurtrack] Rappels d'échéances du %(day)s — %(organisation)s") % {
            "day": formats.date_format(self.day, "SHORT_DATE_FORMAT"), "organisation": self.organisation.name}

    def body(self) -> str:
        return "\n".join([_("Rappels du jour :"), *(f"- {describe(d)}" for d in self.deadlines)]) + "\n"


def build_reminders(organisation: Organisation, day: date) -> Reminders:
    return Reminders(organisation, day, dl.reminders_for(organisation, today=day))
