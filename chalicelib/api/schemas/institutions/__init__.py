"""Request and response bodies of institutions, their courses, staff and liquidation
(docs/architecture.md is the map)."""
