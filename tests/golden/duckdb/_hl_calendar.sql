-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: _hl_calendar, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW "analytics"."_hl_calendar" AS
SELECT
  CAST(b.first_date + INTERVAL (o.day_offset) DAY AS DATE) AS calendar_date
FROM (
  SELECT
    d0.n + d1.n * 10 + d2.n * 100 + d3.n * 1000 + d4.n * 10000 AS day_offset
  FROM (
    SELECT
      0 AS n
    UNION ALL
    SELECT
      1 AS n
    UNION ALL
    SELECT
      2 AS n
    UNION ALL
    SELECT
      3 AS n
    UNION ALL
    SELECT
      4 AS n
    UNION ALL
    SELECT
      5 AS n
    UNION ALL
    SELECT
      6 AS n
    UNION ALL
    SELECT
      7 AS n
    UNION ALL
    SELECT
      8 AS n
    UNION ALL
    SELECT
      9 AS n
  ) AS d0
  CROSS JOIN (
    SELECT
      0 AS n
    UNION ALL
    SELECT
      1 AS n
    UNION ALL
    SELECT
      2 AS n
    UNION ALL
    SELECT
      3 AS n
    UNION ALL
    SELECT
      4 AS n
    UNION ALL
    SELECT
      5 AS n
    UNION ALL
    SELECT
      6 AS n
    UNION ALL
    SELECT
      7 AS n
    UNION ALL
    SELECT
      8 AS n
    UNION ALL
    SELECT
      9 AS n
  ) AS d1
  CROSS JOIN (
    SELECT
      0 AS n
    UNION ALL
    SELECT
      1 AS n
    UNION ALL
    SELECT
      2 AS n
    UNION ALL
    SELECT
      3 AS n
    UNION ALL
    SELECT
      4 AS n
    UNION ALL
    SELECT
      5 AS n
    UNION ALL
    SELECT
      6 AS n
    UNION ALL
    SELECT
      7 AS n
    UNION ALL
    SELECT
      8 AS n
    UNION ALL
    SELECT
      9 AS n
  ) AS d2
  CROSS JOIN (
    SELECT
      0 AS n
    UNION ALL
    SELECT
      1 AS n
    UNION ALL
    SELECT
      2 AS n
    UNION ALL
    SELECT
      3 AS n
    UNION ALL
    SELECT
      4 AS n
    UNION ALL
    SELECT
      5 AS n
    UNION ALL
    SELECT
      6 AS n
    UNION ALL
    SELECT
      7 AS n
    UNION ALL
    SELECT
      8 AS n
    UNION ALL
    SELECT
      9 AS n
  ) AS d3
  CROSS JOIN (
    SELECT
      0 AS n
    UNION ALL
    SELECT
      1 AS n
    UNION ALL
    SELECT
      2 AS n
    UNION ALL
    SELECT
      3 AS n
    UNION ALL
    SELECT
      4 AS n
    UNION ALL
    SELECT
      5 AS n
    UNION ALL
    SELECT
      6 AS n
    UNION ALL
    SELECT
      7 AS n
    UNION ALL
    SELECT
      8 AS n
    UNION ALL
    SELECT
      9 AS n
  ) AS d4
) AS o
CROSS JOIN (
  SELECT
    *
  FROM "analytics"."_hl_bounds"
) AS b
WHERE
  o.day_offset <= DATE_DIFF('DAY', b.first_date, b.last_date)
