"""The state diagram: the whole machine from the FSM, the dossier's path, its state, the edges its rules block."""
import re
from xml.etree import ElementTree

from dossiers import diagram
from dossiers.models import Blocker, Dossier, State

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


def edges_of(root, kind=None):
    return [g for g in root.iter(f"{SVG}g") if "edge" in g.get("class", "").split()
            and (kind is None or f"edge-{kind}" in g.get("class").split())]


def states_of(root, kind=None):
    return [g for g in root.iter(f"{SVG}g") if "state" in g.get("class", "").split()
            and (kind is None or f"state-{kind}" in g.get("class").split())]


def test_the_diagram_draws_every_state_and_every_transition_of_the_machine():
    machine = {(t.name, str(t.source)) for t in Dossier._meta.get_field("state").get_all_transitions(Dossier)}
    root = parse(diagram.render(Dossier(state=State.DRAFT)))
    assert {g.get("data-state") for g in states_of(root)} == set(State.values)
    drawn = {(g.get("data-transition"), g.get("data-source")) for g in edges_of(root)}
    assert drawn == machine
    # confirm_cancellation has a computed target: both outcomes are drawn.
    assert {g.get("data-target") for g in edges_of(root) if g.get("data-transition") == "confirm_cancellation"} == {
        State.RECOVERY_ISSUED, State.CANCELLED}


def test_every_state_has_a_place_and_every_edge_a_hand_drawn_route():
    assert set(diagram.POSITIONS) == set(State.values)
    assert {(e.name, e.source, e.target) for e in diagram.edges()} == set(diagram.ROUTES)
    positions = list(diagram.POSITIONS.values())
    assert len(positions) == len(set(positions)), "two states share a place"


def test_the_diagram_is_an_accessible_image():
    root = parse(diagram.render(Dossier(state=State.DRAFT)))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "diagram-title diagram-desc"
    assert root.find(f"{SVG}title").text == "Diagramme des états du dossier"
    assert "15 états" in root.find(f"{SVG}desc").text


def test_the_dossiers_path_and_state_are_highlighted_and_blocked_edges_marked(dossier_at):
    dossier = dossier_at(State.DEPLOYED)
    history = list(dossier.history.order_by("seq"))
    blockers = list(Blocker.objects.filter(dossier=dossier))
    assert [b.rule for b in blockers] == ["va.document"]
    root = parse(diagram.render(dossier, history=history, blockers=blockers))
    assert [g.get("data-state") for g in states_of(root, "current")] == [State.DEPLOYED]
    assert {g.get("data-state") for g in states_of(root, "visited")} == {
        State.DRAFT, State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_VALIDATED, State.AVANCE_PAID}
    assert {(g.get("data-transition"), g.get("data-source")) for g in edges_of(root, "visited")} == {
        ("sign_bdc", "draft"), ("file_avance", "bdc_signed"), ("validate_avance", "avance_filed"),
        ("record_avance_payment", "avance_validated"), ("mark_deployed", "avance_paid")}
    [blocked] = edges_of(root, "blocked")
    assert blocked.get("data-transition") == "sign_va"
    # The transition goes by its label (the model's custom words).
    assert blocked.find(f"{SVG}title").text == "Signature de la VA : Déployé, VA attendue → VA signée — bloquée par va.document"
    assert {g.get("data-transition") for g in edges_of(root, "available")} == {"request_cancellation"}
    description = root.find(f"{SVG}desc").text
    assert "État actuel : Déployé, VA attendue." in description
    assert "Brouillon → BDC signé → Avance déposée" in description
    assert "Bloqué : Signature de la VA (va.document)." in description


def test_state_labels_fit_their_boxes():
    root = parse(diagram.render(Dossier(state=State.DRAFT)))
    for group in states_of(root):
        lines = [t.text for t in group.iter(f"{SVG}tspan")]
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 19 for line in lines), lines


def test_the_dossier_page_embeds_the_diagram(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    html = as_manager.get(f"/dossiers/{dossier.pk}/").content.decode()
    match = re.search(r"<svg class=\"diagram\".*?</svg>", html, re.DOTALL)
    assert match
    root = parse(match.group(0))
    [blocked] = edges_of(root, "blocked")
    assert blocked.get("data-transition") == "sign_bdc"
    assert "bdc.document" in blocked.find(f"{SVG}title").text


def test_the_drawing_is_remembered_per_input_and_follows_every_change(dossier_at, as_manager):
    """The SVG is drawn once per (state, path, blockers, language): the same inputs give the same drawing from the
    cache, and a change of any of them (a blocker lifted, a step taken) shows on the very next page."""
    dossier = dossier_at(State.DEPLOYED)
    history = list(dossier.history.order_by("seq"))
    blockers = list(Blocker.objects.filter(dossier=dossier))
    first = diagram.render(dossier, history=history, blockers=blockers)
    hits = diagram._draw.cache_info().hits
    assert diagram.render(dossier, history=history, blockers=blockers) == first
    assert diagram._draw.cache_info().hits == hits + 1
    # The blocker lifted: the same state and path, no blocked edge any more.
    unblocked = parse(diagram.render(dossier, history=history, blockers=[]))
    assert edges_of(unblocked, "blocked") == []
    assert {g.get("data-transition") for g in edges_of(unblocked, "available")} == {"sign_va", "request_cancellation"}
    # Another blocking rule on the same transition: its code shows.
    other = Blocker(dossier=dossier, transition="sign_va", rule="va.signer")
    [edge] = edges_of(parse(diagram.render(dossier, history=history, blockers=[*blockers, other])), "blocked")
    assert "va.document, va.signer" in edge.find(f"{SVG}title").text
    # Through the page: the blocker lifted shows on the very next request.
    url = f"/dossiers/{dossier.pk}/"
    assert 'class="edge edge-blocked" data-transition="sign_va"' in as_manager.get(url).content.decode()
    Blocker.objects.filter(dossier=dossier).delete()
    page = as_manager.get(url).content.decode()
    assert "edge-blocked" not in page
    assert 'class="edge edge-available" data-transition="sign_va"' in page
    # Another state: drawn as such.
    moved = parse(diagram.render(Dossier(state=State.VA_SIGNED), history=history, blockers=[]))
    assert [g.get("data-state") for g in states_of(moved, "current")] == [State.VA_SIGNED]
    assert {g.get("data-state") for g in states_of(moved, "visited")} >= {State.DEPLOYED}
