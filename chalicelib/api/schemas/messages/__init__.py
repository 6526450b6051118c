"""Request and response bodies of the message center's inbox (docs/architecture.md is the map)."""
