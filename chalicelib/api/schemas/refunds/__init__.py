"""Request and response bodies of refund requests (docs/architecture.md is the map)."""
