-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: stickiness_daily_by_account, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.stickiness_daily_by_account AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date AS activity_date,
  o.account_id AS account_id,
  o.dau AS dau,
  o.wau AS wau,
  o.mau AS mau,
  o.dau_mau AS dau_mau,
  o.wau_mau AS wau_mau,
  o.is_complete AS is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    k.activity_date AS activity_date,
    k.account_id AS account_id,
    k.dau AS dau,
    k.wau AS wau,
    k.mau AS mau,
    CASE
      WHEN k.mau >= 2
      THEN CAST(k.dau AS Nullable(Float64)) / CAST(k.mau AS Nullable(Float64))
    END AS dau_mau,
    CASE
      WHEN k.mau >= 2
      THEN CAST(k.wau AS Nullable(Float64)) / CAST(k.mau AS Nullable(Float64))
    END AS wau_mau,
    CAST(CAST(DATE_ADD(DAY, -29, k.activity_date) AS Nullable(Date32)) >= b.first_date AS Nullable(Bool)) AS is_complete
  FROM (
    SELECT
      sp.account_id AS account_id,
      sp.activity_date AS activity_date,
      CAST(SUM(COALESCE(CASE WHEN dl._hl_matched = 1 THEN dl.dau_delta END, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS Nullable(Int64)) AS dau,
      CAST(SUM(COALESCE(CASE WHEN dl._hl_matched = 1 THEN dl.wau_delta END, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS Nullable(Int64)) AS wau,
      CAST(SUM(COALESCE(CASE WHEN dl._hl_matched = 1 THEN dl.mau_delta END, 0)) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.activity_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS Nullable(Int64)) AS mau
    FROM (
      SELECT
        g.account_id AS account_id,
        c.calendar_date AS activity_date
      FROM (
        SELECT
          x.account_id AS account_id,
          MIN(
            CAST(toTimeZone(toDateTime64(e._hl_timestamp, 6, 'UTC'), 'Europe/Berlin') AS Nullable(Date32))
          ) AS first_date
        FROM analytics._hl_events AS e
        JOIN (
          SELECT
            account_id AS account_id,
            MIN(_hl_timestamp) AS earliest
          FROM analytics._hl_events
          WHERE
            NOT (
              account_id IS NULL
            )
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
          account_id AS account_id,
          activity_date AS activity_date,
          lagInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id, member_key
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS previous_date,
          leadInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id, member_key
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS next_date
        FROM (
          SELECT
            account_id AS account_id,
            user_id AS member_key,
            activity_date AS activity_date
          FROM analytics._hl_user_days
          WHERE
            NOT (
              account_id IS NULL
            )
        ) AS f
      )
      SELECT
        account_id AS account_id,
        delta_date AS delta_date,
        SUM(dau_delta) AS dau_delta,
        SUM(wau_delta) AS wau_delta,
        SUM(mau_delta) AS mau_delta,
        1 AS _hl_matched
      FROM (
        SELECT
          s.account_id AS account_id,
          s.activity_date AS delta_date,
          1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATE_ADD(DAY, 1, s.previous_date) AS Nullable(Date32)) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id AS account_id,
          CAST(DATE_ADD(DAY, 1, s.activity_date) AS Nullable(Date32)) AS delta_date,
          -1 AS dau_delta,
          0 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATE_ADD(DAY, 1, s.activity_date) AS Nullable(Date32))
        UNION ALL
        SELECT
          s.account_id AS account_id,
          s.activity_date AS delta_date,
          0 AS dau_delta,
          1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATE_ADD(DAY, 7, s.previous_date) AS Nullable(Date32)) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id AS account_id,
          CAST(DATE_ADD(DAY, 7, s.activity_date) AS Nullable(Date32)) AS delta_date,
          0 AS dau_delta,
          -1 AS wau_delta,
          0 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATE_ADD(DAY, 7, s.activity_date) AS Nullable(Date32))
        UNION ALL
        SELECT
          s.account_id AS account_id,
          s.activity_date AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          1 AS mau_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATE_ADD(DAY, 30, s.previous_date) AS Nullable(Date32)) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id AS account_id,
          CAST(DATE_ADD(DAY, 30, s.activity_date) AS Nullable(Date32)) AS delta_date,
          0 AS dau_delta,
          0 AS wau_delta,
          -1 AS mau_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATE_ADD(DAY, 30, s.activity_date) AS Nullable(Date32))
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
