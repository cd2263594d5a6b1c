-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: alerts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.alerts AS
WITH shared_hl_bounds AS (
  SELECT
    *
  FROM analytics._hl_bounds
), shared_hl_user_days AS (
  SELECT
    *
  FROM analytics._hl_user_days
)
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
      COALESCE(r.rule, ''),
      COALESCE(':', ''),
      COALESCE(CAST(n.account_id AS Nullable(String)), ''),
      COALESCE('::', ''),
      COALESCE(formatDateTime(n.as_of_date, '%Y-%m-%d'), '')
    ) AS alert_id,
    r.alert_type AS alert_type,
    r.rule AS rule,
    CAST(n.account_id AS Nullable(String)) AS account_id,
    CAST(NULL AS Nullable(String)) AS user_id,
    n.as_of_date AS detected_date,
    CASE
      WHEN r.rule = 'health_band_down'
      THEN CAST(DATE_ADD(
        HOUR,
        24,
        CAST(CAST(DATE_ADD(DAY, 1, n.as_of_date) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
      ) AS Nullable(DateTime64(6, 'UTC')))
      WHEN r.rule = 'health_fall'
      THEN CAST(DATE_ADD(
        HOUR,
        48,
        CAST(CAST(DATE_ADD(DAY, 1, n.as_of_date) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
      ) AS Nullable(DateTime64(6, 'UTC')))
      WHEN r.rule = 'at_risk_review'
      THEN CAST(DATE_ADD(
        HOUR,
        72,
        CAST(CAST(DATE_ADD(DAY, 1, n.as_of_date) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
      ) AS Nullable(DateTime64(6, 'UTC')))
    END AS respond_by,
    CASE
      WHEN r.rule = 'health_band_down'
      THEN CONCAT(
        COALESCE('band changed from ', ''),
        COALESCE(n.previous_band, ''),
        COALESCE(' to ', ''),
        COALESCE(n.band, '')
      )
      WHEN r.rule = 'health_fall'
      THEN 'health score fell by at least 25 points within 14 days'
      WHEN r.rule = 'at_risk_review'
      THEN CONCAT(
        COALESCE('in band at_risk on the thursday review, weakest category ', ''),
        COALESCE(n.weakest_category, '')
      )
    END AS reason,
    'account_health' AS score
  FROM (
    SELECT
      as_of_date AS as_of_date,
      account_id AS account_id,
      band AS band,
      health_score AS health_score,
      previous_date AS previous_date,
      previous_band AS previous_band,
      weakest_category AS weakest_category,
      dropped_1 AS dropped_1,
      lagInFrame(toNullable(dropped_1)) OVER (
        PARTITION BY account_id
        ORDER BY as_of_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS previous_dropped_1
    FROM (
      SELECT
        as_of_date AS as_of_date,
        account_id AS account_id,
        band AS band,
        health_score AS health_score,
        previous_date AS previous_date,
        previous_band AS previous_band,
        weakest_category AS weakest_category,
        CASE
          WHEN NOT (
            health_score IS NULL
          )
          AND NOT (
            earlier_max_1 IS NULL
          )
          AND earlier_max_1 - health_score >= 25.0
          THEN 1
          ELSE 0
        END AS dropped_1
      FROM (
        SELECT
          h.as_of_date AS as_of_date,
          h.account_id AS account_id,
          h.band AS band,
          h.health_score AS health_score,
          lagInFrame(toNullable(as_of_date)) OVER (
            PARTITION BY account_id
            ORDER BY as_of_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS previous_date,
          lagInFrame(toNullable(band)) OVER (
            PARTITION BY account_id
            ORDER BY as_of_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS previous_band,
          CASE
            WHEN NOT (
              h.engagement_score IS NULL
            )
            AND (
              h.commercial_score IS NULL OR h.engagement_score <= h.commercial_score
            )
            AND (
              h.relationship_score IS NULL OR h.engagement_score <= h.relationship_score
            )
            THEN 'engagement'
            WHEN NOT (
              h.commercial_score IS NULL
            )
            AND (
              h.engagement_score IS NULL OR h.commercial_score < h.engagement_score
            )
            AND (
              h.relationship_score IS NULL OR h.commercial_score <= h.relationship_score
            )
            THEN 'commercial'
            WHEN NOT (
              h.relationship_score IS NULL
            )
            AND (
              h.engagement_score IS NULL OR h.relationship_score < h.engagement_score
            )
            AND (
              h.commercial_score IS NULL OR h.relationship_score < h.commercial_score
            )
            THEN 'relationship'
          END AS weakest_category,
          MAX(health_score) OVER (
            PARTITION BY account_id
            ORDER BY as_of_date
            ROWS BETWEEN 14 PRECEDING AND 1 PRECEDING
          ) AS earlier_max_1
        FROM analytics.account_health AS h
      ) AS m
    ) AS f
  ) AS n
  CROSS JOIN (
    SELECT
      'health_band_down' AS rule,
      'band_change' AS alert_type
    UNION ALL
    SELECT
      'health_fall' AS rule,
      'score_drop' AS alert_type
    UNION ALL
    SELECT
      'at_risk_review' AS rule,
      'red_review' AS alert_type
  ) AS r
  WHERE
    (
      r.rule = 'health_band_down'
      AND (
        n.previous_date = CAST(DATE_ADD(DAY, -1, n.as_of_date) AS Nullable(Date32))
        AND NOT (
          n.band IS NULL
        )
        AND NOT (
          n.previous_band IS NULL
        )
        AND n.band <> n.previous_band
        AND CASE
          WHEN n.band = 'critical'
          THEN 0
          WHEN n.band = 'at_risk'
          THEN 1
          WHEN n.band = 'steady'
          THEN 2
          WHEN n.band = 'thriving'
          THEN 3
        END < CASE
          WHEN n.previous_band = 'critical'
          THEN 0
          WHEN n.previous_band = 'at_risk'
          THEN 1
          WHEN n.previous_band = 'steady'
          THEN 2
          WHEN n.previous_band = 'thriving'
          THEN 3
        END
      )
    )
    OR (
      r.rule = 'health_fall'
      AND (
        n.dropped_1 = 1
        AND (
          n.previous_dropped_1 IS NULL OR n.previous_dropped_1 = 0
        )
      )
    )
    OR (
      r.rule = 'at_risk_review'
      AND (
        n.band = 'at_risk'
        AND (
          (
            DATE_DIFF(DAY, CAST('1900-01-01' AS Nullable(Date32)), n.as_of_date)
          ) % 7 + 7
        ) % 7 = 3
      )
    )
  UNION ALL
  SELECT
    CONCAT(
      COALESCE('quiet_buyers', ''),
      COALESCE(':', ''),
      COALESCE(CAST(q.account_id AS Nullable(String)), ''),
      COALESCE('::', ''),
      COALESCE(
        formatDateTime(CAST(DATE_ADD(DAY, 7, q.activity_date) AS Nullable(Date32)), '%Y-%m-%d'),
        ''
      )
    ) AS alert_id,
    'stale_data' AS alert_type,
    'quiet_buyers' AS rule,
    CAST(q.account_id AS Nullable(String)) AS account_id,
    CAST(NULL AS Nullable(String)) AS user_id,
    CAST(DATE_ADD(DAY, 7, q.activity_date) AS Nullable(Date32)) AS detected_date,
    CAST(DATE_ADD(
      HOUR,
      48,
      CAST(CAST(DATE_ADD(DAY, 1, CAST(DATE_ADD(DAY, 7, q.activity_date) AS Nullable(Date32))) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
    ) AS Nullable(DateTime64(6, 'UTC'))) AS respond_by,
    'no events for 7 days, after events on at least 3 of the 30 days before' AS reason,
    CAST(NULL AS Nullable(String)) AS score
  FROM (
    SELECT
      s.account_id AS account_id,
      s.activity_date AS activity_date
    FROM (
      SELECT
        g.account_id AS account_id,
        g.activity_date AS activity_date
      FROM (
        SELECT
          account_id AS account_id,
          activity_date AS activity_date,
          leadInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS next_date
        FROM (
          SELECT DISTINCT
            account_id AS account_id,
            activity_date AS activity_date
          FROM shared_hl_user_days AS _hl_user_days
          WHERE
            NOT (
              account_id IS NULL
            )
        ) AS d
      ) AS g
      CROSS JOIN shared_hl_bounds AS sb
      WHERE
        (
          g.next_date IS NULL
          OR g.next_date > CAST(DATE_ADD(DAY, 7, g.activity_date) AS Nullable(Date32))
        )
        AND CAST(DATE_ADD(DAY, 7, g.activity_date) AS Nullable(Date32)) <= sb.last_date
    ) AS s
    JOIN (
      SELECT DISTINCT
        account_id AS account_id,
        activity_date AS activity_date
      FROM shared_hl_user_days AS _hl_user_days
      WHERE
        NOT (
          account_id IS NULL
        )
    ) AS a
      ON a.account_id = s.account_id
      AND a.activity_date >= CAST(DATE_ADD(DAY, -29, s.activity_date) AS Nullable(Date32))
      AND a.activity_date <= s.activity_date
    GROUP BY
      s.account_id,
      s.activity_date
    HAVING
      COUNT(*) >= 3
  ) AS q
  UNION ALL
  SELECT
    CONCAT(
      COALESCE('nps_gone_quiet', ''),
      COALESCE(':', ''),
      COALESCE(CAST(q.account_id AS Nullable(String)), ''),
      COALESCE('::', ''),
      COALESCE(
        formatDateTime(CAST(DATE_ADD(DAY, 10, q.activity_date) AS Nullable(Date32)), '%Y-%m-%d'),
        ''
      )
    ) AS alert_id,
    'stale_data' AS alert_type,
    'nps_gone_quiet' AS rule,
    CAST(q.account_id AS Nullable(String)) AS account_id,
    CAST(NULL AS Nullable(String)) AS user_id,
    CAST(DATE_ADD(DAY, 10, q.activity_date) AS Nullable(Date32)) AS detected_date,
    CAST(DATE_ADD(
      HOUR,
      120,
      CAST(CAST(DATE_ADD(DAY, 1, CAST(DATE_ADD(DAY, 10, q.activity_date) AS Nullable(Date32))) AS Nullable(Date32)) AS Nullable(DateTime64(6, 'UTC')))
    ) AS Nullable(DateTime64(6, 'UTC'))) AS respond_by,
    'no events for 10 days, after events on at least 1 of the 180 days before' AS reason,
    CAST(NULL AS Nullable(String)) AS score
  FROM (
    SELECT
      s.account_id AS account_id,
      s.activity_date AS activity_date
    FROM (
      SELECT
        g.account_id AS account_id,
        g.activity_date AS activity_date
      FROM (
        SELECT
          account_id AS account_id,
          activity_date AS activity_date,
          leadInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS next_date
        FROM (
          SELECT DISTINCT
            account_id AS account_id,
            activity_date AS activity_date
          FROM (
            SELECT
              account_id AS account_id,
              CAST(toTimeZone(responded_at, 'Europe/Berlin') AS Nullable(Date32)) AS activity_date
            FROM raw.nps
            WHERE
              NOT (
                account_id IS NULL
              ) AND NOT (
                responded_at IS NULL
              )
          ) AS r
        ) AS d
      ) AS g
      CROSS JOIN (
        SELECT
          MAX(activity_date) AS last_date
        FROM (
          SELECT
            account_id AS account_id,
            CAST(toTimeZone(responded_at, 'Europe/Berlin') AS Nullable(Date32)) AS activity_date
          FROM raw.nps
          WHERE
            NOT (
              account_id IS NULL
            ) AND NOT (
              responded_at IS NULL
            )
        ) AS r
      ) AS sb
      WHERE
        (
          g.next_date IS NULL
          OR g.next_date > CAST(DATE_ADD(DAY, 10, g.activity_date) AS Nullable(Date32))
        )
        AND CAST(DATE_ADD(DAY, 10, g.activity_date) AS Nullable(Date32)) <= sb.last_date
    ) AS s
    JOIN (
      SELECT DISTINCT
        account_id AS account_id,
        activity_date AS activity_date
      FROM (
        SELECT
          account_id AS account_id,
          CAST(toTimeZone(responded_at, 'Europe/Berlin') AS Nullable(Date32)) AS activity_date
        FROM raw.nps
        WHERE
          NOT (
            account_id IS NULL
          ) AND NOT (
            responded_at IS NULL
          )
      ) AS r
    ) AS a
      ON a.account_id = s.account_id
      AND a.activity_date >= CAST(DATE_ADD(DAY, -179, s.activity_date) AS Nullable(Date32))
      AND a.activity_date <= s.activity_date
    GROUP BY
      s.account_id,
      s.activity_date
    HAVING
      COUNT(*) >= 1
  ) AS q
  UNION ALL
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
    CAST(t.account_id AS Nullable(String)) AS account_id,
    CAST(t.user_id AS Nullable(String)) AS user_id,
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
CROSS JOIN shared_hl_bounds AS cb
