"""What parents read of the shops: the directory they search, announcements and
consultations; and who holds a credit code, a name or a bank account (docs/data-model.md,
patterns 68-75, 77)."""

from __future__ import annotations

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.reads import ItemReads
from chalicelib.domain.escrow.bank import AccountHolder
from chalicelib.domain.institutions.catalog import Institution
from chalicelib.domain.shop.directory import Listed
from chalicelib.domain.shop.shop import Announcement, Consultation
from chalicelib.service.ports import Page


class ShopReads(ItemReads):
    def directory(self, facet: str, region_prefix: str, limit: int, cursor: str | None
                  ) -> Page[Listed]:
        """The institutions one directory partition lists under a region prefix."""
        return self._page(Listed, None, keys.directory_partition(facet), region_prefix, limit,
                          cursor)

    def credit_code_holder(self, uscc: str) -> str | None:
        item = self._raw(self.tables.platform, keys.credit_code_key(uscc))
        return None if item is None else str(item["institution_id"])

    def bank_account_holder(self, account: str) -> AccountHolder | None:
        item = self._raw(self.tables.platform, keys.bank_account_key(account))
        if item is None:
            return None
        return AccountHolder(account, str(item["institution_id"]), str(item["uscc"]))

    def name_holder(self, name_key: str) -> str | None:
        item = self._raw(self.tables.platform, keys.institution_name_key(name_key))
        return None if item is None else str(item["institution_id"])

    def institutions_named(self, institution_ids: list[str]) -> list[Institution]:
        return self._many(Institution, [keys.key("institution", i) for i in institution_ids])

    def announcement(self, institution_id: str, announcement_id: str) -> Announcement | None:
        return self._get(Announcement, keys.shop_post_key(institution_id, announcement_id))

    def announcements_of(self, institution_id: str, limit: int, cursor: str | None
                         ) -> Page[Announcement]:
        return self._page(Announcement, None, institution_id, keys.ANNOUNCEMENT_PREFIX, limit,
                          cursor, newest_first=True)

    def consultation(self, consultation_id: str) -> Consultation | None:
        return self._get(Consultation, keys.key("consultation", consultation_id))

    def consultations_of_parent(self, parent_sub: str, limit: int, cursor: str | None
                                ) -> Page[Consultation]:
        return self._page(Consultation, "gsi1", keys.parent_partition(parent_sub),
                          "consultation#", limit, cursor, newest_first=True)

    def consultations_of_institution(self, institution_id: str, status: str, limit: int,
                                     cursor: str | None) -> Page[Consultation]:
        prefix = f"consultation#{status}#" if status else "consultation#"
        return self._page(Consultation, "gsi2", keys.institution_partition(institution_id),
                          prefix, limit, cursor, newest_first=True)
