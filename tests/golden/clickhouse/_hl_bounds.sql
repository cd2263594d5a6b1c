-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: _hl_bounds, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_bounds AS
SELECT
  MIN(
    CASE
      WHEN e._hl_timestamp <= x.earliest + INTERVAL '3' DAY
      THEN CAST(toTimeZone(toDateTime64(e._hl_timestamp, 6, 'UTC'), 'Europe/Berlin') AS Nullable(Date32))
    END
  ) AS first_date,
  MAX(
    CASE
      WHEN e._hl_timestamp >= x.latest - INTERVAL '3' DAY
      THEN CAST(toTimeZone(toDateTime64(e._hl_timestamp, 6, 'UTC'), 'Europe/Berlin') AS Nullable(Date32))
    END
  ) AS last_date
FROM analytics._hl_events AS e
CROSS JOIN (
  SELECT
    MIN(_hl_timestamp) AS earliest,
    MAX(_hl_timestamp) AS latest
  FROM analytics._hl_events
) AS x
WHERE
  e._hl_timestamp <= x.earliest + INTERVAL '3' DAY
  OR e._hl_timestamp >= x.latest - INTERVAL '3' DAY
