"""Institutions: applying and review, profile and custodian accounts, staff, courses, freezes and
blacklisting, liquidation. (use cases; docs/architecture.md is the map.)"""
