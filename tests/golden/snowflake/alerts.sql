-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: alerts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.alerts AS
SELECT
  o.alert_id,
  o.alert_type,
  o."RULE",
  o.account_id,
  o.user_id,
  o.detected_date,
  o.respond_by,
  o.reason,
  o.score,
  cb.last_date AS complete_through
FROM (
  SELECT
    CONCAT(
      'power_drop:',
      CAST(t.account_id AS VARCHAR),
      ':',
      CAST(t.user_id AS VARCHAR),
      ':',
      TO_CHAR(t.transition_date, 'yyyy-mm-DD')
    ) AS alert_id,
    'tier_drop' AS alert_type,
    'power_drop' AS "RULE",
    t.account_id,
    t.user_id,
    t.transition_date AS detected_date,
    CAST(DATEADD(HOUR, 48, CAST(CAST(DATEADD(DAY, 1, t.transition_date) AS DATE) AS TIMESTAMPNTZ)) AS TIMESTAMPNTZ) AS respond_by,
    CONCAT(
      'tier dropped from ',
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
      ' to ',
      CASE
        WHEN t.to_rank = 0
        THEN 'inactive'
        WHEN t.to_rank = 1
        THEN 'browser'
        WHEN t.to_rank = 2
        THEN 'buyer'
        WHEN t.to_rank = 3
        THEN 'power'
      END
    ) AS reason,
    CAST(NULL AS VARCHAR) AS score
  FROM _hl_transition_ranks AS t
  WHERE
    t.from_rank >= 3 AND t.to_rank <= 2
) AS o
CROSS JOIN _hl_bounds AS cb
