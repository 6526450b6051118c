"""Request and response bodies of complaints and cases (docs/architecture.md is the map)."""
