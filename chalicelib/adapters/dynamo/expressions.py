"""Builds DynamoDB update and condition expressions with generated placeholders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.dynamo.codec import to_attribute_values


@dataclass
class UpdateExpression:
    """Accumulates SET / REMOVE clauses and AND-ed conditions for one item."""

    _sets: list[str] = field(default_factory=list)
    _removes: list[str] = field(default_factory=list)
    _conditions: list[str] = field(default_factory=list)
    _names: dict[str, str] = field(default_factory=dict)
    _values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        placeholder = f"#a{len(self._names)}"
        for existing, value in self._names.items():
            if value == attribute:
                return existing
        self._names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    def set(self, attribute: str, value: Any) -> UpdateExpression:
        if value is None:
            return self.remove(attribute)
        self._sets.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def increment(self, attribute: str, delta: int) -> UpdateExpression:
        """A counter an item written before the counter existed lacks counts from 0."""
        name = self.name(attribute)
        self._sets.append(f"{name} = if_not_exists({name}, {self.value(0)}) + "
                          f"{self.value(delta)}")
        return self

    def remove(self, attribute: str) -> UpdateExpression:
        self._removes.append(self.name(attribute))
        return self

    def require_equal(self, attribute: str, value: Any) -> UpdateExpression:
        self._conditions.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def require_unchanged(self, attribute: str, value: Any) -> UpdateExpression:
        """Still `value` (a stored value); None, "" or 0 also match an absent attribute,
        which is how an item written before the attribute existed (or without it) stores
        it."""
        name = self.name(attribute)
        if value is None:
            self._conditions.append(f"attribute_not_exists({name})")
        elif value in ("", 0):
            self._conditions.append(
                f"(attribute_not_exists({name}) OR {name} = {self.value(value)})")
        else:
            self.require_equal(attribute, value)
        return self

    def require_absent_or_equal(self, attribute: str, value: Any) -> UpdateExpression:
        name = self.name(attribute)
        self._conditions.append(f"(attribute_not_exists({name}) OR {name} = {self.value(value)})")
        return self

    def require_zero(self, attribute: str) -> UpdateExpression:
        """0, or absent (a counter an item written before it existed lacks)."""
        return self.require_absent_or_equal(attribute, 0)

    def require_at_least(self, attribute: str, value: int) -> UpdateExpression:
        self._conditions.append(f"{self.name(attribute)} >= {self.value(value)}")
        return self

    def require_in(self, attribute: str, values: Iterable[Any]) -> UpdateExpression:
        placeholders = ", ".join(self.value(v) for v in values)
        self._conditions.append(f"{self.name(attribute)} IN ({placeholders})")
        return self

    def require_exists(self) -> UpdateExpression:
        self._conditions.append(f"attribute_exists({self.name('pk')})")
        return self

    def require(self, clause: str) -> UpdateExpression:
        """A condition written with placeholders from `name()` and `value()`."""
        self._conditions.append(f"({clause})")
        return self

    def as_update(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        clauses = []
        if self._sets:
            clauses.append("SET " + ", ".join(self._sets))
        if self._removes:
            clauses.append("REMOVE " + ", ".join(self._removes))
        request: dict[str, Any] = {
            "TableName": table,
            "Key": to_attribute_values(key),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": self._names,
        }
        if self._conditions:
            request["ConditionExpression"] = " AND ".join(self._conditions)
        if self._values:
            request["ExpressionAttributeValues"] = to_attribute_values(self._values)
        return request
