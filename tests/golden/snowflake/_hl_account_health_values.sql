-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_account_health_values, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_values AS
SELECT
  sp.as_of_date,
  sp.account_id,
  j_metric_0.dau_mau AS metric_0,
  j_metric_1.buyer_share AS metric_1,
  j_metric_2.metric_2,
  j_metric_3.metric_3,
  COALESCE(
    j_metric_3.lag_30,
    CASE
      WHEN CAST(DATEADD(DAY, -30, sp.as_of_date) AS DATE) >= db.first_date
      THEN 0
    END
  ) AS metric_3_lag_30,
  j_metric_4.metric_4,
  COALESCE(
    j_metric_4.lag_7,
    CASE WHEN CAST(DATEADD(DAY, -7, sp.as_of_date) AS DATE) >= db.first_date THEN 0 END
  ) AS metric_4_lag_7,
  j_metric_5.metric_5,
  j_metric_6.metric_6,
  j_metric_7.metric_7,
  j_attribute_0.metric_value AS attribute_0
FROM _hl_account_health_accounts AS sp
CROSS JOIN _hl_bounds AS db
LEFT JOIN stickiness_daily_by_account AS j_metric_0
  ON sp.account_id = j_metric_0.account_id
  AND sp.as_of_date = j_metric_0.activity_date
LEFT JOIN tier_mix_daily AS j_metric_1
  ON sp.account_id = j_metric_1.account_id
  AND sp.as_of_date = j_metric_1.activity_date
LEFT JOIN _hl_account_health_metric_2 AS j_metric_2
  ON sp.account_id = j_metric_2.account_id AND sp.as_of_date = j_metric_2.as_of_date
LEFT JOIN _hl_account_health_metric_3 AS j_metric_3
  ON sp.account_id = j_metric_3.account_id AND sp.as_of_date = j_metric_3.as_of_date
LEFT JOIN _hl_account_health_metric_4 AS j_metric_4
  ON sp.account_id = j_metric_4.account_id AND sp.as_of_date = j_metric_4.as_of_date
LEFT JOIN _hl_account_health_metric_5 AS j_metric_5
  ON sp.account_id = j_metric_5.account_id AND sp.as_of_date = j_metric_5.as_of_date
LEFT JOIN _hl_account_health_metric_6 AS j_metric_6
  ON sp.account_id = j_metric_6.account_id AND sp.as_of_date = j_metric_6.as_of_date
LEFT JOIN _hl_account_health_metric_7 AS j_metric_7
  ON sp.account_id = j_metric_7.account_id AND sp.as_of_date = j_metric_7.as_of_date
LEFT JOIN (
  SELECT
    account_id AS account_id,
    MAX(seats) AS metric_value
  FROM raw.accounts
  WHERE
    NOT account_id IS NULL
  GROUP BY
    account_id
) AS j_attribute_0
  ON sp.account_id = j_attribute_0.account_id
