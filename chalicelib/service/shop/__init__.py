"""What parents browse and say: search, shop pages, announcements, reviews and consultations. (use
cases; docs/architecture.md is the map.)"""
