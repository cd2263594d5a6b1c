-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_bounds, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_bounds AS
SELECT
  MIN(activity_date) AS first_date,
  MAX(activity_date) AS last_date
FROM _hl_events
