-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_calendar, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_calendar AS
SELECT
  CAST(DATEADD(DAY, o.day_offset, b.first_date) AS DATE) AS calendar_date
FROM (
  SELECT
    d0.digit + d1.digit * 10 + d2.digit * 100 + d3.digit * 1000 + d4.digit * 10000 AS day_offset
  FROM (
    SELECT
      0 AS digit
    UNION ALL
    SELECT
      1 AS digit
    UNION ALL
    SELECT
      2 AS digit
    UNION ALL
    SELECT
      3 AS digit
    UNION ALL
    SELECT
      4 AS digit
    UNION ALL
    SELECT
      5 AS digit
    UNION ALL
    SELECT
      6 AS digit
    UNION ALL
    SELECT
      7 AS digit
    UNION ALL
    SELECT
      8 AS digit
    UNION ALL
    SELECT
      9 AS digit
  ) AS d0
  CROSS JOIN (
    SELECT
      0 AS digit
    UNION ALL
    SELECT
      1 AS digit
    UNION ALL
    SELECT
      2 AS digit
    UNION ALL
    SELECT
      3 AS digit
    UNION ALL
    SELECT
      4 AS digit
    UNION ALL
    SELECT
      5 AS digit
    UNION ALL
    SELECT
      6 AS digit
    UNION ALL
    SELECT
      7 AS digit
    UNION ALL
    SELECT
      8 AS digit
    UNION ALL
    SELECT
      9 AS digit
  ) AS d1
  CROSS JOIN (
    SELECT
      0 AS digit
    UNION ALL
    SELECT
      1 AS digit
    UNION ALL
    SELECT
      2 AS digit
    UNION ALL
    SELECT
      3 AS digit
    UNION ALL
    SELECT
      4 AS digit
    UNION ALL
    SELECT
      5 AS digit
    UNION ALL
    SELECT
      6 AS digit
    UNION ALL
    SELECT
      7 AS digit
    UNION ALL
    SELECT
      8 AS digit
    UNION ALL
    SELECT
      9 AS digit
  ) AS d2
  CROSS JOIN (
    SELECT
      0 AS digit
    UNION ALL
    SELECT
      1 AS digit
    UNION ALL
    SELECT
      2 AS digit
    UNION ALL
    SELECT
      3 AS digit
    UNION ALL
    SELECT
      4 AS digit
    UNION ALL
    SELECT
      5 AS digit
    UNION ALL
    SELECT
      6 AS digit
    UNION ALL
    SELECT
      7 AS digit
    UNION ALL
    SELECT
      8 AS digit
    UNION ALL
    SELECT
      9 AS digit
  ) AS d3
  CROSS JOIN (
    SELECT
      0 AS digit
    UNION ALL
    SELECT
      1 AS digit
    UNION ALL
    SELECT
      2 AS digit
    UNION ALL
    SELECT
      3 AS digit
    UNION ALL
    SELECT
      4 AS digit
    UNION ALL
    SELECT
      5 AS digit
    UNION ALL
    SELECT
      6 AS digit
    UNION ALL
    SELECT
      7 AS digit
    UNION ALL
    SELECT
      8 AS digit
    UNION ALL
    SELECT
      9 AS digit
  ) AS d4
) AS o
CROSS JOIN (
  SELECT
    *
  FROM _hl_bounds
) AS b
WHERE
  o.day_offset <= DATEDIFF(DAY, b.first_date, b.last_date)
