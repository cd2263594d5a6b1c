-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: _hl_transition_ranks, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_transition_ranks AS
WITH neighbours AS (
  SELECT
    account_id AS account_id,
    user_id AS user_id,
    activity_date AS activity_date,
    tier_rank AS tier_rank,
    lagInFrame(toNullable(activity_date)) OVER (
      PARTITION BY account_id, user_id
      ORDER BY activity_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS previous_date,
    lagInFrame(toNullable(tier_rank)) OVER (
      PARTITION BY account_id, user_id
      ORDER BY activity_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS previous_rank,
    leadInFrame(toNullable(activity_date)) OVER (
      PARTITION BY account_id, user_id
      ORDER BY activity_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS next_date
  FROM analytics._hl_user_tiers
)
SELECT
  transition_date AS transition_date,
  account_id AS account_id,
  user_id AS user_id,
  from_rank AS from_rank,
  to_rank AS to_rank
FROM (
  SELECT
    n.activity_date AS transition_date,
    n.account_id AS account_id,
    n.user_id AS user_id,
    CASE
      WHEN n.previous_date = CAST(DATE_ADD(DAY, -1, n.activity_date) AS Nullable(Date32))
      THEN n.previous_rank
      ELSE 0
    END AS from_rank,
    n.tier_rank AS to_rank
  FROM neighbours AS n
  UNION ALL
  SELECT
    CAST(DATE_ADD(DAY, 1, n.activity_date) AS Nullable(Date32)) AS transition_date,
    n.account_id AS account_id,
    n.user_id AS user_id,
    n.tier_rank AS from_rank,
    0 AS to_rank
  FROM neighbours AS n
  CROSS JOIN analytics._hl_bounds AS b
  WHERE
    (
      n.next_date IS NULL
      OR n.next_date > CAST(DATE_ADD(DAY, 1, n.activity_date) AS Nullable(Date32))
    )
    AND CAST(DATE_ADD(DAY, 1, n.activity_date) AS Nullable(Date32)) <= b.last_date
) AS c
WHERE
  from_rank <> to_rank
