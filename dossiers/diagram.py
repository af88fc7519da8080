"""The dossier state machine as an inline SVG, drawn on the server from the FSM's own transitions.

The layout is fixed and hand-tuned: the main path runs left to right on the top row and comes back right to
left on the second row, the two "à modifier" loops sit above and below the filed states, and the
cancellation branch takes the right-hand column (every cancellable state joins it through one of two buses).
States and edges come from the model (`get_all_transitions`), so a transition added to the model appears
even before it is given a route here (drawn straight).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext as _

from .models import TRANSITION_LABELS, Dossier, State

WIDTH, HEIGHT = 1070, 440
NODE_W, NODE_H = 140, 46
C = [90, 260, 430, 600, 770, 970]   # column centres
R = [40, 130, 270, 370]             # row centres
BUS_TOP, BUS_BOTTOM = 185, 215      # request_cancellation buses, between the two main rows

POSITIONS: dict[str, tuple[int, int]] = {
    State.DRAFT: (C[0], R[1]),
    State.BDC_SIGNED: (C[1], R[1]),
    State.AVANCE_FILED: (C[2], R[1]),
    State.AVANCE_TO_FIX: (C[2], R[0]),
    State.AVANCE_VALIDATED: (C[3], R[1]),
    State.AVANCE_PAID: (C[4], R[1]),
    State.DEPLOYED: (C[4], R[2]),
    State.VA_SIGNED: (C[3], R[2]),
    State.SOLDE_FILED: (C[2], R[2]),
    State.SOLDE_TO_FIX: (C[2], R[3]),
    State.SOLDE_VALIDATED: (C[1], R[2]),
    State.SOLDE_PAID: (C[0], R[2]),
    State.CANCELLATION_REQUESTED: (C[5], 200),
    State.RECOVERY_ISSUED: (C[5], 300),
    State.CANCELLED: (C[5], 400),
}
FINAL = {State.SOLDE_PAID, State.CANCELLED}

HALF_W, HALF_H = NODE_W // 2, NODE_H // 2
CANCEL_LEFT = C[5] - HALF_W


def _row1_to_cancel(state: str) -> list[tuple[int, int]]:
    x, y = POSITIONS[state]
    return [(x + 45, y + HALF_H), (x + 45, BUS_TOP), (CANCEL_LEFT, BUS_TOP)]


def _row2_to_cancel(state: str) -> list[tuple[int, int]]:
    x, y = POSITIONS[state]
    return [(x - 50, y - HALF_H), (x - 50, BUS_BOTTOM), (CANCEL_LEFT, BUS_BOTTOM)]


def _cancel_to_row1(state: str) -> list[tuple[int, int]]:
    x, y = POSITIONS[state]
    return [(CANCEL_LEFT, BUS_TOP - 8), (x + 30, BUS_TOP - 8), (x + 30, y + HALF_H)]


def _cancel_to_row2(state: str) -> list[tuple[int, int]]:
    x, y = POSITIONS[state]
    return [(CANCEL_LEFT, BUS_BOTTOM + 8), (x - 35, BUS_BOTTOM + 8), (x - 35, y - HALF_H)]


# (transition, source, target) -> the polyline of the edge, arrow at its last point.
ROUTES: dict[tuple[str, str, str], list[tuple[int, int]]] = {
    ("sign_bdc", State.DRAFT, State.BDC_SIGNED): [(C[0] + HALF_W, R[1]), (C[1] - HALF_W, R[1])],
    ("file_avance", State.BDC_SIGNED, State.AVANCE_FILED): [(C[1] + HALF_W, R[1]), (C[2] - HALF_W, R[1])],
    ("request_avance_fix", State.AVANCE_FILED, State.AVANCE_TO_FIX): [(C[2] - 15, R[1] - HALF_H), (C[2] - 15, R[0] + HALF_H)],
    ("refile_avance", State.AVANCE_TO_FIX, State.AVANCE_FILED): [(C[2] + 15, R[0] + HALF_H), (C[2] + 15, R[1] - HALF_H)],
    ("validate_avance", State.AVANCE_FILED, State.AVANCE_VALIDATED): [(C[2] + HALF_W, R[1]), (C[3] - HALF_W, R[1])],
    ("record_avance_payment", State.AVANCE_VALIDATED, State.AVANCE_PAID): [(C[3] + HALF_W, R[1]), (C[4] - HALF_W, R[1])],
    ("mark_deployed", State.AVANCE_PAID, State.DEPLOYED): [(C[4] + 15, R[1] + HALF_H), (C[4] + 15, R[2] - HALF_H)],
    ("mark_deployed", State.AVANCE_VALIDATED, State.DEPLOYED): [(C[3] + 20, R[1] + HALF_H), (C[4] - 15, R[2] - HALF_H)],
    ("sign_va", State.DEPLOYED, State.VA_SIGNED): [(C[4] - HALF_W, R[2]), (C[3] + HALF_W, R[2])],
    ("file_solde", State.VA_SIGNED, State.SOLDE_FILED): [(C[3] - HALF_W, R[2]), (C[2] + HALF_W, R[2])],
    ("request_solde_fix", State.SOLDE_FILED, State.SOLDE_TO_FIX): [(C[2] - 15, R[2] + HALF_H), (C[2] - 15, R[3] - HALF_H)],
    ("file_solde", State.SOLDE_TO_FIX, State.SOLDE_FILED): [(C[2] + 15, R[3] - HALF_H), (C[2] + 15, R[2] + HALF_H)],
    ("validate_solde", State.SOLDE_FILED, State.SOLDE_VALIDATED): [(C[2] - HALF_W, R[2]), (C[1] + HALF_W, R[2])],
    ("record_solde_payment", State.SOLDE_VALIDATED, State.SOLDE_PAID): [(C[1] - HALF_W, R[2]), (C[0] + HALF_W, R[2])],
    **{("request_cancellation", s, State.CANCELLATION_REQUESTED): _row1_to_cancel(s)
       for s in (State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_VALIDATED, State.AVANCE_PAID)},
    **{("request_cancellation", s, State.CANCELLATION_REQUESTED): _row2_to_cancel(s)
       for s in (State.DEPLOYED, State.VA_SIGNED, State.SOLDE_FILED)},
    ("request_cancellation", State.AVANCE_TO_FIX, State.CANCELLATION_REQUESTED): [
        (C[2] + HALF_W, R[0]), (C[5], R[0]), (C[5], 200 - HALF_H)],
    ("request_cancellation", State.SOLDE_TO_FIX, State.CANCELLATION_REQUESTED): [
        (C[2] + HALF_W, R[3]), (CANCEL_LEFT - 35, R[3]), (CANCEL_LEFT - 35, BUS_BOTTOM), (CANCEL_LEFT, BUS_BOTTOM)],
    ("confirm_cancellation", State.CANCELLATION_REQUESTED, State.RECOVERY_ISSUED): [
        (C[5], 200 + HALF_H), (C[5], 300 - HALF_H)],
    ("confirm_cancellation", State.CANCELLATION_REQUESTED, State.CANCELLED): [
        (C[5] + HALF_W, 200), (C[5] + HALF_W + 18, 200), (C[5] + HALF_W + 18, 400), (C[5] + HALF_W, 400)],
    ("record_recovery", State.RECOVERY_ISSUED, State.CANCELLED): [(C[5], 300 + HALF_H), (C[5], 400 - HALF_H)],
    # A repayment short of the avance paid: the recovery order stays open.
    ("record_recovery", State.RECOVERY_ISSUED, State.RECOVERY_ISSUED): [
        (CANCEL_LEFT, 292), (CANCEL_LEFT - 16, 292), (CANCEL_LEFT - 16, 308), (CANCEL_LEFT, 308)],
    # The ASP refuses the cancellation: back along the buses, beside the requests, to the state it came from.
    **{("refuse_cancellation", State.CANCELLATION_REQUESTED, s): _cancel_to_row1(s)
       for s in (State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_VALIDATED, State.AVANCE_PAID)},
    **{("refuse_cancellation", State.CANCELLATION_REQUESTED, s): _cancel_to_row2(s)
       for s in (State.DEPLOYED, State.VA_SIGNED, State.SOLDE_FILED)},
    ("refuse_cancellation", State.CANCELLATION_REQUESTED, State.AVANCE_TO_FIX): [
        (C[5] + 20, 200 - HALF_H), (C[5] + 20, R[0] + 8), (C[2] + HALF_W, R[0] + 8)],
    ("refuse_cancellation", State.CANCELLATION_REQUESTED, State.SOLDE_TO_FIX): [
        (CANCEL_LEFT, BUS_BOTTOM + 8), (CANCEL_LEFT - 25, BUS_BOTTOM + 8), (CANCEL_LEFT - 25, R[3] + 8),
        (C[2] + HALF_W, R[3] + 8)],
}


@dataclass(frozen=True)
class Edge:
    name: str
    source: str
    target: str


@cache
def edges() -> tuple[Edge, ...]:
    """Every (transition, source, target) of the machine; a computed target counts once per allowed state."""
    result = []
    for transition in Dossier._meta.get_field("state").get_all_transitions(Dossier):
        targets = getattr(transition.target, "allowed_states", None) or [transition.target]
        for target in targets:
            result.append(Edge(transition.name, str(transition.source), str(target)))
    return tuple(sorted(set(result), key=lambda e: (e.name, e.source, e.target)))


def states() -> list[str]:
    return list(State.values)


def _border_point(centre: tuple[int, int], towards: tuple[int, int]) -> tuple[float, float]:
    """Where the segment from a node's centre towards a point leaves the node's box."""
    (x, y), (tx, ty) = centre, towards
    dx, dy = tx - x, ty - y
    if dx == dy == 0:
        return x, y
    scale = min(HALF_W / abs(dx) if dx else float("inf"), HALF_H / abs(dy) if dy else float("inf"))
    return x + dx * scale, y + dy * scale


def _route(edge: Edge) -> list[tuple[float, float]]:
    route = ROUTES.get((edge.name, edge.source, edge.target))
    if route:
        return route
    a, b = POSITIONS.get(edge.source, (20, 20)), POSITIONS.get(edge.target, (20, 20))
    return [_border_point(a, b), _border_point(b, a)]


def _wrap(label: str, width: int = 17) -> list[str]:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines[:2]


STYLE = {
    # node: fill, stroke, stroke width, text colour
    "current": ("#1d4ed8", "#1e3a8a", 3, "#ffffff"),
    "visited": ("#dbeafe", "#2563eb", 1.5, "#1e3a8a"),
    "idle": ("#ffffff", "#94a3b8", 1.2, "#334155"),
}
EDGE_STYLE = {
    # edge: stroke, width, dash, marker
    "blocked": ("#b91c1c", 2.5, "6 4", "arrow-blocked"),
    "visited": ("#2563eb", 2.5, "", "arrow-visited"),
    "available": ("#15803d", 2.2, "", "arrow-available"),
    "idle": ("#94a3b8", 1.3, "", "arrow-idle"),
    "idle-cancel": ("#cbd5e1", 1.1, "4 3", "arrow-cancel"),
}


def render(dossier: Dossier, *, history: Iterable = (), blockers: Iterable = ()) -> SafeString:
    """The SVG for one dossier: its path (from its history rows), its current state, and the edges out of the
    current state that its Blocker rows refuse (red, rule codes in the tooltip); edges go by their labels.

    The drawing is a pure function of what is read here (the state, the states and transitions the history went
    through, its path, the blocked transitions with their rule codes) and of the language: it is drawn once per
    process for each combination (`_draw`, an LRU cache), since the machine and its labels only change with the
    code. Most dossiers follow one of a few paths, so the cache stays small and hits almost always."""
    current = dossier.state
    visited_states: set[str] = {current}
    visited_edges: set[tuple[str, str, str]] = set()
    path: list[str] = []
    for row in history:
        for state in (row.from_state, row.to_state):
            if state:
                visited_states.add(state)
        if row.from_state and row.to_state and row.from_state != row.to_state:
            visited_edges.add((row.action, row.from_state, row.to_state))
            if not path:
                path.append(row.from_state)
            path.append(row.to_state)
        elif not path and row.to_state:
            path.append(row.to_state)
    blocked: dict[str, list[str]] = {}
    for blocker in blockers:
        blocked.setdefault(blocker.transition, []).append(blocker.rule)
    return _draw(get_language(), current, frozenset(visited_states), frozenset(visited_edges), tuple(path),
                 tuple((name, tuple(codes)) for name, codes in blocked.items()))


@lru_cache(maxsize=2048)
def _draw(language: str | None, current: str, visited_states: frozenset[str],
          visited_edges: frozenset[tuple[str, str, str]], path: tuple[str, ...],
          blocked_items: tuple[tuple[str, tuple[str, ...]], ...]) -> SafeString:
    """The SVG for these inputs, in `language` (the active one: the labels below are translated in it)."""
    labels = TRANSITION_LABELS
    blocked = dict(blocked_items)
    state_label = {value: str(label) for value, label in State.choices}

    parts: list[str] = []
    for edge in edges():
        key = (edge.name, edge.source, edge.target)
        if edge.source == current and edge.name in blocked:
            kind = "blocked"
        elif key in visited_edges:
            kind = "visited"
        elif edge.source == current:
            kind = "available"
        else:
            kind = "idle-cancel" if edge.name in ("request_cancellation", "refuse_cancellation") else "idle"
        stroke, width, dash, marker = EDGE_STYLE[kind]
        points = " ".join(f"{x:g},{y:g}" for x, y in _route(edge))
        title = f"{labels.get(edge.name, edge.name)} : {state_label.get(edge.source, edge.source)} → " \
                f"{state_label.get(edge.target, edge.target)}"
        if kind == "blocked":
            title += " — " + _("bloquée par %(codes)s") % {"codes": ", ".join(sorted(blocked[edge.name]))}
        parts.append(format_html(
            '<g class="edge edge-{kind}" data-transition="{name}" data-source="{source}" data-target="{target}">'
            "<title>{title}</title>"
            '<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="{width}"{dash} '
            'marker-end="url(#{marker})"/>'
            '<polyline points="{points}" fill="none" stroke="transparent" stroke-width="10"/></g>',
            kind=kind, name=edge.name, source=edge.source, target=edge.target, title=title, points=points,
            stroke=stroke, width=width, marker=marker,
            dash=mark_safe(f' stroke-dasharray="{dash}"') if dash else "",
        ))
    for state in states():
        x, y = POSITIONS.get(state, (20, 20))
        kind = "current" if state == current else "visited" if state in visited_states else "idle"
        fill, stroke, width, colour = STYLE[kind]
        lines = _wrap(state_label[state])
        first_y = y + 4 - (len(lines) - 1) * 7.5
        text = format_html_join("", '<tspan x="{}" y="{}">{}</tspan>',
                                ((x, f"{first_y + 15 * i:g}", line) for i, line in enumerate(lines)))
        status = {"current": _("état actuel"), "visited": _("parcouru")}.get(kind, "")
        parts.append(format_html(
            '<g class="state state-{kind}" data-state="{state}"><title>{label}{status}</title>'
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}" stroke="{stroke}" '
            'stroke-width="{width}"{double}/>'
            '<text text-anchor="middle" font-size="12" fill="{colour}"{weight}>{text}</text></g>',
            kind=kind, state=state, label=state_label[state], status=f" — {status}" if status else "",
            x=x - HALF_W, y=y - HALF_H, w=NODE_W, h=NODE_H, rx=14 if state in FINAL else 6,
            fill=fill, stroke=stroke, width=width, colour=colour,
            double=mark_safe(' stroke-dasharray="0"') if state in FINAL else "",
            weight=mark_safe(' font-weight="700"') if kind == "current" else "", text=text,
        ))
    blocked_text = "; ".join(f"{labels.get(name, name)} ({', '.join(sorted(codes))})" for name, codes in blocked.items())
    description = _("Machine à états du dossier : %(states)d états, %(edges)d transitions. État actuel : %(current)s. "
                    "Parcours : %(path)s.") % {
        "states": len(states()), "edges": len(edges()), "current": state_label.get(current, current),
        "path": " → ".join(state_label.get(s, s) for s in path) or state_label.get(current, current)}
    if blocked_text:
        description += " " + _("Bloqué : %(what)s.") % {"what": blocked_text}
    markers = format_html_join("", (
        '<marker id="{}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" '
        'markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>'),
        ((style[3], style[0]) for style in EDGE_STYLE.values()))
    legend = _legend()
    return format_html(
        '<svg class="diagram" role="img" aria-labelledby="diagram-title diagram-desc" viewBox="0 0 {w} {h}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        '<title id="diagram-title">{title}</title><desc id="diagram-desc">{desc}</desc>'
        "<defs>{markers}</defs>{legend}{body}</svg>",
        w=WIDTH, h=HEIGHT, title=_("Diagramme des états du dossier"), desc=description, markers=markers,
        legend=legend, body=mark_safe("".join(parts)),
    )


def _legend() -> SafeString:
    items = [
        ("node", STYLE["current"], _("état actuel")),
        ("node", STYLE["visited"], _("parcouru")),
        ("edge", EDGE_STYLE["available"], _("possible depuis l'état actuel")),
        ("edge", EDGE_STYLE["blocked"], _("bloquée par une règle")),
        ("edge", EDGE_STYLE["visited"], _("transition effectuée")),
    ]
    rows = []
    for i, (kind, style, text) in enumerate(items):
        y = 330 + i * 20
        if kind == "node":
            fill, stroke, width, _colour = style
            mark = format_html('<rect x="20" y="{}" width="22" height="13" rx="3" fill="{}" stroke="{}" '
                               'stroke-width="{}"/>', y - 10, fill, stroke, width)
        else:
            stroke, width, dash, _marker = style
            mark = format_html('<line x1="20" y1="{}" x2="42" y2="{}" stroke="{}" stroke-width="{}"{}/>',
                               y - 4, y - 4, stroke, width,
                               mark_safe(f' stroke-dasharray="{dash}"') if dash else "")
        rows.append(format_html('{}<text x="50" y="{}" font-size="11.5" fill="#334155">{}</text>', mark, y, text))
    return format_html('<g class="legend" aria-hidden="true">{}</g>', mark_safe("".join(rows)))


__all__ = ["Edge", "POSITIONS", "ROUTES", "edges", "render", "states"]
