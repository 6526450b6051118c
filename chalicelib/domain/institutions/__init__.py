"""Institutions: applying and review, profile and custodian accounts, staff, courses, freezes and
blacklisting, liquidation. (pure rules; docs/architecture.md is the map.)"""
