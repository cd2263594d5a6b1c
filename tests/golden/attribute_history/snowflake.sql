-- Golden SQL checked by tests/test_golden_sql.py::test_golden_attribute_history
-- dialect: snowflake, view: _hl_seat_health_values, project: tests/fixtures/seat_history, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_seat_health_values AS
SELECT
  sp.as_of_date,
  sp.account_id,
  j_metric_0.metric_0,
  j_attribute_0.attribute_value AS attribute_0,
  j_attribute_1.attribute_value AS attribute_1,
  j_attribute_1_lag_30.attribute_value AS attribute_1_lag_30
FROM _hl_seat_health_accounts AS sp
CROSS JOIN _hl_bounds AS db
LEFT JOIN _hl_seat_health_metric_0 AS j_metric_0
  ON sp.account_id = j_metric_0.account_id AND sp.as_of_date = j_metric_0.as_of_date
LEFT JOIN (
  SELECT
    account_id,
    valid_date,
    LEAD(valid_date) OVER (PARTITION BY account_id ORDER BY valid_date) AS next_date,
    attribute_value
  FROM (
    SELECT
      account_id,
      valid_date,
      MAX(attribute_value) AS attribute_value
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('Europe/Berlin', CAST(changed_at AS TIMESTAMPTZ)) AS DATE) AS valid_date,
        plan AS attribute_value
      FROM raw.seat_history
      WHERE
        NOT account_id IS NULL AND NOT changed_at IS NULL
    ) AS r
    GROUP BY
      account_id,
      valid_date
  ) AS d
) AS j_attribute_0
  ON sp.account_id = j_attribute_0.account_id
  AND j_attribute_0.valid_date <= sp.as_of_date
  AND (
    j_attribute_0.next_date IS NULL OR j_attribute_0.next_date > sp.as_of_date
  )
LEFT JOIN (
  SELECT
    account_id,
    valid_date,
    LEAD(valid_date) OVER (PARTITION BY account_id ORDER BY valid_date) AS next_date,
    attribute_value
  FROM (
    SELECT
      account_id,
      valid_date,
      MAX(attribute_value) AS attribute_value
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('Europe/Berlin', CAST(changed_at AS TIMESTAMPTZ)) AS DATE) AS valid_date,
        seats_used AS attribute_value
      FROM raw.seat_history
      WHERE
        NOT account_id IS NULL AND NOT changed_at IS NULL
    ) AS r
    GROUP BY
      account_id,
      valid_date
  ) AS d
) AS j_attribute_1
  ON sp.account_id = j_attribute_1.account_id
  AND j_attribute_1.valid_date <= sp.as_of_date
  AND (
    j_attribute_1.next_date IS NULL OR j_attribute_1.next_date > sp.as_of_date
  )
LEFT JOIN (
  SELECT
    account_id,
    valid_date,
    LEAD(valid_date) OVER (PARTITION BY account_id ORDER BY valid_date) AS next_date,
    attribute_value
  FROM (
    SELECT
      account_id,
      valid_date,
      MAX(attribute_value) AS attribute_value
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('Europe/Berlin', CAST(changed_at AS TIMESTAMPTZ)) AS DATE) AS valid_date,
        seats_used AS attribute_value
      FROM raw.seat_history
      WHERE
        NOT account_id IS NULL AND NOT changed_at IS NULL
    ) AS r
    GROUP BY
      account_id,
      valid_date
  ) AS d
) AS j_attribute_1_lag_30
  ON sp.account_id = j_attribute_1_lag_30.account_id
  AND j_attribute_1_lag_30.valid_date <= CAST(DATEADD(DAY, -30, sp.as_of_date) AS DATE)
  AND (
    j_attribute_1_lag_30.next_date IS NULL
    OR j_attribute_1_lag_30.next_date > CAST(DATEADD(DAY, -30, sp.as_of_date) AS DATE)
  )
