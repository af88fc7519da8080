"""The floors: for each case, the best plain SQL for the same answer, with the right index.

Written by hand, as a PostgreSQL user who knows the schema would write them: every access path leads with the
organisation; counts stop at the cap the page shows ("plus de 10 000"); a page reads the sort's index up to its
offset; kept tables (counters, open deadlines) are read rather than recomputed once they exist. Where a floor needs
a column or table that a later migration adds, it uses it when present (`has`), so the floor follows the schema.
"""
from __future__ import annotations

from datetime import date, timedelta

from dossiers.rules import CATALOGUE

from .conftest import fetch

# The pre-solde checklist's rules (every rule of the file_solde transition), whose FAQ guidance the page shows.
SOLDE_RULES = sorted(code for code, rule in CATALOGUE.items() if "file_solde" in rule.transitions)

COUNT_CAP = 10_000
LIST_PAGE = 25

DOSSIER_JOINS = """
    FROM dossiers_dossier d
    JOIN dossiers_client c ON c.id = d.client_id
    JOIN dossiers_solution s ON s.id = d.solution_id
    JOIN dossiers_dispositif p ON p.id = d.dispositif_id
    JOIN dossiers_couloir co ON co.code = p.couloir_id"""


_SCHEMA: dict[tuple[str, str | None], bool] = {}


def has(raw, table: str, column: str | None = None) -> bool:
    """Whether the benchmark database has the table (and column): floors follow the migrations applied."""
    if (table, column) not in _SCHEMA:
        sql = "SELECT 1 FROM information_schema.columns WHERE table_name = %s" + (
            " AND column_name = %s" if column else "")
        _SCHEMA[table, column] = bool(fetch(raw, sql + " LIMIT 1", [table] + ([column] if column else [])))
    return _SCHEMA[table, column]


def auth_floor(raw, user_id: int, organisation_id: int) -> None:
    """What any signed-in page reads first: the session, then the user with their membership (one joined read, as
    the pages do since the request base was cut to two statements)."""
    fetch(raw, "SELECT session_data FROM django_session WHERE expire_date > now() LIMIT 1")
    fetch(raw, "SELECT u.*, m.*, o.* FROM auth_user u JOIN organisations_membership m ON m.user_id = u.id "
               "JOIN organisations_organisation o ON o.id = m.organisation_id WHERE u.id = %s AND o.id = %s",
          [user_id, organisation_id])


def capped_count(raw, from_where: str, params: list) -> int:
    return fetch(raw, f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {COUNT_CAP + 1}) t", params)[0][0]


def list_floor(raw, org, *, where: str = "", order: str, offset: int = 0, search: str | None = None) -> list:
    """The list page: the filter menus, the owner menu (the organisation's assignable members, who also name the
    rows' owners), a capped count, one page of rows with their relations (the page's ids read from the sort's index
    first, up to the offset, then joined: the joins are paid for the page's rows only), their blockers.

    A search matches the kept client name or the reference, folded: through their trigram indexes for a term of
    three characters or more, for a shorter one (which holds no trigram) as a filter on the organisation's rows;
    and, for a term with a digit, the clients one of whose identifiers contains it, their ids read first and passed
    as one array (an index condition, or a hashed test)."""
    params: list = [org.pk]
    if search:
        folded = search.lower()
        name = "d.client_name" if has(raw, "dossiers_dossier", "client_name") else "c.name"
        tests = []
        number = "".join(search.replace(".", "").split())
        if any(char.isdigit() for char in number):
            ids = [row[0] for row in fetch(
                raw, "SELECT id FROM dossiers_client WHERE organisation_id = %s AND (finess_geo LIKE %s OR "
                     "siret LIKE %s OR finess_legal LIKE %s)", [org.pk, *[f"%{number}%"] * 3])]
            tests.append("d.client_id = ANY(%s)")
            params.append(ids)
        for column in ("d.reference", name):
            folded_column = (f"segurtrack_fold({column})" if has(raw, "dossiers_dossier", "client_name")
                             else f"lower(public.unaccent({column}))")
            if len(folded) >= 3:
                tests.append(f"{folded_column} LIKE %s")
                params.append(f"%{folded}%")
            else:
                tests.append(f"strpos({folded_column}, %s) > 0")
                params.append(folded)
        where += f" AND ({' OR '.join(tests)})"
    client_sort = "d.client_name" if has(raw, "dossiers_dossier", "client_name") else "c.name"
    order = order.replace("client_sort", client_sort)
    fetch(raw, "SELECT code, label FROM dossiers_couloir ORDER BY code")
    fetch(raw, "SELECT id, code, label FROM dossiers_dispositif ORDER BY code")
    fetch(raw, "SELECT id, name, version FROM dossiers_solution WHERE organisation_id = %s ORDER BY name, version",
          [org.pk])
    fetch(raw, "SELECT m.id, u.first_name, u.last_name, u.username FROM organisations_membership m "
               "JOIN auth_user u ON u.id = m.user_id WHERE m.organisation_id = %s AND m.role IN ('manager', 'admin') "
               "ORDER BY u.last_name, u.first_name, u.username", [org.pk])
    joins = DOSSIER_JOINS if "c." in where or "c.name" in order else "FROM dossiers_dossier d"
    capped_count(raw, f"{joins} WHERE d.organisation_id = %s {where}", params)
    # One more row than the page: whether there is a next page.
    rows = fetch(raw, f"""SELECT d.*, c.*, s.*, p.*, co.* FROM (
                              SELECT d.id {joins} WHERE d.organisation_id = %s {where}
                              ORDER BY {order} LIMIT {LIST_PAGE + 1} OFFSET %s) page
                          JOIN dossiers_dossier d ON d.id = page.id
                          JOIN dossiers_client c ON c.id = d.client_id
                          JOIN dossiers_solution s ON s.id = d.solution_id
                          JOIN dossiers_dispositif p ON p.id = d.dispositif_id
                          JOIN dossiers_couloir co ON co.code = p.couloir_id
                          ORDER BY {order}""", [*params, offset])
    fetch(raw, "SELECT * FROM dossiers_blocker WHERE dossier_id = ANY(%s) ORDER BY rule", [[row[0] for row in rows]])
    return rows


BLOCKED_ROWS_PER_RULE = 5   # reports.queries.BLOCKED_ROWS_PER_RULE: the dossiers the page lists under each rule


def home_floor(raw, org) -> None:
    """The home page: counts per state and blocked counts from the kept counters, the first blocked dossiers of each
    rule, the avance deadlines and the VA awaited, each a handful of rows through an index.

    "Bloqués par une règle" leaves out the dossiers waiting for the client (deployed: their blocker rows block
    `sign_va`). Once the schema keeps the blocked counts per step and each blocker row its organisation (dossiers
    0017), that is a sum over the kept rows of the other steps and, per rule, the first rows of an index that leads
    with the organisation and leaves the client's step out; before, the rows per rule were read through the dossiers
    of the organisation."""
    fetch(raw, "SELECT state, sum(count) FROM dossiers_statecount WHERE organisation_id = %s GROUP BY state",
          [org.pk])
    if has(raw, "dossiers_blocker", "organisation_id"):
        fetch(raw, f"""SELECT r.rule, b.dossier_id, d.reference, c.name FROM (
                          SELECT rule FROM dossiers_blockercount
                          WHERE organisation_id = %s AND rule <> '' AND transition NOT IN ('sign_va')
                          GROUP BY rule HAVING sum(count) > 0) r
                      CROSS JOIN LATERAL (
                          SELECT b.dossier_id FROM dossiers_blocker b
                          WHERE b.organisation_id = %s AND b.rule = r.rule AND NOT (b.transition IN ('sign_va'))
                          ORDER BY b.dossier_id LIMIT {BLOCKED_ROWS_PER_RULE}) b
                      JOIN dossiers_dossier d ON d.id = b.dossier_id JOIN dossiers_client c ON c.id = d.client_id
                      ORDER BY r.rule, b.dossier_id""", [org.pk, org.pk])
    else:
        rules = fetch(raw, "SELECT rule, count FROM dossiers_blockercount WHERE organisation_id = %s AND count > 0 "
                           "ORDER BY count DESC, rule", [org.pk])
        fetch(raw, f"""SELECT r.rule, x.* FROM unnest(%s::text[]) AS r(rule) CROSS JOIN LATERAL (
                         SELECT d.id, d.reference, c.name, p.code FROM dossiers_dossier d
                         JOIN dossiers_client c ON c.id = d.client_id JOIN dossiers_dispositif p ON p.id = d.dispositif_id
                         JOIN dossiers_blocker b ON b.dossier_id = d.id
                         WHERE d.organisation_id = %s AND b.rule = r.rule AND d.state <> 'deployed'
                         ORDER BY d.updated_at, d.id LIMIT {BLOCKED_ROWS_PER_RULE}) x""",
              [[rule for rule, _n in rules if rule], org.pk])
    deadlines_floor(raw, org, limit=10, due_before=date.today() + timedelta(days=30))
    fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} WHERE d.organisation_id = %s AND d.state = 'deployed' "
               f"ORDER BY d.deployed_on, d.id LIMIT 10", [org.pk])
    fetch(raw, "SELECT count(*) FROM dossiers_dossier WHERE organisation_id = %s AND state = 'deployed'", [org.pk])


def deadlines_floor(raw, org, *, limit: int, due_before: date | None = None) -> list:
    """A page of the organisation's deadlines, soonest first, and their count: from the kept table when there is
    one (indexed by organisation and due date), else the union the first release computed."""
    today = date.today()
    if has(raw, "dossiers_opendeadline"):
        bound = "AND due_on <= %s" if due_before else ""
        params = [org.pk, today] + ([due_before] if due_before else [])
        where = (f"FROM dossiers_opendeadline WHERE organisation_id = %s AND (kind <> 'maintenance_end' "
                 f"OR due_on >= %s) {bound}")
        fetch(raw, f"SELECT count(*) {where}", params)
        return fetch(raw, f"SELECT * {where} ORDER BY due_on, due_at, kind, dossier_id, object_id LIMIT {limit}",
                     params)
    from .test_reads import DEADLINES_RAW

    rows = fetch(raw, DEADLINES_RAW, {"org": org.pk, "today": today, "before": due_before or date(9999, 1, 1),
                                      "va_days": org.pending_va_days})
    return rows[:limit]


def pending_va_floor(raw, org, today: date) -> None:
    """The filter menus, the summary (from the kept per-day cells when the schema has them: test_reads), a page."""
    from .test_reads import PENDING_VA_RAW_ROWS, pending_va_summary_floor

    params = {"org": org.pk, "today": today}
    fetch(raw, "SELECT code, label FROM dossiers_couloir ORDER BY code")
    fetch(raw, "SELECT id, code, label FROM dossiers_dispositif ORDER BY code")
    pending_va_summary_floor(raw, params)
    fetch(raw, PENDING_VA_RAW_ROWS.replace("LIMIT 50", "LIMIT 25"), params)


def pipeline_floor(raw, org) -> None:
    fetch(raw, "SELECT code, label FROM dossiers_couloir ORDER BY code")
    fetch(raw, "SELECT id, code, label FROM dossiers_dispositif ORDER BY code")
    fetch(raw, "SELECT state, sum(count), sum(declared_amount), sum(avance_paid), sum(solde_paid) "
               "FROM dossiers_statecount WHERE organisation_id = %s GROUP BY state", [org.pk])


def dossier_page_floor(raw, org, pk: int) -> None:
    """The dossier, its documents, amendments, history and blockers; the FAQ guidance of its blockers (when it has
    any); the team panel's assignable members (the owner's name, the reassignment choices) and the VA-request
    panel's requests: the page shows all of them, so the floor reads them too."""
    fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} WHERE d.organisation_id = %s AND d.id = %s",
          [org.pk, pk])
    fetch(raw, "SELECT doc.*, u.username FROM dossiers_document doc LEFT JOIN auth_user u ON u.id = doc.uploaded_by_id "
               "WHERE doc.dossier_id = %s ORDER BY doc.uploaded_at, doc.id", [pk])
    fetch(raw, "SELECT * FROM dossiers_amendment WHERE dossier_id = %s ORDER BY filed_on, id", [pk])
    fetch(raw, "SELECT * FROM dossiers_historyentry WHERE dossier_id = %s ORDER BY seq", [pk])
    blockers = fetch(raw, "SELECT rule, transition FROM dossiers_blocker WHERE dossier_id = %s ORDER BY rule", [pk])
    codes = [row[0] for row in blockers]
    if codes:
        guidance_floor(raw, codes)
    fetch(raw, "SELECT m.id, m.role, u.id, u.username, u.first_name, u.last_name FROM organisations_membership m "
               "JOIN auth_user u ON u.id = m.user_id WHERE m.organisation_id = %s AND m.role IN ('manager', 'admin') "
               "ORDER BY u.last_name, u.first_name, u.username", [org.pk])
    if has(raw, "varequests_varequest"):
        fetch(raw, "SELECT * FROM varequests_varequest WHERE dossier_id = %s ORDER BY created_at DESC, id DESC", [pk])


def guidance_floor(raw, codes: list[str]) -> None:
    """Each rule's FAQ entries with their text (the pages show an excerpt), pinned first then by rank."""
    fetch(raw, "SELECT l.rule, l.origin, l.rank, e.id, e.question, e.derived_title, e.text, e.is_demo "
               "FROM faqref_rulelink l JOIN faqref_entry e ON e.id = l.entry_id "
               "WHERE l.rule = ANY(%s) AND l.origin <> 'removed' "
               "ORDER BY l.rule, l.origin <> 'pinned', l.rank DESC, e.id", [codes])


def checklist_floor(raw, org, pk: int) -> None:
    """The dossier, its documents, the solution's validated PV, its amendments, and the FAQ guidance of the
    checklist's rules (every file_solde rule: the page shows each with its guidance)."""
    fetch(raw, f"SELECT d.*, c.*, s.*, p.*, co.* {DOSSIER_JOINS} WHERE d.organisation_id = %s AND d.id = %s",
          [org.pk, pk])
    fetch(raw, "SELECT doc.*, u.username FROM dossiers_document doc LEFT JOIN auth_user u ON u.id = doc.uploaded_by_id "
               "WHERE doc.dossier_id = %s ORDER BY doc.uploaded_at, doc.id", [pk])
    fetch(raw, "SELECT * FROM dossiers_pvpilote WHERE solution_id = (SELECT solution_id FROM dossiers_dossier "
               "WHERE id = %s)", [pk])
    fetch(raw, "SELECT * FROM dossiers_amendment WHERE dossier_id = %s ORDER BY filed_on, id", [pk])
    guidance_floor(raw, SOLDE_RULES)
