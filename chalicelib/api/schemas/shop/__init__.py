"""Request and response bodies of shop pages, announcements, consultations and reviews
(docs/architecture.md is the map)."""
