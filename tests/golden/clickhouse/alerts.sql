-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: alerts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.alerts AS
SELECT
  o.alert_id AS alert_id,
  o.alert_type AS alert_type,
  o.rule AS rule,
  o.account_id AS account_id,
  o.user_id AS user_id,
  o.detected_date AS detected_date,
  o.respond_by AS respond_by,
  o.reason AS reason,
  o.score AS score,
  cb.last_date AS complete_through
FROM (
  SELECT
    CONCAT(
      COALESCE('power_drop:', ''),
      COALESCE(CAST(t.account_id AS Nullable(String)), ''),
      COALESCE(':', ''),
      COALESCE(CAST(t.user_id AS Nullable(String)), ''),
      COALESCE(':', ''),
      COALESCE(formatDateTime(t.transition_date, '%Y-%m-%d'), '')
    ) AS alert_id,
    'tier_drop' AS alert_type,
    'power_drop' AS rule,
    t.account_id AS account_id,
    t.user_id AS user_id,
    t.transition_date AS detected_date,
    CAST(DATE_ADD(
      HOUR,
      48,
      CAST(CAST(DATE_ADD(DAY, 1, t.transition_date) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
    ) AS Nullable(DateTime64(6, 'UTC'))) AS respond_by,
    CONCAT(
      COALESCE('tier dropped from ', ''),
      COALESCE(
        CASE
          WHEN t.from_rank = 0
          THEN 'inactive'
          WHEN t.from_rank = 1
          THEN 'browser'
          WHEN t.from_rank = 2
          THEN 'buyer'
          WHEN t.from_rank = 3
          THEN 'power'
        END,
        ''
      ),
      COALESCE(' to ', ''),
      COALESCE(
        CASE
          WHEN t.to_rank = 0
          THEN 'inactive'
          WHEN t.to_rank = 1
          THEN 'browser'
          WHEN t.to_rank = 2
          THEN 'buyer'
          WHEN t.to_rank = 3
          THEN 'power'
        END,
        ''
      )
    ) AS reason,
    CAST(NULL AS Nullable(String)) AS score
  FROM analytics._hl_transition_ranks AS t
  WHERE
    t.from_rank >= 3 AND t.to_rank <= 2
) AS o
CROSS JOIN analytics._hl_bounds AS cb
