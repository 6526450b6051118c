"""The regulators' watch over the money: the bank's statements reconciled with the ledger,
coverage of every unconsumed fen, the figures, the alerts, the audit log. (pure rules;
docs/architecture.md is the map.)"""
