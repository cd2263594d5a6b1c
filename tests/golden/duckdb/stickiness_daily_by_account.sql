-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: stickiness_daily_by_account, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.stickiness_daily_by_account AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date,
  o.account_id,
  o.dau,
  o.wau,
  o.mau,
  o.dau_mau,
  o.wau_mau,
  o.is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    k.activity_date,
    k.account_id,
    k.dau,
    k.wau,
    k.mau,
    CASE WHEN k.mau >= 2 THEN CAST(k.dau AS DOUBLE) / CAST(k.mau AS DOUBLE) END AS dau_mau,
    CASE WHEN k.mau >= 2 THEN CAST(k.wau AS DOUBLE) / CAST(k.mau AS DOUBLE) END AS wau_mau,
    CAST(k.activity_date + INTERVAL (-29) DAY AS DATE) >= b.first_date AS is_complete
  FROM (
    SELECT
      sp.account_id,
      sp.activity_date,
      CAST(SUM(COALESCE(dl.dau_delta, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS dau,
      CAST(SUM(COALESCE(dl.wau_delta, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS wau,
      CAST(SUM(COALESCE(dl.mau_delta, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS BIGINT) AS mau
    FROM (
      SELECT
        g.account_id,
        c.calendar_date AS activity_date
      FROM (
        SELECT
          x.account_id,
          MIN(
            CAST(CAST(e._hl_timestamp AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS DATE)
          ) AS first_date
        FROM analytics._hl_events AS e
        JOIN (
          SELECT
            account_id AS account_id,
            MIN(_hl_timestamp) AS earliest
          FROM analytics._hl_events
          WHERE
            NOT account_id IS NULL
          GROUP BY
            account_id
        ) AS x
          ON e.account_id = x.account_id AND e._hl_timestamp <= x.earliest + INTERVAL '3' DAY
        GROUP BY
          x.account_id
      ) AS g
      JOIN analytics._hl_calendar AS c
        ON c.calendar_date >= g.first_date
    ) AS sp
    LEFT JOIN (
      WITH spans AS (
        SELECT
          account_id,
          activity_date,
          LAG(activity_date) OVER (PARTITION BY account_id, member_key ORDER BY activity_date) AS previous_date,
          LEAD(activity_date) OVER (PARTITION BY account_id, member_key ORDER BY activity_date) AS next_date
        FROM (
          SELECT
            account_id AS account_id,
            user_id AS member_key,
            activity_date
          FROM analytics._hl_user_days
          WHERE
            NOT account_id IS NULL
        ) AS f
      )
      SELECT
        account_id,
        delta_date,
        SUM(dau_delta) AS dau_delta,
        SUM(wau_delta) AS wau_delta,
        SUM(mau_delta) AS mau_delta
      FROM (
        SELECT
          s.account_id,
          s.activity_date AS delta_date,
          1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(s.previous_date + INTERVAL 1 DAY AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id,
          CAST(s.activity_date + INTERVAL 1 DAY AS DATE) AS delta_date,
          -1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(s.activity_date + INTERVAL 1 DAY AS DATE)
        UNION ALL
        SELECT
          s.account_id,
          s.activity_date AS delta_date,
          0 AS dau_delta,
          1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(s.previous_date + INTERVAL 7 DAY AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id,
          CAST(s.activity_date + INTERVAL 7 DAY AS DATE) AS delta_date,
          0 AS dau_delta,
          -1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(s.activity_date + INTERVAL 7 DAY AS DATE)
        UNION ALL
        SELECT
          s.account_id,
          s.activity_date AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          1 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(s.previous_date + INTERVAL 30 DAY AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id,
          CAST(s.activity_date + INTERVAL 30 DAY AS DATE) AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          -1 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(s.activity_date + INTERVAL 30 DAY AS DATE)
      ) AS d
      GROUP BY
        account_id,
        delta_date
    ) AS dl
      ON sp.account_id = dl.account_id AND sp.activity_date = dl.delta_date
  ) AS k
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
