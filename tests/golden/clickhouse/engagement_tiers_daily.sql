-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: engagement_tiers_daily, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.engagement_tiers_daily AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date AS activity_date,
  o.account_id AS account_id,
  o.user_id AS user_id,
  o.tier AS tier,
  o.tier_rank AS tier_rank,
  o.is_complete AS is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    t.activity_date AS activity_date,
    t.account_id AS account_id,
    t.user_id AS user_id,
    CASE
      WHEN t.tier_rank = 0
      THEN 'inactive'
      WHEN t.tier_rank = 1
      THEN 'browser'
      WHEN t.tier_rank = 2
      THEN 'buyer'
      WHEN t.tier_rank = 3
      THEN 'power'
    END AS tier,
    t.tier_rank AS tier_rank,
    CAST(CAST(DATE_ADD(DAY, -6, t.activity_date) AS Nullable(Date32)) >= b.first_date AS Nullable(Bool)) AS is_complete
  FROM analytics._hl_user_tiers AS t
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
