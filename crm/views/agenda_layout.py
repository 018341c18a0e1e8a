"""Lay occurrences out on an agenda: day columns with side-by-side lanes, and month cells.

Pure presentation over crm.occurrences.Occurrence; times are shown in the viewer's zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

MINUTES_PER_DAY = 24 * 60
# One color per person where people are told apart (colleagues over the agenda, the free/busy grid).
PERSON_COLORS = ("#d93025", "#188038", "#8430ce", "#e37400", "#007b83", "#b80672", "#3f51b5", "#795548")


@dataclass
class Block:
    """One occurrence's piece within one day column, positioned in minutes and lanes."""

    occurrence: object
    top: int  # minutes after midnight
    height: int  # minutes, at least a readable minimum
    lane: int = 0
    lanes: int = 1

    @property
    def style(self):
        width = 100 / self.lanes
        return (f"top:{self.top / MINUTES_PER_DAY * 100:.4f}%;height:{self.height / MINUTES_PER_DAY * 100:.4f}%;"
                f"left:{self.lane * width:.4f}%;width:{width:.4f}%;")


@dataclass
class DayColumn:
    day: date
    all_day: list = field(default_factory=list)
    blocks: list = field(default_factory=list)
    overlay: list = field(default_factory=list)  # colleagues' busy times, behind the blocks


@dataclass
class OverlayBlock:
    top: int
    height: int
    color: str
    title: str

    @property
    def style(self):
        return (f"top:{self.top / MINUTES_PER_DAY * 100:.4f}%;height:{self.height / MINUTES_PER_DAY * 100:.4f}%;"
                f"--c:{self.color};")


def add_overlay(columns, busy_by_color, zone):
    """Place colleagues' busy times ((color, label, start, end) each) in the day columns they meet."""
    by_day = {column.day: column for column in columns}
    for color, label, start, end in busy_by_color:
        for day, top, minutes in _pieces(start.astimezone(zone), end.astimezone(zone), by_day, zone):
            height = min(max(minutes, 10), MINUTES_PER_DAY - top)
            by_day[day].overlay.append(OverlayBlock(top, height, color, label))


def day_columns(occurrences, days, zone, minimum_minutes=20):
    """Return one DayColumn per day, with timed occurrences split at midnight and laned."""
    columns = {day: DayColumn(day) for day in days}
    for occurrence in occurrences:
        if occurrence.all_day:
            for day in _dates(occurrence.start, occurrence.end):
                if day in columns:
                    columns[day].all_day.append(occurrence)
            continue
        start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
        for day, top, minutes in _pieces(start, end, columns, zone):
            height = max(minutes, minimum_minutes)
            columns[day].blocks.append(Block(occurrence, top, min(height, MINUTES_PER_DAY - top)))
    for column in columns.values():
        _assign_lanes(column.blocks)
    return [columns[day] for day in days]


def _pieces(start, end, days, zone):
    """(day, minutes after its midnight, minutes long) of each of `days` that [start, end) meets, split at
    midnights: what an agenda's day column shows of it (a time of no length, on the day it is)."""
    for day in _dates(start.date(), end.date() + timedelta(days=1)):
        if day not in days:
            continue
        day_start = datetime.combine(day, time.min, zone)
        piece_start, piece_end = max(start, day_start), min(end, day_start + timedelta(days=1))
        if piece_end > piece_start or (start == end and start.date() == day):
            yield (day, int((piece_start - day_start).total_seconds() // 60),
                   int((piece_end - piece_start).total_seconds() // 60))


def month_weeks(occurrences, first_day, last_day, zone):
    """Return weeks (lists of (day, occurrences)) covering [first_day, last_day)."""
    by_day = {day: [] for day in _dates(first_day, last_day)}
    for occurrence in occurrences:
        if occurrence.all_day:
            span = _dates(occurrence.start, occurrence.end)
        else:
            start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
            last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
            span = _dates(start.date(), last + timedelta(days=1))
        for day in span:
            if day in by_day:
                by_day[day].append(occurrence)
    days = list(by_day.items())
    return [days[index:index + 7] for index in range(0, len(days), 7)]


def _assign_lanes(blocks):
    """Put overlapping blocks side by side: greedy lanes within each cluster of overlaps."""
    blocks.sort(key=lambda block: (block.top, -block.height))
    cluster, lane_ends, cluster_end = [], [], 0
    for block in blocks:
        if cluster and block.top >= cluster_end:
            _close(cluster, len(lane_ends))
            cluster, lane_ends, cluster_end = [], [], 0
        lane = next((index for index, end in enumerate(lane_ends) if end <= block.top), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(0)
        lane_ends[lane] = block.top + block.height
        block.lane = lane
        cluster.append(block)
        cluster_end = max(cluster_end, block.top + block.height)
    if cluster:
        _close(cluster, len(lane_ends))


def _close(cluster, lanes):
    for block in cluster:
        block.lanes = lanes


def _dates(first: date, last: date):
    """Return the dates [first, last)."""
    return [first + timedelta(days=offset) for offset in range((last - first).days)]
