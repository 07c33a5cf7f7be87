-- id: ssm-parameters-bulk-decrypt
-- title: Many SSM parameters read with decryption in a short time
-- severity: medium
-- mitre: T1552, T1555
-- description: GetParameter, GetParameters or GetParametersByPath with withDecryption true, by one
--   identity on at least min_parameters parameters (or paths) it had not read before, within the
--   window: SecureString values (passwords, tokens) harvested in bulk.
-- false_positives: configuration loaders of new services; parameter migrations
-- param: min_parameters = 10 | distinct parameters or paths first read within the window
-- param: window = '60 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         coalesce(json_get_str(requestparameters, 'name'), json_get_str(requestparameters, 'path'),
                  json_get_json(requestparameters, 'names')) AS param
  FROM cloudtrail
  WHERE eventsource = 'ssm.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
    AND json_get_bool(requestparameters, 'withDecryption')
),
firsts AS (
  SELECT account, region, actor, param, min(eventtime) AS t FROM ev GROUP BY account, region, actor, param
),
sliding AS (
  SELECT account, region, actor, t,
         count(*) OVER (PARTITION BY account, region, actor ORDER BY t
                        RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM firsts
),
bursts AS (
  SELECT account, region, actor, max(t) AS burst_end FROM sliding WHERE n >= 10 /* min_parameters */ GROUP BY account, region, actor
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(e.actor, ' decrypted ', count(DISTINCT e.param), ' SSM parameters or paths') AS summary
FROM ev e JOIN bursts b ON e.account = b.account AND e.region = b.region AND e.actor = b.actor
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '60 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.region, e.actor
