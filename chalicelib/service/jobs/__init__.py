"""Timed and queued work: the schedule's jobs and their sweeps, follow-up work on the queues, and
the bodies of queue messages. (use cases; docs/architecture.md is the map.)"""
