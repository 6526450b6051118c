"""How a course is taught: offline or online. The policy sets its numbers per mode (standard
lesson minutes, price tiers); courses, timetables and the directory name it."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
