"""The parents' side: searching the whitelist (region, discipline, mode, keyword), a shop's
page, its announcements, and consultations between a parent and an institution."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.support import flows
from tests.support.harness import Platform, Reply


def search(p: Platform, who: dict[str, str], **query: Any) -> Reply:
    return p.get(f"/v1/institutions?{urlencode(query)}", who)


def found(p: Platform, who: dict[str, str], **query: Any) -> list[str]:
    """Every institution a search finds, page by page."""
    names: list[str] = []
    cursor = None
    while True:
        reply = search(p, who, **query, **({"cursor": cursor} if cursor else {}))
        assert reply.status == 200, reply.body
        names += [i["name"] for i in reply.body["items"]]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return sorted(names)


def test_parents_search_the_whitelist_by_region_discipline_mode_and_keyword(
        platform: Platform) -> None:
    p = platform
    star, star_staff, _ = flows.whitelisted(p, name="小星星美术培训学校")
    flows.whitelisted(p, "440305", name="飞跃篮球俱乐部", discipline="sports")
    flows.whitelisted(p, name="Star Piano 在线钢琴", mode="online")
    applicant = p.token("applicant-dance", "institution")
    pending = p.post("/v1/institutions", applicant, flows.application(name="小星星舞蹈学校"))
    assert pending.status == 201, pending.body
    parent = p.token("parent-searching", "parent")

    assert found(p, parent, keyword="小星星") == ["小星星美术培训学校"]  # not the application
    assert found(p, parent, keyword="星美术") == ["小星星美术培训学校"]
    assert found(p, parent, keyword="篮球", region="4403") == ["飞跃篮球俱乐部"]
    assert found(p, parent, keyword="篮球", region="4401") == []
    assert found(p, parent, keyword="ＳＴＡＲ ｐｉａｎｏ") == ["Star Piano 在线钢琴"]  # full width
    assert found(p, parent, keyword="美术学校") == []  # every pair is there, not the words
    assert found(p, parent, discipline="arts") == ["Star Piano 在线钢琴", "小星星美术培训学校"]
    assert found(p, parent, discipline="arts", mode="online") == ["Star Piano 在线钢琴"]
    assert found(p, parent, mode="offline", region="440106") == ["小星星美术培训学校"]
    assert found(p, parent, discipline="arts", limit=1) == [  # page by page
        "Star Piano 在线钢琴", "小星星美术培训学校"]

    short = search(p, parent, keyword="星")
    assert (short.status, short.code) == (400, "keyword_too_short")
    punctuation = search(p, parent, keyword="星 !")
    assert (punctuation.status, punctuation.code) == (400, "keyword_too_short")
    other_status = search(p, flows.regulator(p), status="pending_review", keyword="小星星")
    assert (other_status.status, other_status.code) == (400, "search_whitelist_only")
    bad_mode = search(p, parent, mode="by_post")
    assert bad_mode.status == 400, bad_mode.body

    froze = p.post(f"/v1/regulator/institutions/{star['institution_id']}/freeze",
                   flows.competent(p), {"reason": "资金异常"})
    assert froze.status == 200, froze.body
    assert found(p, parent, keyword="小星星") == []  # frozen: out of the whitelist parents see
    thawed = p.post(f"/v1/regulator/institutions/{star['institution_id']}/unfreeze",
                    flows.competent(p), {"reason": "已整改"})
    assert thawed.status == 200, thawed.body
    assert found(p, parent, keyword="小星星") == ["小星星美术培训学校"]

    renamed = p.post(f"/v1/institutions/{star['institution_id']}/profile", star_staff,
                     {"name": "大熊猫奥数英语培训"})  # a name no one reviewed: back to review
    assert (renamed.status, renamed.body["status"]) == (200, "pending_review"), renamed.body
    assert found(p, parent, keyword="熊猫") == found(p, parent, keyword="小星星") == []
    approved = p.post(f"/v1/regulator/institutions/{star['institution_id']}/approve",
                      flows.competent(p), {})
    assert approved.body["status"] == "whitelisted", approved.body
    assert found(p, parent, keyword="小星星") == []
    assert found(p, parent, keyword="熊猫") == ["大熊猫奥数英语培训"]

    long_name = ("广州市天河区启明星文化艺术培训中心有限公司附属少儿美术书法舞蹈音乐综合素质拓展"
                 "教育管理中心少儿钢琴部第二分部东校区")
    flows.whitelisted(p, name=long_name)
    assert found(p, parent, keyword="舞蹈音乐") == [long_name]  # within the first 49 characters
    assert found(p, parent, keyword="东校区") == []  # past them: documented (docs/api.md)
    common = [flows.whitelisted(p, name=f"示例培训学校分校{n}")[0]["name"] for n in range(3)]
    one_page = search(p, parent, keyword=common[-1], limit=1)  # the pair 示例 is in many
    assert [i["name"] for i in one_page.body["items"]] == [common[-1]], one_page.body

    banned = p.post(f"/v1/regulator/institutions/{star['institution_id']}/blacklist",
                    flows.competent(p), {"reason": "虚假宣传"})
    assert banned.status == 200, banned.body
    assert found(p, parent, keyword="熊猫") == []


def test_a_shop_shows_its_profile_rating_courses_on_sale_and_latest_announcements(
        platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    parent = p.token("parent-browsing", "parent")
    page = p.get(f"/v1/shops/{shop.institution_id}", parent)
    assert page.status == 200, page.body
    assert page.body["institution"]["institution_id"] == shop.institution_id
    assert page.body["rating"] == {"average": None, "count": 0}
    assert [c["course_id"] for c in page.body["courses"]] == [shop.course_id]
    assert page.body["announcements"] == []

    path = f"/v1/institutions/{shop.institution_id}/announcements"
    posted = [p.post(path, shop.staff, {"title": f"通知{n}", "text": f"第{n}条"},
                     key=f"announcement-{n}-0000") for n in range(4)]  # ids sort by when
    assert [r.status for r in posted] == [201] * 4, posted[0].body
    again = p.post(path, shop.staff, {"title": "通知0", "text": "第0条"},
                   key="announcement-0-0000")
    assert again.body["announcement_id"] == posted[0].body["announcement_id"]
    latest = p.get(f"/v1/shops/{shop.institution_id}", parent).body["announcements"]
    assert [a["title"] for a in latest] == ["通知3", "通知2", "通知1"]
    first = p.get(f"{path}?limit=2", parent)
    rest = p.get(f"{path}?limit=2&cursor={first.body['next_cursor']}", parent)
    assert [a["title"] for a in first.body["items"] + rest.body["items"]] == [
        "通知3", "通知2", "通知1", "通知0"]

    other = flows.open_shop(p)
    foreign = p.post(path, other.staff, {"title": "冒名", "text": "不是本店"})
    assert (foreign.status, foreign.code) == (403, "not_your_institution")
    by_parent = p.post(path, parent, {"title": "家长", "text": "不能发公告"})
    assert by_parent.status == 403, by_parent.body
    empty = p.post(path, shop.staff, {"title": "", "text": "无标题"})
    assert empty.status == 400, empty.body

    off = p.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff, None)
    assert off.status == 200, off.body
    assert p.get(f"/v1/shops/{shop.institution_id}", parent).body["courses"] == []
    on = p.post(f"/v1/courses/{shop.course_id}/on-sale", shop.staff, None)
    assert on.status == 200, on.body
    p.post(f"/v1/regulator/institutions/{shop.institution_id}/freeze", flows.competent(p),
           {"reason": "资金异常"})
    frozen = p.get(f"/v1/shops/{shop.institution_id}", parent).body
    assert (frozen["institution"]["frozen"], frozen["courses"]) == (True, [])

    applicant = p.token("applicant-hidden", "institution")
    applied = p.post("/v1/institutions", applicant, flows.application())
    hidden = p.get(f"/v1/shops/{applied.body['institution_id']}", parent)
    assert (hidden.status, hidden.code) == (404, "institution_not_found")


def consultations(p: Platform, who: dict[str, str], status: str = "") -> list[dict[str, Any]]:
    reply = p.get(f"/v1/consultations?{urlencode({'status': status})}", who)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def inbox_events(p: Platform, who: dict[str, str]) -> list[tuple[str, str]]:
    return [(n["event"], n["subject_id"]) for n in p.get("/v1/notifications", who).body["items"]]


def test_a_parent_asks_and_the_institution_answers_once_each_told_in_their_inbox(
        platform: Platform) -> None:
    p = platform
    shop, other = flows.open_shop(p), flows.open_shop(p)
    fam, stranger = flows.family(p), flows.family(p)
    path = f"/v1/institutions/{shop.institution_id}/consultations"
    asked = p.post(path, fam.parent, {"question": "周六上午的班还有名额吗？"},
                   key="ask-question-0001")
    assert asked.status == 201, asked.body
    consultation_id = asked.body["consultation_id"]
    assert p.post(path, fam.parent, {"question": "周六上午的班还有名额吗？"},
                  key="ask-question-0001").body["consultation_id"] == consultation_id
    later = p.post(path, fam.parent, {"question": "可以试听吗？"})
    assert later.status == 201, later.body
    by_staff = p.post(path, shop.staff, {"question": "自问自答"})
    assert (by_staff.status, by_staff.code) == (403, "role_not_allowed")

    assert [c["question"] for c in consultations(p, shop.staff, "asked")] == [
        "可以试听吗？", "周六上午的班还有名额吗？"]
    assert consultations(p, other.staff) == []
    assert ("consultation_asked", consultation_id) in inbox_events(p, shop.staff)

    answer_path = f"/v1/consultations/{consultation_id}/answer"
    foreign = p.post(answer_path, other.staff, {"text": "我们有名额"})
    assert (foreign.status, foreign.code) == (404, "consultation_not_found")
    answered = p.post(answer_path, shop.staff, {"text": "还有两个名额"})
    assert (answered.status, answered.body["status"]) == (200, "answered"), answered.body
    same = p.post(answer_path, shop.staff, {"text": "还有两个名额"})
    assert (same.status, same.body["answered_at"]) == (200, answered.body["answered_at"])
    changed = p.post(answer_path, shop.staff, {"text": "没有名额了"})
    assert (changed.status, changed.code) == (409, "consultation_already_answered")
    assert ("consultation_answered", consultation_id) in inbox_events(p, fam.parent)

    mine = consultations(p, fam.parent)
    assert [(c["question"], c["answer"]) for c in mine] == [
        ("可以试听吗？", ""), ("周六上午的班还有名额吗？", "还有两个名额")]
    assert [c["consultation_id"] for c in consultations(p, fam.parent, "answered")] == [
        consultation_id]
    assert consultations(p, stranger.parent) == []
    hidden = p.get(f"/v1/consultations/{consultation_id}", stranger.parent)
    assert (hidden.status, hidden.code) == (404, "consultation_not_found")
    assert p.get(f"/v1/consultations/{consultation_id}", shop.staff).status == 200
    malformed = p.get("/v1/consultations/csl_nope", fam.parent)
    assert (malformed.status, malformed.code) == (404, "consultation_not_found")

    applicant = p.token("applicant-unlisted", "institution")
    applied = p.post("/v1/institutions", applicant, flows.application())
    unlisted = p.post(f"/v1/institutions/{applied.body['institution_id']}/consultations",
                      fam.parent, {"question": "能报名吗？"})
    assert (unlisted.status, unlisted.code) == (404, "institution_not_found")


def test_one_whitelisted_before_the_directory_is_listed_whole_at_its_next_decision(
        platform: Platform) -> None:
    p = platform
    applied, staff, _ = flows.whitelisted(p, name="老字号书法学校")
    institution_id, table = applied["institution_id"], p.plane.platform_table
    for item in _directory_items(p, institution_id):  # as if whitelisted before the directory
        p.dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    p.dynamodb.update_item(TableName=table, Key={"pk": {"S": institution_id},
                                                 "sk": {"S": "#institution"}},
                           UpdateExpression="REMOVE #indexed",
                           ExpressionAttributeNames={"#indexed": "indexed"})
    parent = p.token("parent-legacy", "parent")
    assert found(p, parent, discipline="arts") == []

    renamed = p.post(f"/v1/institutions/{institution_id}/profile", staff, {"name": "百年书画院"})
    assert renamed.body["status"] == "pending_review", renamed.body
    p.post(f"/v1/regulator/institutions/{institution_id}/approve", flows.competent(p), {})
    assert found(p, parent, discipline="arts") == found(p, parent, keyword="书画") == [
        "百年书画院"]
    stored = p.dynamodb.get_item(TableName=table, Key={"pk": {"S": institution_id},
                                                       "sk": {"S": "#institution"}})["Item"]
    indexed = {value["S"] for value in stored["indexed"]["L"]}
    assert {i["pk"]["S"].removeprefix("dir#") for i in _directory_items(p, institution_id)} == (
        indexed)  # every entry is one the institution names: nothing stale left behind


def _directory_items(p: Platform, institution_id: str) -> list[dict[str, Any]]:
    """The directory entries naming the institution (a test's small table: scanned)."""
    items = p.dynamodb.scan(TableName=p.plane.platform_table)["Items"]
    return [i for i in items if i["pk"]["S"].startswith("dir#")
            and i["sk"]["S"].endswith(f"#{institution_id}")]
