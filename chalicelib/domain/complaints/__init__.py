"""Complaints and cases: filing, routing to the competent department, the steps and deadlines of a
case, transfers, and the cases the money flows open. (pure rules; docs/architecture.md is the
map.)"""
