"""Institutions: applying and review, profile and custodian accounts, staff, courses, freezes and
blacklisting, liquidation. (HTTP routes; docs/architecture.md is the map.)"""
