"""Which organisation a request acts for, and with which role."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.http import HttpRequest

from .models import Membership, Organisation

SESSION_KEY = "organisation_id"

# Every signed-in page reads its user and the user's memberships: one plain statement for both, written once
# (organisations/backends.py), instead of two ORM queries compiled on every request. Same rows and order as
#   Membership.objects.select_related("organisation").filter(user=user)
#             .order_by(F("last_chosen_at").desc(nulls_last=True), "created_at", "pk")
User = get_user_model()
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]
_ORGANISATION_FIELDS = [f.attname for f in Organisation._meta.concrete_fields]
_ORDER = "ORDER BY m.last_chosen_at DESC NULLS LAST, m.created_at, m.{mpk}".format(mpk=Membership._meta.pk.column)
_JOIN = "{ot} o ON o.{opk} = m.{mfk}".format(
    ot=Organisation._meta.db_table, opk=Organisation._meta.pk.column,
    mfk=Membership._meta.get_field("organisation").column)
_M_COLUMNS = ", ".join(f"m.{f.column}" for f in Membership._meta.concrete_fields)
_O_COLUMNS = ", ".join(f"o.{f.column}" for f in Organisation._meta.concrete_fields)
_USER_FK = Membership._meta.get_field("user").column
_MEMBERSHIPS_SQL = (f"SELECT {_M_COLUMNS}, {_O_COLUMNS} FROM {Membership._meta.db_table} m JOIN {_JOIN} "
                    f"WHERE m.{_USER_FK} = %s {_ORDER}")
_USER_SQL = ("SELECT {u}, {m}, {o} FROM {ut} u LEFT JOIN ({mt} m JOIN {join}) ON m.{ufk} = u.{upk} "
             "WHERE u.{upk} = %s {order}").format(
    u=", ".join(f"u.{f.column}" for f in User._meta.concrete_fields), m=_M_COLUMNS, o=_O_COLUMNS,
    ut=User._meta.db_table, mt=Membership._meta.db_table, join=_JOIN, ufk=_USER_FK, upk=User._meta.pk.column,
    order=_ORDER)
_ORGANISATION_CACHE = Membership._meta.get_field("organisation")
MEMBERSHIPS_ATTR = "_memberships_read_with_user"


def _memberships(alias: str, rows) -> list[Membership]:
    split = len(_MEMBERSHIP_FIELDS)
    memberships = []
    for row in rows:
        membership = Membership.from_db(alias, _MEMBERSHIP_FIELDS, row[:split])
        _ORGANISATION_CACHE.set_cached_value(membership, Organisation.from_db(alias, _ORGANISATION_FIELDS, row[split:]))
        memberships.append(membership)
    return memberships


def user_with_memberships(user_id):
    """The user of this id with their memberships (kept on the instance for this request's `memberships_of`), or
    None when there is no such user. One statement."""
    alias = router.db_for_read(User)
    with connections[alias].cursor() as cursor:
        cursor.execute(_USER_SQL, [user_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    split = len(_USER_FIELDS)
    user = User.from_db(alias, _USER_FIELDS, rows[0][:split])
    setattr(user, MEMBERSHIPS_ATTR, _memberships(alias, [row[split:] for row in rows if row[split] is not None]))
    return user


def memberships_of(user) -> list[Membership]:
    """The user's memberships, each with its organisation, the last chosen first, then the oldest. Those read with
    the user at the start of this request when there are (the user object lives one request), else one statement."""
    kept = getattr(user, MEMBERSHIPS_ATTR, None)
    if kept is not None:
        return kept
    alias = router.db_for_read(Membership)
    with connections[alias].cursor() as cursor:
        cursor.execute(_MEMBERSHIPS_SQL, [user.pk])
        return _memberships(alias, cursor.fetchall())


def session_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen in this session, else the one the user chose last (remembered across sessions),
    else their oldest one. Never decided by organisation names: joining another organisation moves nobody."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = memberships_of(user)
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        membership = next((m for m in memberships if m.organisation_id == chosen), None)
        if membership is not None:
            return membership
    return memberships[0] if memberships else None
