"""Each shortcut of tests/support/fast_moto.py answers what moto itself answers."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto.core.serialize import BaseJSONSerializer, get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodb.models.table import Table

from tests.support import fast_moto

REGION = "cn-north-1"
PLAIN: dict[str, Any] = {
    "pk": {"S": "ord_1"}, "sk": {"S": "#order"}, "empty": {"S": ""},
    "paid_fen": {"N": "12000"}, "frozen": {"BOOL": False}, "gone": {"NULL": True},
    "tags": {"SS": ["a", "b"]}, "counts": {"NS": ["1", "2"]},
    "lessons": {"L": [{"M": {"at": {"S": "2026-03-02"}, "fen": {"N": "300"}}}, {"L": []}]},
    "policy": {"M": {"window": {"M": {"hours": {"N": "72"}}}, "none": {"M": {}}}},
}


def serialized(operation: str, result: dict[str, Any]) -> Any:
    model = get_service_model("dynamodb")
    serializer = get_serializer_class("dynamodb", "json")(model.operation_model(operation))
    return json.loads(serializer.serialize(result)["body"])


@pytest.mark.parametrize("item", [
    PLAIN,
    {**PLAIN, "receipt": {"B": "c2lnbmVk"}},  # binary: moto's own path
    {**PLAIN, "nested": {"M": {"receipts": {"BS": ["YQ==", "Yg=="]}}}},
], ids=["plain", "binary", "binary_inside_a_map"])
def test_attribute_values_are_written_as_moto_writes_them(
    monkeypatch: pytest.MonkeyPatch, item: dict[str, Any]
) -> None:
    fast_moto.speed_up()
    results = {"GetItem": {"Item": item},
               "Scan": {"Items": [item, PLAIN], "Count": 2, "ScannedCount": 2}}
    fast = {operation: serialized(operation, result) for operation, result in results.items()}
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure",
                        BaseJSONSerializer._serialize_type_structure.__wrapped__)
    assert fast == {operation: serialized(operation, result)
                    for operation, result in results.items()}


def test_only_values_without_binary_take_the_shortcut() -> None:
    assert fast_moto.plain(PLAIN["lessons"]) and fast_moto.plain(PLAIN["policy"])
    assert not fast_moto.plain({"B": "YQ=="})
    assert not fast_moto.plain({"L": [{"S": "a"}, {"BS": ["YQ=="]}]})
    assert not fast_moto.plain({"S": "a", "N": "1"})  # two tags: moto decides
    assert not fast_moto.plain({"N": 1})  # not the wire's string


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was() -> None:
    with fast_moto.mock():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        _table(dynamodb)
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"},
                                                "fen": {"N": "100"}})
        before = dynamodb.scan(TableName="t")["Items"]
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=[
                {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                            "UpdateExpression": "SET fen = :f",
                            "ExpressionAttributeValues": {":f": {"N": "0"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}},
                         "ConditionExpression": "attribute_exists(pk)"}},
            ])
        assert dynamodb.scan(TableName="t")["Items"] == before


def test_a_query_returns_string_keys_in_motos_order() -> None:
    keys = ["b", "B", "a#2", "a#10", "é", "z", "", "0"]
    with fast_moto.mock():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        _table(dynamodb)
        for sk in filter(None, keys):
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": sk}})

        def listed() -> list[str]:
            return [i["sk"]["S"] for i in dynamodb.query(
                TableName="t", KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "p"}})["Items"]]

        fast = listed()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Table, "all_items", Table.all_items.__wrapped__)
            assert fast == listed() == sorted(filter(None, keys))
