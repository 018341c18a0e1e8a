"""What an agenda shows: occurrences of actions, with generated ones for recurring series."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from crm.models import Action


@dataclass(frozen=True)
class Occurrence:
    """One appearance of an action in time.

    `action` is the row it comes from: a single action, an override (a moved or edited occurrence),
    or the series itself for a generated occurrence. `start`/`end` are aware datetimes in the
    action's zone, or dates (end exclusive) for all-day actions. `recurrence_id` is the key of the
    occurrence within its series, empty for a single action.
    """

    action: Action
    start: date | datetime
    end: date | datetime
    recurrence_id: str = ""

    @property
    def all_day(self):
        return not isinstance(self.start, datetime)

    @property
    def is_generated(self):
        """Tell whether this occurrence exists only as part of its series' rule."""
        return bool(self.recurrence_id) and self.action.is_series

    @property
    def series_id(self):
        return self.action.pk if self.action.is_series else self.action.series_id

    def sort_key(self, zone):
        """Order by start in the viewer's zone, all-day items first on their day."""
        if self.all_day:
            return datetime.combine(self.start, time.min, zone).astimezone(UTC), 0, self.action.pk
        return self.start.astimezone(UTC), 1, self.action.pk
