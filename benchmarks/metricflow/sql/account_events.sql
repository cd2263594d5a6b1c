WITH sma_10001_cte AS (
  SELECT
    DATE_TRUNC('day', activity_date) AS metric_time__day
    , account_id AS event__account_id
    , user_id AS __core_event_users
  FROM "metricflow"."main"."core_events" core_events_src_10000
)

SELECT
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day) AS metric_time__day
  , COALESCE(subq_9.event__account_id, subq_18.event__account_id, subq_27.event__account_id) AS event__account_id
  , MAX(subq_9.dau_events) AS dau_events
  , MAX(subq_18.wau_events) AS wau_events
  , MAX(subq_27.mau_events) AS mau_events
FROM (
  SELECT
    subq_3.date_day AS metric_time__day
    , sma_10001_cte.event__account_id AS event__account_id
    , COUNT(DISTINCT sma_10001_cte.__core_event_users) AS dau_events
  FROM "metricflow"."main"."metricflow_time_spine" subq_3
  INNER JOIN
    sma_10001_cte
  ON
    (
      sma_10001_cte.metric_time__day <= subq_3.date_day
    ) AND (
      sma_10001_cte.metric_time__day > subq_3.date_day - INTERVAL 1 day
    )
  GROUP BY
    subq_3.date_day
    , sma_10001_cte.event__account_id
) subq_9
FULL OUTER JOIN (
  SELECT
    subq_12.date_day AS metric_time__day
    , sma_10001_cte.event__account_id AS event__account_id
    , COUNT(DISTINCT sma_10001_cte.__core_event_users) AS wau_events
  FROM "metricflow"."main"."metricflow_time_spine" subq_12
  INNER JOIN
    sma_10001_cte
  ON
    (
      sma_10001_cte.metric_time__day <= subq_12.date_day
    ) AND (
      sma_10001_cte.metric_time__day > subq_12.date_day - INTERVAL 7 day
    )
  GROUP BY
    subq_12.date_day
    , sma_10001_cte.event__account_id
) subq_18
ON
  (
    subq_9.event__account_id = subq_18.event__account_id
  ) AND (
    subq_9.metric_time__day = subq_18.metric_time__day
  )
FULL OUTER JOIN (
  SELECT
    subq_21.date_day AS metric_time__day
    , sma_10001_cte.event__account_id AS event__account_id
    , COUNT(DISTINCT sma_10001_cte.__core_event_users) AS mau_events
  FROM "metricflow"."main"."metricflow_time_spine" subq_21
  INNER JOIN
    sma_10001_cte
  ON
    (
      sma_10001_cte.metric_time__day <= subq_21.date_day
    ) AND (
      sma_10001_cte.metric_time__day > subq_21.date_day - INTERVAL 30 day
    )
  GROUP BY
    subq_21.date_day
    , sma_10001_cte.event__account_id
) subq_27
ON
  (
    COALESCE(subq_9.event__account_id, subq_18.event__account_id) = subq_27.event__account_id
  ) AND (
    COALESCE(subq_9.metric_time__day, subq_18.metric_time__day) = subq_27.metric_time__day
  )
GROUP BY
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day)
  , COALESCE(subq_9.event__account_id, subq_18.event__account_id, subq_27.event__account_id)
