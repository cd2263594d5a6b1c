-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: _hl_user_tiers, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_user_tiers AS
SELECT
  account_id,
  user_id,
  activity_date,
  tier_rank
FROM (
  SELECT
    *
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
      ) AS o
      GROUP BY
        v.account_id,
        v.user_id,
        CAST(v.activity_date + INTERVAL (o.day_offset) DAY AS DATE)
    ) AS dv3
      ON w.account_id = dv3.account_id
      AND w.user_id = dv3.user_id
      AND w.activity_date = dv3.activity_date
  ) AS w
  CROSS JOIN analytics._hl_bounds AS b
  WHERE
    w.activity_date <= b.last_date
) AS r
WHERE
  tier_rank > 0
