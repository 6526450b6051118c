"""A regulator reads an order's journal down to the entry, its hash chain verified on every
read (chalicelib/service/supervision/journals.py): a tampered entry, a removed one or one cut
off the end is reported with the first bad entry, never hidden."""

from __future__ import annotations

from typing import Any

from tests.support import flows
from tests.support.harness import Platform


def order_with_a_release(p: Platform) -> tuple[flows.Shop, flows.Family, dict[str, Any]]:
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)
    recorded = flows.record_lesson(p, shop, [order["order_id"]])
    flows.confirm(p, fam, recorded["consumptions"][0]["consumption_id"])
    p.settle_everything()
    return shop, fam, order


def journal(p: Platform, order_id: str, who: dict[str, str] | None = None) -> Any:
    read = p.get(f"/v1/regulator/orders/{order_id}/journal", who or flows.competent(p))
    assert read.status == 200, read.body
    return read.body


def entry_key(p: Platform, order_id: str, seq: int) -> dict[str, Any]:
    found = p.dynamodb.query(TableName=p.plane.journal_table,
                             KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": order_id}})["Items"]
    [item] = [i for i in found if int(i["seq"]["N"]) == seq]
    return {"pk": item["pk"], "sk": item["sk"]}


def test_an_orders_journal_is_read_entry_by_entry_with_its_chain_verified(
        platform: Platform) -> None:
    p = platform
    shop, _, order = order_with_a_release(p)
    read = journal(p, order["order_id"])
    assert (read["verified"], read["broken"]) == (True, None)
    assert [(e["seq"], e["phase"], e["amount_fen"]) for e in read["entries"]] == [
        (1, "single", order["amount_fen"]), (2, "pending", shop.price_per_lesson_fen),
        (3, "post", shop.price_per_lesson_fen)]
    assert read["entries"][0]["prev_hash"] == "0" * 64
    assert all(e["prev_hash"] == before["hash"]
               for before, e in zip(read["entries"], read["entries"][1:], strict=False))
    assert read["head_hash"] == read["entries"][-1]["hash"]


def test_a_tampered_entry_is_reported_with_the_first_bad_entry(platform: Platform) -> None:
    """Someone with table access makes a release smaller after the fact."""
    p = platform
    _, _, order = order_with_a_release(p)
    p.dynamodb.update_item(TableName=p.plane.journal_table, Key=entry_key(p, order["order_id"], 2),
                           UpdateExpression="SET amount_fen = :one",
                           ExpressionAttributeValues={":one": {"N": "1"}})
    read = journal(p, order["order_id"])
    assert (read["verified"], read["broken"]) == (False, {"seq": 2, "reason": "altered"})
    assert [e["amount_fen"] for e in read["entries"]][1] == 1, "shown as stored, not hidden"


def test_an_entry_removed_or_cut_off_the_end_is_reported_missing(platform: Platform) -> None:
    p = platform
    _, _, order = order_with_a_release(p)
    p.dynamodb.delete_item(TableName=p.plane.journal_table, Key=entry_key(p, order["order_id"], 3))
    read = journal(p, order["order_id"])
    assert (read["verified"], read["broken"]) == (False, {"seq": 3, "reason": "missing"})
    p.dynamodb.delete_item(TableName=p.plane.journal_table, Key=entry_key(p, order["order_id"], 1))
    read = journal(p, order["order_id"])
    assert (read["verified"], read["broken"]) == (False, {"seq": 1, "reason": "missing"})


def test_only_the_orders_regulators_read_its_journal(platform: Platform) -> None:
    p = platform
    shop, fam, order = order_with_a_release(p)
    path = f"/v1/regulator/orders/{order['order_id']}/journal"
    for reader in ({"region": "440100", "department": "culture"},
                   {"region": "440106", "department": "education"}):
        assert journal(p, order["order_id"], flows.regulator(p, sub="r", **reader))["verified"]
    for stranger in ({"region": "440105", "department": "culture"},
                     {"region": "440106", "department": "sports"}):
        refused = p.get(path, flows.regulator(p, sub="s", **stranger))
        assert (refused.status, refused.code) == (404, "order_not_found"), stranger
    assert p.get(path, shop.staff).status == 403
    assert p.get(path, fam.parent).status == 403
    missing = p.get("/v1/regulator/orders/ord_01J0000000000000000000NONE/journal",
                    flows.competent(p))
    assert (missing.status, missing.code) == (404, "order_not_found")
