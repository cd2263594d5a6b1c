-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: tier_mix_daily, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.tier_mix_daily AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date AS activity_date,
  o.account_id AS account_id,
  o.mau AS mau,
  o.browser_users AS browser_users,
  o.buyer_users AS buyer_users,
  o.power_users AS power_users,
  o.browser_share AS browser_share,
  o.buyer_share AS buyer_share,
  o.power_share AS power_share,
  o.meets_target AS meets_target,
  o.is_complete AS is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    k.activity_date AS activity_date,
    k.account_id AS account_id,
    k.users_at_least_0 AS mau,
    CAST(k.users_at_least_1 - k.users_at_least_2 AS Nullable(Int64)) AS browser_users,
    CAST(k.users_at_least_2 - k.users_at_least_3 AS Nullable(Int64)) AS buyer_users,
    CAST(k.users_at_least_3 AS Nullable(Int64)) AS power_users,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_1 AS Nullable(Float64)) / CAST(k.users_at_least_0 AS Nullable(Float64))
    END AS browser_share,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_2 AS Nullable(Float64)) / CAST(k.users_at_least_0 AS Nullable(Float64))
    END AS buyer_share,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_3 AS Nullable(Float64)) / CAST(k.users_at_least_0 AS Nullable(Float64))
    END AS power_share,
    CASE
      WHEN CASE
        WHEN k.users_at_least_0 >= 1
        THEN CAST(k.users_at_least_2 AS Nullable(Float64)) / CAST(k.users_at_least_0 AS Nullable(Float64))
      END IS NULL
      THEN NULL
      WHEN CASE
        WHEN k.users_at_least_0 >= 1
        THEN CAST(k.users_at_least_2 AS Nullable(Float64)) / CAST(k.users_at_least_0 AS Nullable(Float64))
      END >= 0.3
      THEN TRUE
      ELSE FALSE
    END AS meets_target,
    CAST(CAST(DATE_ADD(DAY, -27, k.activity_date) AS Nullable(Date32)) >= b.first_date AS Nullable(Bool)) AS is_complete
  FROM (
    SELECT
      sp.account_id AS account_id,
      sp.activity_date AS activity_date,
      CAST(COALESCE(CASE WHEN pd._hl_matched = 1 THEN pd.users_at_least_0 END, 0) AS Nullable(Int64)) AS users_at_least_0,
      CAST(COALESCE(CASE WHEN pd._hl_matched = 1 THEN pd.users_at_least_1 END, 0) AS Nullable(Int64)) AS users_at_least_1,
      CAST(COALESCE(CASE WHEN pd._hl_matched = 1 THEN pd.users_at_least_2 END, 0) AS Nullable(Int64)) AS users_at_least_2,
      CAST(COALESCE(CASE WHEN pd._hl_matched = 1 THEN pd.users_at_least_3 END, 0) AS Nullable(Int64)) AS users_at_least_3
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
      SELECT
        r.account_id AS account_id,
        r.activity_date AS activity_date,
        COUNT(*) AS users_at_least_0,
        SUM(CASE WHEN r.tier_rank >= 1 THEN 1 ELSE 0 END) AS users_at_least_1,
        SUM(CASE WHEN r.tier_rank >= 2 THEN 1 ELSE 0 END) AS users_at_least_2,
        SUM(CASE WHEN r.tier_rank >= 3 THEN 1 ELSE 0 END) AS users_at_least_3,
        1 AS _hl_matched
      FROM (
        SELECT
          w.account_id AS account_id,
          w.user_id AS user_id,
          w.activity_date AS activity_date,
          CASE
            WHEN w.events_rank_3 >= 2
            AND COALESCE(CASE WHEN dv3._hl_matched = 1 THEN dv3.distinct_values END, 0) >= 2
            THEN 3
            WHEN w.events_rank_2 >= 1
            THEN 2
            WHEN w.events_rank_1 >= 1
            THEN 1
            ELSE 0
          END AS tier_rank
        FROM (
          SELECT
            u.account_id AS account_id,
            u.user_id AS user_id,
            CAST(DATE_ADD(DAY, o.day_offset, u.activity_date) AS Nullable(Date32)) AS activity_date,
            SUM(u.events_rank_1) AS events_rank_1,
            SUM(u.events_rank_2) AS events_rank_2,
            SUM(u.events_rank_3) AS events_rank_3
          FROM (
            SELECT
              account_id AS account_id,
              user_id AS user_id,
              activity_date AS activity_date,
              events_rank_1 AS events_rank_1,
              events_rank_2 AS events_rank_2,
              events_rank_3 AS events_rank_3
            FROM analytics._hl_user_days
            WHERE
              NOT (
                account_id IS NULL
              )
          ) AS u
          CROSS JOIN (
            SELECT
              0 AS day_offset
            UNION ALL
            SELECT
              1 AS day_offset
            UNION ALL
            SELECT
              2 AS day_offset
            UNION ALL
            SELECT
              3 AS day_offset
            UNION ALL
            SELECT
              4 AS day_offset
            UNION ALL
            SELECT
              5 AS day_offset
            UNION ALL
            SELECT
              6 AS day_offset
            UNION ALL
            SELECT
              7 AS day_offset
            UNION ALL
            SELECT
              8 AS day_offset
            UNION ALL
            SELECT
              9 AS day_offset
            UNION ALL
            SELECT
              10 AS day_offset
            UNION ALL
            SELECT
              11 AS day_offset
            UNION ALL
            SELECT
              12 AS day_offset
            UNION ALL
            SELECT
              13 AS day_offset
            UNION ALL
            SELECT
              14 AS day_offset
            UNION ALL
            SELECT
              15 AS day_offset
            UNION ALL
            SELECT
              16 AS day_offset
            UNION ALL
            SELECT
              17 AS day_offset
            UNION ALL
            SELECT
              18 AS day_offset
            UNION ALL
            SELECT
              19 AS day_offset
            UNION ALL
            SELECT
              20 AS day_offset
            UNION ALL
            SELECT
              21 AS day_offset
            UNION ALL
            SELECT
              22 AS day_offset
            UNION ALL
            SELECT
              23 AS day_offset
            UNION ALL
            SELECT
              24 AS day_offset
            UNION ALL
            SELECT
              25 AS day_offset
            UNION ALL
            SELECT
              26 AS day_offset
            UNION ALL
            SELECT
              27 AS day_offset
          ) AS o
          GROUP BY
            u.account_id,
            u.user_id,
            CAST(DATE_ADD(DAY, o.day_offset, u.activity_date) AS Nullable(Date32))
        ) AS w
        LEFT JOIN (
          SELECT
            v.account_id AS account_id,
            v.user_id AS user_id,
            CAST(DATE_ADD(DAY, o.day_offset, v.activity_date) AS Nullable(Date32)) AS activity_date,
            uniqExact(v.member_value) AS distinct_values,
            1 AS _hl_matched
          FROM (
            SELECT DISTINCT
              account_id AS account_id,
              user_id AS user_id,
              activity_date AS activity_date,
              order_id AS member_value
            FROM analytics._hl_events
            WHERE
              tier_rank >= 3 AND NOT (
                order_id IS NULL
              ) AND NOT (
                account_id IS NULL
              )
          ) AS v
          CROSS JOIN (
            SELECT
              0 AS day_offset
            UNION ALL
            SELECT
              1 AS day_offset
            UNION ALL
            SELECT
              2 AS day_offset
            UNION ALL
            SELECT
              3 AS day_offset
            UNION ALL
            SELECT
              4 AS day_offset
            UNION ALL
            SELECT
              5 AS day_offset
            UNION ALL
            SELECT
              6 AS day_offset
            UNION ALL
            SELECT
              7 AS day_offset
            UNION ALL
            SELECT
              8 AS day_offset
            UNION ALL
            SELECT
              9 AS day_offset
            UNION ALL
            SELECT
              10 AS day_offset
            UNION ALL
            SELECT
              11 AS day_offset
            UNION ALL
            SELECT
              12 AS day_offset
            UNION ALL
            SELECT
              13 AS day_offset
            UNION ALL
            SELECT
              14 AS day_offset
            UNION ALL
            SELECT
              15 AS day_offset
            UNION ALL
            SELECT
              16 AS day_offset
            UNION ALL
            SELECT
              17 AS day_offset
            UNION ALL
            SELECT
              18 AS day_offset
            UNION ALL
            SELECT
              19 AS day_offset
            UNION ALL
            SELECT
              20 AS day_offset
            UNION ALL
            SELECT
              21 AS day_offset
            UNION ALL
            SELECT
              22 AS day_offset
            UNION ALL
            SELECT
              23 AS day_offset
            UNION ALL
            SELECT
              24 AS day_offset
            UNION ALL
            SELECT
              25 AS day_offset
            UNION ALL
            SELECT
              26 AS day_offset
            UNION ALL
            SELECT
              27 AS day_offset
          ) AS o
          GROUP BY
            v.account_id,
            v.user_id,
            CAST(DATE_ADD(DAY, o.day_offset, v.activity_date) AS Nullable(Date32))
        ) AS dv3
          ON w.account_id = dv3.account_id
          AND w.user_id = dv3.user_id
          AND w.activity_date = dv3.activity_date
      ) AS r
      GROUP BY
        r.account_id,
        r.activity_date
    ) AS pd
      ON sp.account_id = pd.account_id AND sp.activity_date = pd.activity_date
  ) AS k
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
