-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: spark, view: _hl_bounds, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_bounds AS
SELECT
  MIN(
    CASE
      WHEN e._hl_timestamp <= x.earliest + INTERVAL '3' DAY
      THEN CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', CAST(e._hl_timestamp AS TIMESTAMP_NTZ)) AS DATE)
    END
  ) AS first_date,
  MAX(
    CASE
      WHEN e._hl_timestamp >= x.latest - INTERVAL '3' DAY
      THEN CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', CAST(e._hl_timestamp AS TIMESTAMP_NTZ)) AS DATE)
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
