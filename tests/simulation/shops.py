"""The parents' side, over HTTP, each answer held against the model: a parent searches the
whitelist (by an institution's whole name, or every arts institution of the city) and must
find exactly the institutions the model says are listed (whitelisted, not frozen); a parent
asks an institution a question, the institution answers once, and the parent's list of
questions is what the model remembers."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.simulation.faults import Fault
from tests.simulation.model import Question, Violation
from tests.simulation.people import expect
from tests.simulation.world import World

SEARCH_LIMIT = 2  # small pages: the cursor is walked too


def browse(w: World, n: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    fam = w.pick(w.families, n)
    if variant % 2 and w.institutions:
        institution = w.pick(w.institutions, n)
        query = {"keyword": institution.name}
        wanted = {i.institution_id for i in w.institutions  # 学校1 is in 学校12's name too
                  if i.listed and institution.name in i.name}
    else:
        query = {"discipline": "arts", "region": "4401"}
        wanted = {i.institution_id for i in w.institutions if i.listed}
    got: set[str] = set()
    cursor = ""
    for page in range(len(w.institutions) + 2):
        paged = {**query, "limit": SEARCH_LIMIT, **({"cursor": cursor} if cursor else {})}
        reply = expect(w.http("GET", f"/v1/institutions?{urlencode(paged)}", fam.parent,
                              faults=faults if page == 0 else ()), {200})
        got |= {i["institution_id"] for i in reply.body["items"]}
        cursor = reply.body["next_cursor"] or ""
        if not cursor:
            break
    if got != wanted:
        raise Violation(f"searching {query} found {sorted(got)}, the whitelist parents may buy "
                        f"from holds {sorted(wanted)}")
    return f"searching {query}: {len(got)} found"


def consult(w: World, n: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    """A parent asks (one time in three), or the institution answers the oldest open
    question (its retry answers the same; another answer later is refused)."""
    open_ones = [q for q in w.consultations.values() if not q.answer]
    if variant % 3 == 0 or not open_ones:
        return _ask(w, n, faults)
    question = open_ones[0]
    staff = next(i.staff for i in w.institutions if i.institution_id == question.institution_id)
    path = f"/v1/consultations/{question.consultation_id}/answer"
    text = f"回复{variant}"
    answered = expect(w.http("POST", path, staff, {"text": text}, key=w.new_key(),
                             faults=faults), {200})
    if (answered.body["status"], answered.body["answer"]) != ("answered", text):
        raise Violation(f"{question.consultation_id} answered as {answered.body}")
    question.answer = text
    expect(w.http("POST", path, staff, {"text": text + "改"}, key=w.new_key()), {409},
           {"consultation_already_answered"})
    _hold_the_list(w, question.family)
    return f"{question.consultation_id} answered"


def _ask(w: World, n: int, faults: tuple[Fault, ...]) -> str:
    fam, institution = w.pick(w.families, n), w.pick(w.institutions, n)
    if institution is None:
        return "no institution to ask"
    reply = w.http("POST", f"/v1/institutions/{institution.institution_id}/consultations",
                   fam.parent, {"question": "还有名额吗？"}, key=w.new_key(), faults=faults)
    if institution.status != "whitelisted":
        expect(reply, {404}, {"institution_not_found"})
        return f"asking {institution.institution_id}, not whitelisted: refused"
    consultation_id = expect(reply, {201}).body["consultation_id"]
    w.consultations[consultation_id] = Question(
        consultation_id, institution.institution_id, w.families.index(fam))
    _hold_the_list(w, w.families.index(fam))
    return f"{consultation_id} asked of {institution.institution_id}"


def _hold_the_list(w: World, family: int) -> None:
    """The parent's questions, every page, are the model's: none lost, none doubled, each
    answer as given."""
    parent = w.families[family].parent
    listed: dict[str, str] = {}
    cursor = ""
    while True:
        query = urlencode({"limit": 5, **({"cursor": cursor} if cursor else {})})
        reply = expect(w.http("GET", f"/v1/consultations?{query}", parent), {200})
        for item in reply.body["items"]:
            if item["consultation_id"] in listed:
                raise Violation(f"{item['consultation_id']} listed twice")
            listed[item["consultation_id"]] = item["answer"]
        cursor = reply.body["next_cursor"] or ""
        if not cursor:
            break
    wanted = {q.consultation_id: q.answer for q in w.consultations.values()
              if q.family == family}
    if listed != wanted:
        raise Violation(f"family {family} lists consultations {listed}, the model {wanted}")
