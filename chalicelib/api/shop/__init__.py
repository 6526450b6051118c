"""What parents browse and say: search, shop pages, announcements, reviews and consultations. (HTTP
routes; docs/architecture.md is the map.)"""
