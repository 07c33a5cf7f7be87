-- id: secrets-bulk-read
-- title: Many secrets read by one identity in a short time
-- severity: high
-- mitre: T1555.006, T1552
-- description: GetSecretValue (or BatchGetSecretValue) by one identity on at least min_secrets
--   secrets it had never read before, within the window. Applications read the same few secrets
--   again and again; someone harvesting credentials reads many new ones at once.
-- false_positives: a new service's first start; secret rotation or migration jobs
-- param: min_secrets = 5 | distinct secrets first read within the window
-- param: window = '60 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         coalesce(json_get_str(requestparameters, 'secretId'), json_get_json(requestparameters, 'secretIdList')) AS secret
  FROM cloudtrail
  WHERE eventsource = 'secretsmanager.amazonaws.com'
    AND eventname IN ('GetSecretValue', 'BatchGetSecretValue') AND errorcode IS NULL
),
marked AS (
  SELECT *, eventtime = min(eventtime) OVER (PARTITION BY account, region, actor, secret) AS first_read FROM ev
),
sliding AS (
  SELECT *, sum(CASE WHEN first_read THEN 1 ELSE 0 END) OVER (PARTITION BY account, region, actor ORDER BY eventtime
              RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 5 /* min_secrets */ THEN eventtime END) OVER (PARTITION BY account, region, actor) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime) AS eventids, array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor, ' read ', count(DISTINCT secret), ' secrets: ', array_to_string(array_agg(DISTINCT secret), ', ')) AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '60 minutes' /* window */ AND burst_end
GROUP BY account, region, actor
