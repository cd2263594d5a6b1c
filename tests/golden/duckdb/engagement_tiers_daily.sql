-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: engagement_tiers_daily, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.engagement_tiers_daily AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
)
SELECT
  o.activity_date,
  o.account_id,
  o.user_id,
  o.tier,
  o.tier_rank,
  o.is_complete,
  cb.last_date AS complete_through
FROM (
  SELECT
    t.activity_date,
    t.account_id,
    t.user_id,
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
    t.tier_rank,
    CAST(t.activity_date + INTERVAL (-6) DAY AS DATE) >= b.first_date AS is_complete
  FROM analytics._hl_user_tiers AS t
  CROSS JOIN shared_hl_bounds AS b
) AS o
CROSS JOIN shared_hl_bounds AS cb
