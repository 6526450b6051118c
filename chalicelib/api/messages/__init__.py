"""The message center: the notices a change leaves in people's inboxes. (HTTP routes;
docs/architecture.md is the map.)"""
