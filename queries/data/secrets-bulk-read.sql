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
firsts AS (
  SELECT account, region, actor, secret, min(eventtime) AS t FROM ev GROUP BY account, region, actor, secret
),
sliding AS (
  SELECT account, region, actor, t,
         count(*) OVER (PARTITION BY account, region, actor ORDER BY t
                        RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM firsts
),
bursts AS (
  SELECT account, region, actor, max(t) AS burst_end FROM sliding WHERE n >= 5 /* min_secrets */ GROUP BY account, region, actor
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(e.actor, ' read ', count(DISTINCT e.secret), ' secrets: ', array_to_string(array_agg(DISTINCT e.secret), ', ')) AS summary
FROM ev e JOIN bursts b ON e.account = b.account AND e.region = b.region AND e.actor = b.actor
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '60 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.region, e.actor
