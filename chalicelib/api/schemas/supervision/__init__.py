"""The regulators' watch over the money: reconciliations, coverage, figures, alerts, audit."""
