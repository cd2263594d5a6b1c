-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: bigquery, view: _hl_user_days, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_user_days AS
SELECT
  account_id,
  user_id,
  activity_date,
  MAX(event_rank) AS tier_rank,
  CAST(COUNT(CASE WHEN event_rank >= 1 THEN 1 END) AS INT64) AS events_rank_1,
  CAST(COUNT(CASE WHEN event_rank >= 2 THEN 1 END) AS INT64) AS events_rank_2,
  CAST(COUNT(CASE WHEN event_rank >= 3 THEN 1 END) AS INT64) AS events_rank_3
FROM (
  SELECT
    account_id,
    user_id,
    activity_date,
    tier_rank AS event_rank
  FROM analytics._hl_events
) AS e
GROUP BY
  account_id,
  user_id,
  activity_date
