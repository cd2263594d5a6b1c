WITH sma_10002_cte AS (
  SELECT
    DATE_TRUNC('day', activity_date) AS metric_time__day
    , account_id AS user_day__account_id
    , user_id AS __active_users
  FROM "metricflow"."main"."user_days" user_days_src_10000
)

SELECT
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day) AS metric_time__day
  , COALESCE(subq_9.user_day__account_id, subq_18.user_day__account_id, subq_27.user_day__account_id) AS user_day__account_id
  , MAX(subq_9.dau) AS dau
  , MAX(subq_18.wau) AS wau
  , MAX(subq_27.mau) AS mau
FROM (
  SELECT
    subq_3.date_day AS metric_time__day
    , sma_10002_cte.user_day__account_id AS user_day__account_id
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS dau
  FROM "metricflow"."main"."metricflow_time_spine" subq_3
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_3.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_3.date_day - INTERVAL 1 day
    )
  GROUP BY
    subq_3.date_day
    , sma_10002_cte.user_day__account_id
) subq_9
FULL OUTER JOIN (
  SELECT
    subq_12.date_day AS metric_time__day
    , sma_10002_cte.user_day__account_id AS user_day__account_id
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS wau
  FROM "metricflow"."main"."metricflow_time_spine" subq_12
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_12.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_12.date_day - INTERVAL 7 day
    )
  GROUP BY
    subq_12.date_day
    , sma_10002_cte.user_day__account_id
) subq_18
ON
  (
    subq_9.user_day__account_id = subq_18.user_day__account_id
  ) AND (
    subq_9.metric_time__day = subq_18.metric_time__day
  )
FULL OUTER JOIN (
  SELECT
    subq_21.date_day AS metric_time__day
    , sma_10002_cte.user_day__account_id AS user_day__account_id
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS mau
  FROM "metricflow"."main"."metricflow_time_spine" subq_21
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_21.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_21.date_day - INTERVAL 30 day
    )
  GROUP BY
    subq_21.date_day
    , sma_10002_cte.user_day__account_id
) subq_27
ON
  (
    COALESCE(subq_9.user_day__account_id, subq_18.user_day__account_id) = subq_27.user_day__account_id
  ) AND (
    COALESCE(subq_9.metric_time__day, subq_18.metric_time__day) = subq_27.metric_time__day
  )
GROUP BY
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day)
  , COALESCE(subq_9.user_day__account_id, subq_18.user_day__account_id, subq_27.user_day__account_id)
