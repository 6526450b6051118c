"""Request and response bodies of orders, their students and lessons, and the bank's notifications
(docs/architecture.md is the map)."""
