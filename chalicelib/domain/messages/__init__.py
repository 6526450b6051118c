"""The message center: the notices a change leaves in people's inboxes. (pure rules;
docs/architecture.md is the map.)"""
