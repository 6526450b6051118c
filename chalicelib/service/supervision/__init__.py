"""The regulators' watch over the money: daily reconciliation with the bank, coverage, figures,
alerts, the audit log (docs/architecture.md is the map)."""
