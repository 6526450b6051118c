"""Domain dataclasses <-> DynamoDB attribute values.

Numbers are integers only (money is fen): a non-integral number read back is an error, never
a silent float. Datetimes are stored as ISO 8601 in UTC, dates as ISO dates, times of day as
HH:MM, enums by value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

T = TypeVar("T")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def from_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"non-integral number in storage: {value}")
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def encode(value: Any) -> Any:
    """A domain value as a plain storable value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass `cls` from stored attributes, ignoring key and index attributes. A
    None is not stored (`to_attribute_values`): a required field that may be None and is
    absent was None."""
    hints = _hints(cast(Any, cls))
    kwargs = {name: _decode_value(hints[name], data[name]) for name in hints if name in data}
    kwargs.update({name: None for name in _nullable_required(cast(Any, cls))
                   if name not in data})
    return cls(**kwargs)


@cache
def _nullable_required(cls: Any) -> tuple[str, ...]:
    hints = _hints(cls)
    return tuple(
        f.name for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        and type(None) in typing.get_args(hints[f.name])
    )


@cache
def _hints(cls: Any) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in typing.get_type_hints(cls).items() if k in names}


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode_value(inner[0], value)
    if origin in (list, tuple):
        (arg, *_) = typing.get_args(hint)
        decoded = [_decode_value(arg, v) for v in value]
        return tuple(decoded) if origin is tuple else decoded
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if issubclass(hint, datetime):
            return datetime.fromisoformat(value)
        if issubclass(hint, date):
            return date.fromisoformat(value)
        if issubclass(hint, time):
            return time.fromisoformat(value)
        if dataclasses.is_dataclass(hint):
            return decode(hint, value)
    return value
