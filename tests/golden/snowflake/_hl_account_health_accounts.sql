-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_account_health_accounts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_accounts AS
SELECT
  c.calendar_date AS as_of_date,
  g.account_id
FROM (
  SELECT
    r.account_id,
    MIN(r.activity_date) AS first_date
  FROM (
    SELECT
      account_id,
      activity_date
    FROM _hl_events
    WHERE
      NOT account_id IS NULL
  ) AS r
  JOIN (
    SELECT DISTINCT
      account_id
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', event_ts) AS DATE) AS activity_date,
        NULL AS metric_value
      FROM raw.events
      WHERE
        (
          (
            NOT account_id IS NULL AND NOT event_ts IS NULL
          ) AND NOT user_id IS NULL
        )
        AND (
          plan <> 'internal'
        )
    ) AS p
  ) AS m
    ON r.account_id = m.account_id
  GROUP BY
    r.account_id
) AS g
JOIN _hl_calendar AS c
  ON c.calendar_date >= g.first_date
