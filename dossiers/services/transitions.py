"""The dossier's steps and settings. `run_transition` is the only caller of transition methods, so nothing skips the
history: lock, check state, payload and rules, apply, save, append the history row, notify after commit."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from organisations.models import Membership, Organisation
from segurtrack.errors import InvalidInput

from .. import counters, deadlines, outbox, rules, tasks
from ..blockers import TRANSITION_RELATED, lock, refresh_blockers
from ..models import (
    ACTIVE_EXCLUDED_STATES, SCENARIO_CHANGE_STATES, Client, DeclaredFiness, Dossier, HistoryEntry, Solution, State,
)
from ..models.records import canonical_json
from ..payloads import TRANSITIONS, validate_payload, validate_solde_draft
from .common import (
    Outcome, RulesFailed, append_history, history_saved, next_history_entry, require_held_role, require_role,
)


# The columns a transition method may set are those of its payload and the state; the rest of the row is left alone
# by the UPDATE. These are always written: the step's time, the history chain's head, the row's own time.
_ALWAYS_SAVED = ("state_changed_at", "history_seq", "history_hash", "history_anchor", "updated_at")
_COLUMNS = tuple(f.attname for f in Dossier._meta.concrete_fields
                 if not f.primary_key and f.attname not in _ALWAYS_SAVED)


def _values(dossier: Dossier) -> dict[str, Any]:
    """The row's columns before the transition method runs (JSON values copied: the method may change them in
    place)."""
    return {name: copy.deepcopy(value) if isinstance(value, (dict, list)) else value
            for name in _COLUMNS for value in (getattr(dossier, name),)}


def _changed(dossier: Dossier, values: dict[str, Any]) -> list[str]:
    """The columns the transition changed, and those always saved: the UPDATE's SET list."""
    return [name for name, value in values.items() if getattr(dossier, name) != value] + list(_ALWAYS_SAVED)


def state_refusal(dossier: Dossier, name: str) -> rules.Failure:
    return rules.Failure(
        rules.STATE_RULE, rules.Severity.BLOCK,
        _("La transition « %(name)s » n'est pas possible depuis l'état « %(state)s ».") % {
            "name": name, "state": State(dossier.state).label},
    )


def run_transition(dossier_id: int, name: str, *, by: AbstractBaseUser, data: Any,
                   organisation_id: int | None = None) -> Outcome:
    """Lock, check state, payload and rules, apply, save, append history, notify after commit.

    Raises NotPermitted, RulesFailed (state or rules: nothing saved) or InvalidInput (bad payload); with
    `organisation_id` (the API's requesting organisation), Dossier.DoesNotExist for another organisation's dossier
    as for a missing one, so the caller need not read the dossier first.
    """
    if name not in TRANSITIONS:
        raise InvalidInput({"transition": [_("Transition inconnue : %(name)s.") % {"name": name}]})
    with transaction.atomic():
        superuser = getattr(by, "is_superuser", False)
        dossier = lock(dossier_id, TRANSITION_RELATED, role_of=None if superuser else by.pk,
                       organisation_id=organisation_id, reserve_history_id=True)
        require_held_role(by, getattr(dossier, "member_role", None))
        if not can_proceed(getattr(dossier, name)):
            raise RulesFailed([state_refusal(dossier, name)])
        payload = validate_payload(name, data, dossier)
        context = rules.Context(dossier, name, payload)
        failures = rules.evaluate(context)
        blocking = [f for f in failures if f.severity is rules.Severity.BLOCK]
        warnings = [f for f in failures if f.severity is rules.Severity.WARN]
        if blocking:
            raise RulesFailed(blocking, warnings)
        from_state = dossier.state
        before = counters.snapshot(dossier)
        values = _values(dossier)
        getattr(dossier, name)(payload)
        dossier.state_changed_at = timezone.now()
        history_data = dict(payload)
        if warnings:
            history_data["warnings"] = [w.rule for w in warnings]
        entry = next_history_entry(dossier, user=by, action=name, from_state=from_state, to_state=dossier.state,
                                   data=history_data)
        entry.pk = getattr(dossier, "next_history_id", None)  # None elsewhere than on PostgreSQL
        listened = False
        update_fields = _changed(dossier, values)
        if from_state in ACTIVE_EXCLUDED_STATES and dossier.state not in ACTIVE_EXCLUDED_STATES:
            # Entering the one-prestation-per-dispositif set is the only save the partial unique index can refuse
            # (two dossiers of one client and dispositif signed at once); only it needs a savepoint.
            try:
                with transaction.atomic():
                    _save_step(dossier, entry, update_fields)()
            except IntegrityError:
                raise RulesFailed([rules.Failure("dispositif.single_active", rules.Severity.BLOCK, _(
                    "Le client a déjà un dossier actif pour ce dispositif."))])
            counters.record_change(dossier, before)  # before the blockers: state counts are always locked first
            deadlines.keep(dossier_ids=[dossier.pk])
        else:
            # The step, the state counts and the kept deadlines (which read the updated row) need no answer from
            # one another: sent together, one round trip for the three.
            # The history row's id was reserved with the lock, so the listeners' statements (the webhook endpoints'
            # read) join the round trip too.
            with _one_round_trip():
                saved = _save_step(dossier, entry, update_fields)
                counters.record_change(dossier, before)  # before the blockers: state counts are locked first
                deadlines.keep(dossier_ids=[dossier.pk])
                if entry.pk is not None:
                    entry._state.adding, entry._state.db = False, connection.alias
                    history_saved(entry)  # the webhook deliveries, in this transaction
                    listened = True
                saved()
        if not listened:
            history_saved(entry)
        refresh_blockers(dossier, known=context)  # the rules' facts still hold: documents etc. are not read again
    return Outcome(dossier, warnings, entry)


def _prepared(instance: Any, fields: list[Any], add: bool) -> list[Any]:
    """The fields' values as the ORM would send them (auto_now set, JSON adapted, dates converted)."""
    return [f.get_db_prep_save(f.pre_save(instance, add), connection) for f in fields]


_HISTORY_FIELDS = list(HistoryEntry._meta.concrete_fields)  # the id too: reserved with the lock
_DOSSIER_FIELDS = {f.attname: f for f in Dossier._meta.concrete_fields}
_STEP_SQL: dict[tuple[str, ...], str] = {}


def _step_sql(update_fields: tuple[str, ...], message_sql: str) -> str:
    """The step's one statement for this SET list (compiled once per list): the history row, the outbox message
    that notifies it (its args name the row), and the dossier's changed columns; returns the two new ids and how
    many dossier rows were updated."""
    if update_fields not in _STEP_SQL:
        qn = connection.ops.quote_name
        history_columns = ", ".join(qn(f.column) for f in _HISTORY_FIELDS)
        history_values = ", ".join(["%s"] * len(_HISTORY_FIELDS))
        assignments = ", ".join(f"{qn(_DOSSIER_FIELDS[name].column)} = %s" for name in update_fields)
        _STEP_SQL[update_fields] = (
            f"WITH h AS (INSERT INTO {qn(HistoryEntry._meta.db_table)} ({history_columns}) "
            f"VALUES ({history_values}) RETURNING id), "
            f"m AS ({message_sql} FROM h RETURNING id), "
            f"d AS (UPDATE {qn(Dossier._meta.db_table)} SET {assignments} WHERE id = %s RETURNING id) "
            "SELECT (SELECT id FROM h), (SELECT id FROM m), (SELECT count(*) FROM d)")
    return _STEP_SQL[update_fields]


def _save_step(dossier: Dossier, entry: HistoryEntry, update_fields: list[str]) -> Callable[[], None]:
    """Send the step in one statement instead of three (history row, dossier UPDATE, outbox message), with the
    values the ORM would have sent; returns `received`, to call once what may share the round trip is sent: it
    reads the new ids (the history row's is then known) and asks to publish the message after the commit, as
    `outbox.enqueue` does. Elsewhere than on PostgreSQL (no INSERT in a WITH), the three writes of the ORM."""
    if connection.vendor != "postgresql" or entry.pk is None:
        entry.pk = None
        entry.save()
        dossier.save(update_fields=update_fields)
        outbox.enqueue(tasks.notify_history_entry, [entry.pk])
        return lambda: None
    message_sql, message_params = outbox.insert_sql(tasks.notify_history_entry, "jsonb_build_array(h.id)")
    sql = _step_sql(tuple(update_fields), message_sql)
    params = [*_prepared(entry, _HISTORY_FIELDS, True), *message_params,
              *_prepared(dossier, [_DOSSIER_FIELDS[name] for name in update_fields], False), dossier.pk]
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise

    def received() -> None:
        try:
            history_id, message_id, updated = cursor.fetchone()
        finally:
            cursor.close()
        if not updated:  # what `save(update_fields=...)` says of a row that vanished (it is locked: never expected)
            raise DatabaseError("Save with update_fields did not affect any rows.")
        assert history_id == entry.pk
        entry._state.adding, entry._state.db = False, connection.alias
        outbox.publish_after_commit(message_id)

    return received


@contextmanager
def _one_round_trip() -> Iterator[None]:
    """PostgreSQL's pipeline: the statements are sent without waiting for each answer; the first result read (or
    the block's end) sends them all and waits once. An error still surfaces, as Django's, before the block ends."""
    raw = connection.connection
    if connection.vendor != "postgresql" or raw is None or not psycopg.Pipeline.is_supported():
        yield
        return
    with connection.wrap_database_errors, raw.pipeline():
        yield


# --- changes outside the state machine -------------------------------------------------------------------------

def create_dossier(*, organisation: Organisation, by: AbstractBaseUser, client: Client, solution: Solution,
                   scenario: str = "", reference: str = "") -> Dossier:
    """A new draft dossier. Its creator becomes its owner when they are a member of the organisation (issue 16:
    "Mes dossiers" then lists what one created); a superuser acting from outside leaves it without one."""
    if client.organisation_id != organisation.pk or solution.organisation_id != organisation.pk:
        raise InvalidInput({"client": [_("Client ou solution d'une autre organisation.")]})
    require_role(by, organisation.pk)
    owner = Membership.objects.filter(user_id=by.pk, organisation_id=organisation.pk).only("id").first()
    with transaction.atomic():
        dossier = Dossier(organisation=organisation, client=client, solution=solution, owner=owner,
                          dispositif_id=solution.dispositif_id, scenario=scenario, reference=reference)
        try:
            with transaction.atomic():
                dossier.save()
        except IntegrityError:
            raise InvalidInput({"reference": [_("Cette référence est déjà utilisée.")]})
        if not dossier.reference:
            dossier.reference = f"SEG-{dossier.pk:06d}"
            Dossier.objects.filter(pk=dossier.pk).update(reference=dossier.reference)
        counters.record_change(dossier, None)
        deadlines.keep(dossier_ids=[dossier.pk])
        append_history(dossier, user=by, action="create", to_state=dossier.state,
                       data={"client": client.pk, "solution": solution.pk, "scenario": scenario,
                             "reference": dossier.reference})
        refresh_blockers(dossier)
    return dossier


# Dossier fields a manager sets freely (validated by the caller's serializer or form), each change logged.
DOSSIER_SETTINGS = ("declared_finess", "installed_version", "maintenance_contract")


def update_dossier(dossier_id: int, *, by: AbstractBaseUser, changes: dict[str, Any]) -> Dossier:
    """Change the scenario (until the VA is signed), the reference, the settings or the solde draft; each change is
    logged."""
    with transaction.atomic():
        dossier = lock(dossier_id)
        require_role(by, dossier.organisation_id)
        shown = (dossier.reference, dossier.maintenance_contract)  # what its deadlines read of these changes
        errors: dict[str, list[str]] = {}
        if "scenario" in changes and changes["scenario"] != dossier.scenario:
            if dossier.state not in SCENARIO_CHANGE_STATES:
                errors["scenario"] = [_("Le scénario ne peut plus changer une fois la VA signée : les contrôles se "
                                        "font sur le scénario de la VA.")]
            else:
                append_history(dossier, user=by, action="change_scenario", from_state=dossier.state,
                               data={"from": dossier.scenario, "to": changes["scenario"]})
                dossier.scenario = changes["scenario"]
        if "reference" in changes and changes["reference"] != dossier.reference:
            if Dossier.objects.filter(organisation_id=dossier.organisation_id, reference=changes["reference"]).exclude(
                    pk=dossier.pk).exists():
                errors["reference"] = [_("Cette référence est déjà utilisée.")]
            else:
                append_history(dossier, user=by, action="change_reference", from_state=dossier.state,
                               data={"from": dossier.reference, "to": changes["reference"]})
                dossier.reference = changes["reference"]
        if "declared_finess" in changes and changes["declared_finess"] not in DeclaredFiness.values:
            errors["declared_finess"] = [_("Valeur inconnue : geo ou legal.")]
        for name in DOSSIER_SETTINGS:
            if name in changes and name not in errors and changes[name] != getattr(dossier, name):
                append_history(dossier, user=by, action=f"change_{name}", from_state=dossier.state,
                               data={"from": getattr(dossier, name), "to": changes[name]})
                setattr(dossier, name, changes[name])
        if "solde_draft" in changes:
            _change_solde_draft(dossier, changes["solde_draft"], by=by, errors=errors)
        if errors:
            raise InvalidInput(errors)
        dossier.save()
        if (dossier.reference, dossier.maintenance_contract) != shown:
            deadlines.keep(dossier_ids=[dossier.pk])
        refresh_blockers(dossier)
    return dossier


def _change_solde_draft(dossier: Dossier, draft: dict[str, Any] | None, *, by: AbstractBaseUser,
                        errors: dict[str, list[str]]) -> None:
    """Store the typed draft and log it; its field errors join `errors` as `solde_draft.<field>`."""
    try:
        validated = validate_solde_draft(draft, dossier)
    except InvalidInput as invalid:
        errors.update({f"solde_draft.{k}": v for k, v in invalid.errors.items()})
        return
    typed = json.loads(canonical_json(validated))
    if typed != dossier.solde_draft:  # the same draft posted again is no change: no history row
        dossier.solde_draft = typed
        append_history(dossier, user=by, action="change_solde_draft", from_state=dossier.state,
                       data=dossier.solde_draft)
