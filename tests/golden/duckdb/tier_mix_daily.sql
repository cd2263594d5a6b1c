-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: tier_mix_daily, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.tier_mix_daily AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date,
  o.account_id,
  o.mau,
  o.browser_users,
  o.buyer_users,
  o.power_users,
  o.browser_share,
  o.buyer_share,
  o.power_share,
  o.meets_target,
  o.is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    k.activity_date,
    k.account_id,
    k.users_at_least_0 AS mau,
    CAST(k.users_at_least_1 - k.users_at_least_2 AS BIGINT) AS browser_users,
    CAST(k.users_at_least_2 - k.users_at_least_3 AS BIGINT) AS buyer_users,
    CAST(k.users_at_least_3 AS BIGINT) AS power_users,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_1 AS DOUBLE) / CAST(k.users_at_least_0 AS DOUBLE)
    END AS browser_share,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_2 AS DOUBLE) / CAST(k.users_at_least_0 AS DOUBLE)
    END AS buyer_share,
    CASE
      WHEN k.users_at_least_0 >= 1
      THEN CAST(k.users_at_least_3 AS DOUBLE) / CAST(k.users_at_least_0 AS DOUBLE)
    END AS power_share,
    CASE
      WHEN CASE
        WHEN k.users_at_least_0 >= 1
        THEN CAST(k.users_at_least_2 AS DOUBLE) / CAST(k.users_at_least_0 AS DOUBLE)
      END IS NULL
      THEN NULL
      WHEN CASE
        WHEN k.users_at_least_0 >= 1
        THEN CAST(k.users_at_least_2 AS DOUBLE) / CAST(k.users_at_least_0 AS DOUBLE)
      END >= 0.3
      THEN TRUE
      ELSE FALSE
    END AS meets_target,
    CAST(k.activity_date + INTERVAL (-27) DAY AS DATE) >= b.first_date AS is_complete
  FROM (
    SELECT
      sp.account_id,
      sp.activity_date,
      CAST(COALESCE(pd.users_at_least_0, 0) AS BIGINT) AS users_at_least_0,
      CAST(COALESCE(pd.users_at_least_1, 0) AS BIGINT) AS users_at_least_1,
      CAST(COALESCE(pd.users_at_least_2, 0) AS BIGINT) AS users_at_least_2,
      CAST(COALESCE(pd.users_at_least_3, 0) AS BIGINT) AS users_at_least_3
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
      SELECT
        r.account_id,
        r.activity_date,
        COUNT(*) AS users_at_least_0,
        SUM(CASE WHEN r.tier_rank >= 1 THEN 1 ELSE 0 END) AS users_at_least_1,
        SUM(CASE WHEN r.tier_rank >= 2 THEN 1 ELSE 0 END) AS users_at_least_2,
        SUM(CASE WHEN r.tier_rank >= 3 THEN 1 ELSE 0 END) AS users_at_least_3
      FROM (
        SELECT
          w.account_id,
          w.user_id,
          w.activity_date,
          CASE
            WHEN w.events_rank_3 >= 2 AND COALESCE(dv3.distinct_values, 0) >= 2
            THEN 3
            WHEN w.events_rank_2 >= 1
            THEN 2
            WHEN w.events_rank_1 >= 1
            THEN 1
            ELSE 0
          END AS tier_rank
        FROM (
          SELECT
            u.account_id,
            u.user_id,
            CAST(u.activity_date + INTERVAL (o.day_offset) DAY AS DATE) AS activity_date,
            SUM(u.events_rank_1) AS events_rank_1,
            SUM(u.events_rank_2) AS events_rank_2,
            SUM(u.events_rank_3) AS events_rank_3
          FROM (
            SELECT
              account_id AS account_id,
              user_id,
              activity_date,
              events_rank_1,
              events_rank_2,
              events_rank_3
            FROM analytics._hl_user_days
            WHERE
              NOT account_id IS NULL
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
            CAST(u.activity_date + INTERVAL (o.day_offset) DAY AS DATE)
        ) AS w
        LEFT JOIN (
          SELECT
            v.account_id,
            v.user_id,
            CAST(v.activity_date + INTERVAL (o.day_offset) DAY AS DATE) AS activity_date,
            COUNT(DISTINCT v.member_value) AS distinct_values
          FROM (
            SELECT DISTINCT
              account_id AS account_id,
              user_id,
              activity_date,
              order_id AS member_value
            FROM analytics._hl_events
            WHERE
              tier_rank >= 3 AND NOT order_id IS NULL AND NOT account_id IS NULL
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
            CAST(v.activity_date + INTERVAL (o.day_offset) DAY AS DATE)
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
