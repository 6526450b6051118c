"""Policy layers: the national default, then a province, a city and a county, each a list of
versions that take effect on a date.

A region's policy on a day is the national defaults (chalicelib/domain/policy.py) changed by
every version in force that day, layer by layer from the widest region to the narrowest, and
inside a layer in date order: a version names only what it changes; a field it names is
replaced whole (a price table, the vacations). Every combination a book can produce is
validated when the book is built, so a bad file stops a deploy instead of a purchase.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.policy import Policy

NATIONAL = ""
"""The national layer's region: the prefix of every region code."""
REGION_PREFIXES = (2, 4, 6)
"""A layer is a province (2 digits), a city (4) or a county (6)."""


@dataclass(frozen=True)
class PolicyVersion:
    effective_from: date
    source: str
    """The notice this version enacts."""
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class PolicyLayer:
    region: str
    name: str
    versions: tuple[PolicyVersion, ...]

    def in_force(self, day: date) -> tuple[PolicyVersion, ...]:
        return tuple(v for v in self.versions if v.effective_from <= day)


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy in force for a region on a day, with the versions it was made of."""

    region: str
    day: date
    policy: Policy
    versions: tuple[tuple[PolicyLayer, PolicyVersion], ...]
    next_change_on: date | None


@dataclass(frozen=True)
class PolicyBook:
    layers: Mapping[str, PolicyLayer]
    _cache: dict[tuple[Any, ...], Policy] = field(default_factory=dict, compare=False,
                                                  repr=False)

    @classmethod
    def from_files(cls, national: Mapping[str, Any],
                   regions: Iterable[Mapping[str, Any]] = ()) -> PolicyBook:
        """`national` is `{"versions": [...]}`; each of `regions` is a province file,
        `{"region": "44", "name": ..., "versions": [...], "regions": [<city or county>...]}`.
        A version is `{"effective_from": "2021-07-24", "source": "...", <changes>}`."""
        layers = {NATIONAL: _layer(NATIONAL, "全国", national.get("versions", ()))}
        for province in regions:
            for raw in (province, *province.get("regions", ())):
                layer = _layer(str(raw.get("region", "")), str(raw.get("name", "")),
                               raw.get("versions", ()))
                if layer.region in layers or len(layer.region) not in REGION_PREFIXES or (
                        not layer.region.isdigit()) or (
                        not layer.region.startswith(str(province.get("region")))):
                    raise ValueError(f"policy region {layer.region!r} is repeated, not 2, 4 "
                                     "or 6 digits, or outside its province")
                layers[layer.region] = layer
        book = cls(layers)
        book._validate_every_combination()
        return book

    def amended(self, region: str, version: PolicyVersion, name: str = "") -> PolicyBook:
        """This book with one more version of a region's layer (a new layer if it has none),
        validated as a loaded file is."""
        layer = self.layers.get(region, PolicyLayer(region, name, ()))
        versions = sorted((*layer.versions, version), key=lambda v: v.effective_from)
        book = PolicyBook({**self.layers, region: replace(layer, versions=tuple(versions))})
        book._validate_every_combination()
        return book

    def effective(self, region: str, day: date) -> EffectivePolicy:
        chain = self._chain(region)
        versions = tuple((layer, v) for layer in chain for v in layer.in_force(day))
        if not any(layer.region == NATIONAL for layer, _ in versions):
            raise ValueError(f"no national policy in force on {day}")
        later = [v.effective_from for layer in chain for v in layer.versions
                 if v.effective_from > day]
        return EffectivePolicy(region, day, self._policy(versions), versions,
                               min(later, default=None))

    def policy(self, region: str, day: date) -> Policy:
        return self.effective(region, day).policy

    def _chain(self, region: str) -> list[PolicyLayer]:
        prefixes = [NATIONAL, *(region[:n] for n in REGION_PREFIXES if len(region) >= n)]
        return [self.layers[p] for p in prefixes if p in self.layers]

    def _policy(self, versions: tuple[tuple[PolicyLayer, PolicyVersion], ...]) -> Policy:
        key = tuple((layer.region, v.effective_from) for layer, v in versions)
        if key not in self._cache:
            merged: dict[str, Any] = {}
            for _, version in versions:
                merged.update(version.changes)
            merged["effective_from"] = max(v.effective_from for _, v in versions)
            try:
                self._cache[key] = Policy.model_validate(merged)
            except ValidationError as invalid:
                where = ", ".join(f"{layer.region or 'national'} from {v.effective_from}"
                                  for layer, v in versions)
                raise ValueError(f"policy ({where}) is invalid: {invalid}") from invalid
        return self._cache[key]

    def _validate_every_combination(self) -> None:
        for region in self.layers:
            for day in sorted({v.effective_from for layer in self._chain(region)
                               for v in layer.versions}):
                if any(v.effective_from <= day for v in self.layers[NATIONAL].versions):
                    counties = self.effective(region, day).policy.counties
                    if any(not county.startswith(region[:2]) for county in counties):
                        raise ValueError(f"policy {region or 'national'}: counties outside "
                                         "its province")


def _layer(region: str, name: str, raw_versions: Iterable[Mapping[str, Any]]) -> PolicyLayer:
    versions = []
    for raw in raw_versions:
        changes = dict(raw)
        try:
            effective_from = date.fromisoformat(changes.pop("effective_from"))
            source = str(changes.pop("source"))
        except (KeyError, TypeError, ValueError) as missing:
            raise ValueError(f"policy {region or 'national'}: every version needs an "
                             "effective_from date and a source") from missing
        unknown = set(changes) - set(Policy.model_fields) - {"effective_from"}
        if unknown:
            raise ValueError(f"policy {region or 'national'} from {effective_from}: unknown "
                             f"settings {sorted(unknown)}")
        versions.append(PolicyVersion(effective_from, source, changes))
    if not versions and region == NATIONAL:
        raise ValueError("the national policy needs at least one version")
    dates = [v.effective_from for v in versions]
    if len(set(dates)) != len(dates):
        raise ValueError(f"policy {region or 'national'}: two versions take effect on one day")
    return PolicyLayer(region, name, tuple(sorted(versions, key=lambda v: v.effective_from)))
