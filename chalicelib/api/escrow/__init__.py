"""Money held in the supervised accounts: orders and their payment, the children they are for,
lessons taught and their consumptions, the parent's confirmation (or silence), and each release
to the institution through the bank. (HTTP routes; docs/architecture.md is the map.)"""
