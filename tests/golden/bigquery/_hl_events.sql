-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: bigquery, view: _hl_events, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_events AS
SELECT
  user_id AS user_id,
  account_id AS account_id,
  DATE(TIMESTAMP(CAST(event_ts AS DATETIME), 'UTC'), 'Europe/Berlin') AS activity_date,
  event_type AS event_name,
  CASE
    WHEN event_type IN ('checkout', 'review')
    THEN 3
    WHEN event_type IN ('add_to_cart', 'checkout') AND (
      amount > 0
    )
    THEN 2
    WHEN event_type IN ('view', 'search')
    THEN 1
    ELSE 0
  END AS tier_rank,
  event_ts AS _hl_timestamp,
  area AS area,
  order_id AS order_id,
  amount AS amount,
  plan AS plan
FROM raw.events
WHERE
  NOT user_id IS NULL AND NOT event_ts IS NULL
