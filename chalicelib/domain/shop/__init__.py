"""What parents browse and say: search, shop pages, announcements, reviews and consultations. (pure
rules; docs/architecture.md is the map.)"""
