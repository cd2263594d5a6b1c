-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: tier_transitions, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.tier_transitions AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.transition_date AS transition_date,
  o.account_id AS account_id,
  o.user_id AS user_id,
  o.from_tier AS from_tier,
  o.to_tier AS to_tier,
  o.direction AS direction,
  o.is_complete AS is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    t.transition_date AS transition_date,
    t.account_id AS account_id,
    t.user_id AS user_id,
    CASE
      WHEN t.from_rank = 0
      THEN 'inactive'
      WHEN t.from_rank = 1
      THEN 'browser'
      WHEN t.from_rank = 2
      THEN 'buyer'
      WHEN t.from_rank = 3
      THEN 'power'
    END AS from_tier,
    CASE
      WHEN t.to_rank = 0
      THEN 'inactive'
      WHEN t.to_rank = 1
      THEN 'browser'
      WHEN t.to_rank = 2
      THEN 'buyer'
      WHEN t.to_rank = 3
      THEN 'power'
    END AS to_tier,
    CASE WHEN t.to_rank > t.from_rank THEN 'up' ELSE 'down' END AS direction,
    CAST(CAST(DATE_ADD(DAY, -7, t.transition_date) AS Nullable(Date32)) >= b.first_date AS Nullable(Bool)) AS is_complete
  FROM analytics._hl_transition_ranks AS t
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
