-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_transition_ranks, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_transition_ranks AS
WITH neighbours AS (
  SELECT
    account_id,
    user_id,
    activity_date,
    tier_rank,
    LAG(activity_date) OVER (PARTITION BY account_id, user_id ORDER BY activity_date) AS previous_date,
    LAG(tier_rank) OVER (PARTITION BY account_id, user_id ORDER BY activity_date) AS previous_rank,
    LEAD(activity_date) OVER (PARTITION BY account_id, user_id ORDER BY activity_date) AS next_date
  FROM _hl_user_tiers
)
SELECT
  transition_date,
  account_id,
  user_id,
  from_rank,
  to_rank
FROM (
  SELECT
    n.activity_date AS transition_date,
    n.account_id,
    n.user_id,
    CASE
      WHEN n.previous_date = CAST(DATEADD(DAY, -1, n.activity_date) AS DATE)
      THEN n.previous_rank
      ELSE 0
    END AS from_rank,
    n.tier_rank AS to_rank
  FROM neighbours AS n
  UNION ALL
  SELECT
    CAST(DATEADD(DAY, 1, n.activity_date) AS DATE) AS transition_date,
    n.account_id,
    n.user_id,
    n.tier_rank AS from_rank,
    0 AS to_rank
  FROM neighbours AS n
  CROSS JOIN _hl_bounds AS b
  WHERE
    (
      n.next_date IS NULL
      OR n.next_date > CAST(DATEADD(DAY, 1, n.activity_date) AS DATE)
    )
    AND CAST(DATEADD(DAY, 1, n.activity_date) AS DATE) <= b.last_date
) AS c
WHERE
  from_rank <> to_rank
