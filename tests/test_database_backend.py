"""The PostgreSQL backend (config.postgresql): timestamps read as Django's own backend reads them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from config.postgresql.base import ISOTimestamptzLoader
from tests.conftest import require

EDGES = ["2026-12-01 08:00:00+00", "2026-12-01 08:00:00.5+00", "2026-12-01 08:00:00.000001+01",
         "2026-03-29 02:30:00 Europe/Paris", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00",
         "1890-01-01 00:00:00 Europe/Paris", "2026-10-25 02:30:00-14:00"]


def read(texts, cursor):
    cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(texts)), texts)
    return list(cursor.fetchone())


@pytest.mark.django_db
def test_timestamps_read_as_django_reads_them_and_outliers_as_psycopg_does():
    require(connection.vendor == "postgresql", "DATABASE_URL names no PostgreSQL: its backend's test skipped")
    with connection.cursor() as ours, connection.cursor() as djangos:
        register_tzloader(connection.timezone, djangos.cursor)  # Django's own loader, on this cursor only
        assert issubclass(ours.cursor.adapters.get_loader(1184, 0), ISOTimestamptzLoader)  # 1184: timestamptz
        assert not issubclass(djangos.cursor.adapters.get_loader(1184, 0), ISOTimestamptzLoader)
        found, expected = read(EDGES, ours), read(EDGES, djangos)
        assert found == expected
        assert [moment.tzinfo for moment in found] == [UTC] * len(EDGES)
        assert [moment.utcoffset() for moment in found] == [timedelta(0)] * len(EDGES)
        assert found[2] == datetime(2026, 12, 1, 7, 0, 0, 1, UTC)
        ours.execute("SET TIME ZONE 'America/St_Johns'")  # PostgreSQL then writes offsets such as -03:30
        try:
            inland = [index for index, text in enumerate(EDGES) if not text.startswith("0001")]  # no year 0 there
            assert read([EDGES[index] for index in inland], ours) == [expected[index] for index in inland]
        finally:
            ours.execute("SET TIME ZONE 'UTC'")
        for cursor in (ours, djangos):  # beyond what Python holds: the same error both ways
            with pytest.raises(DataError):
                read(["0044-03-15 12:00:00+00 BC"], cursor)
