-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: alerts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.alerts AS
SELECT
  o.alert_id,
  o.alert_type,
  o.rule,
  o.account_id,
  o.user_id,
  o.detected_date,
  o.respond_by,
  o.reason,
  o.score,
  cb.last_date AS complete_through
FROM (
  SELECT
    'power_drop:' || CAST(t.account_id AS TEXT) || ':' || CAST(t.user_id AS TEXT) || ':' || STRFTIME(t.transition_date, '%Y-%m-%d') AS alert_id,
    'tier_drop' AS alert_type,
    'power_drop' AS rule,
    t.account_id,
    t.user_id,
    t.transition_date AS detected_date,
    CAST(CAST(CAST(t.transition_date + INTERVAL 1 DAY AS DATE) AS TIMESTAMP) + INTERVAL 48 HOUR AS TIMESTAMP) AS respond_by,
    'tier dropped from ' || CASE
      WHEN t.from_rank = 0
      THEN 'inactive'
      WHEN t.from_rank = 1
      THEN 'browser'
      WHEN t.from_rank = 2
      THEN 'buyer'
      WHEN t.from_rank = 3
      THEN 'power'
    END || ' to ' || CASE
      WHEN t.to_rank = 0
      THEN 'inactive'
      WHEN t.to_rank = 1
      THEN 'browser'
      WHEN t.to_rank = 2
      THEN 'buyer'
      WHEN t.to_rank = 3
      THEN 'power'
    END AS reason,
    CAST(NULL AS TEXT) AS score
  FROM analytics._hl_transition_ranks AS t
  WHERE
    t.from_rank >= 3 AND t.to_rank <= 2
) AS o
CROSS JOIN analytics._hl_bounds AS cb
