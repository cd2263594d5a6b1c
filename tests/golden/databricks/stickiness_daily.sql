-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: databricks, view: stickiness_daily, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.stickiness_daily AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date,
  o.dau,
  o.wau,
  o.mau,
  o.dau_mau,
  o.dau_wau,
  o.wau_mau,
  o.is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    k.activity_date,
    k.dau,
    k.wau,
    k.mau,
    CASE WHEN k.mau >= 1 THEN CAST(k.dau AS DOUBLE) / CAST(k.mau AS DOUBLE) END AS dau_mau,
    CASE WHEN k.wau >= 1 THEN CAST(k.dau AS DOUBLE) / CAST(k.wau AS DOUBLE) END AS dau_wau,
    CASE WHEN k.mau >= 1 THEN CAST(k.wau AS DOUBLE) / CAST(k.mau AS DOUBLE) END AS wau_mau,
    CAST(DATEADD(DAY, -29, k.activity_date) AS DATE) >= b.first_date AS is_complete
  FROM (
    SELECT
      sp.activity_date,
      CAST(SUM(COALESCE(dl.dau_delta, 0)) OVER (
        ORDER BY sp.activity_date NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS dau,
      CAST(SUM(COALESCE(dl.wau_delta, 0)) OVER (
        ORDER BY sp.activity_date NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS wau,
      CAST(SUM(COALESCE(dl.mau_delta, 0)) OVER (
        ORDER BY sp.activity_date NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS mau
    FROM (
      SELECT
        c.calendar_date AS activity_date
      FROM analytics._hl_calendar AS c
    ) AS sp
    LEFT JOIN (
      WITH spans AS (
        SELECT
          activity_date,
          LAG(activity_date) OVER (PARTITION BY member_key ORDER BY activity_date NULLS LAST) AS previous_date,
          LEAD(activity_date) OVER (PARTITION BY member_key ORDER BY activity_date NULLS LAST) AS next_date
        FROM (
          SELECT DISTINCT
            user_id AS member_key,
            activity_date
          FROM analytics._hl_events
          WHERE
            tier_rank >= 2
        ) AS f
      )
      SELECT
        delta_date,
        SUM(dau_delta) AS dau_delta,
        SUM(wau_delta) AS wau_delta,
        SUM(mau_delta) AS mau_delta
      FROM (
        SELECT
          s.activity_date AS delta_date,
          1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATEADD(DAY, 1, s.previous_date) AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          CAST(DATEADD(DAY, 1, s.activity_date) AS DATE) AS delta_date,
          -1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATEADD(DAY, 1, s.activity_date) AS DATE)
        UNION ALL
        SELECT
          s.activity_date AS delta_date,
          0 AS dau_delta,
          1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATEADD(DAY, 7, s.previous_date) AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          CAST(DATEADD(DAY, 7, s.activity_date) AS DATE) AS delta_date,
          0 AS dau_delta,
          -1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATEADD(DAY, 7, s.activity_date) AS DATE)
        UNION ALL
        SELECT
          s.activity_date AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          1 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATEADD(DAY, 30, s.previous_date) AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          CAST(DATEADD(DAY, 30, s.activity_date) AS DATE) AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          -1 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATEADD(DAY, 30, s.activity_date) AS DATE)
      ) AS d
      GROUP BY
        delta_date
    ) AS dl
      ON sp.activity_date = dl.delta_date
  ) AS k
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
