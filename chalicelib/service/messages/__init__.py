"""The message center: the notices a change leaves in people's inboxes. (use cases;
docs/architecture.md is the map.)"""
