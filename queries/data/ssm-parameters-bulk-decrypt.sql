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
marked AS (
  SELECT *, eventtime = min(eventtime) OVER (PARTITION BY account, region, actor, param) AS first_read FROM ev
),
sliding AS (
  SELECT *, sum(CASE WHEN first_read THEN 1 ELSE 0 END) OVER (PARTITION BY account, region, actor ORDER BY eventtime
              RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 10 /* min_parameters */ THEN eventtime END) OVER (PARTITION BY account, region, actor) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime) AS eventids, array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor, ' decrypted ', count(DISTINCT param), ' SSM parameters or paths') AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '60 minutes' /* window */ AND burst_end
GROUP BY account, region, actor
