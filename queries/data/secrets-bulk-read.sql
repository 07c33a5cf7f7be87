-- id: secrets-bulk-read
-- title: Many secrets read by one identity in a short time
-- severity: high
-- mitre: T1555.006, T1552
-- description: GetSecretValue and BatchGetSecretValue by one identity (a user, or a role whatever
--   its session names) on at least min_secrets secrets it had never read before, within the
--   window. Applications and nightly jobs read the same few secrets again and again, so only
--   first reads count, and when an account's data covers more than the learning period, reads
--   in its first learning period are the baseline and never count. A BatchGetSecretValue by
--   list counts each secret listed; one by filter returns every match and counts as min_secrets
--   on its own (the filter is the new thing read).
-- false_positives: a new service's first start after the learning period; rotation or
--   migration jobs
-- param: min_secrets = 5 | distinct secrets first read within the window
-- param: window = '60 minutes' | the sliding window
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         principal(useridentity) AS who,
         CASE WHEN eventname = 'GetSecretValue' THEN json_get_str(requestparameters, 'secretId')
              WHEN json_get_json(requestparameters, 'secretIdList') IS NOT NULL THEN json_get_json(requestparameters, 'secretIdList')
              ELSE concat('filter ', coalesce(json_get_json(requestparameters, 'filters'), 'none')) END AS secret,
         CASE WHEN eventname = 'GetSecretValue' THEN 1
              WHEN json_get_json(requestparameters, 'secretIdList') IS NOT NULL
                THEN coalesce(json_length(requestparameters, 'secretIdList'), 1)
              ELSE 5 /* min_secrets */ END AS weight
  FROM cloudtrail
  WHERE eventsource = 'secretsmanager.amazonaws.com'
    AND eventname IN ('GetSecretValue', 'BatchGetSecretValue') AND errorcode IS NULL
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
marked AS (
  SELECT e.*, e.eventtime = min(e.eventtime) OVER (PARTITION BY e.account, e.region, e.who, e.secret)
              AND e.eventtime >= l.since AS first_read
  FROM ev e JOIN learned l ON e.account = l.account
),
sliding AS (
  SELECT *, sum(CASE WHEN first_read THEN weight ELSE 0 END) OVER (PARTITION BY account, region, who ORDER BY eventtime
              RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 5 /* min_secrets */ THEN eventtime END) OVER (PARTITION BY account, region, who) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, min(actor) AS actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(min(actor), ' read ', sum(CASE WHEN first_read THEN weight ELSE 0 END), ' secrets for the first time',
              CASE WHEN bool_or(secret LIKE 'filter %') THEN ' (batch reads by filter count as many)' ELSE '' END, ': ',
              array_to_string(array_sort(array_distinct(array_agg(secret))), ', ')) AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '60 minutes' /* window */ AND burst_end
GROUP BY account, region, who
