-- id: ssm-parameters-bulk-decrypt
-- title: Many SSM parameters read with decryption in a short time
-- severity: medium
-- mitre: T1552, T1555
-- description: GetParameter, GetParameters or GetParametersByPath with withDecryption true, by one
--   identity (a user, or a role whatever its session names) on at least min_parameters
--   parameters (or paths) it had not read before, within the window: SecureString values
--   (passwords, tokens) harvested in bulk. A GetParameters call counts each name it lists. As
--   for secrets, only first reads count, and when an account's data covers more than the
--   learning period, its first learning period is the baseline.
-- false_positives: configuration loaders of new services; parameter migrations
-- param: min_parameters = 10 | distinct parameters or paths first read within the window
-- param: window = '60 minutes' | the sliding window
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         principal(useridentity) AS who,
         coalesce(json_get_str(requestparameters, 'name'), json_get_str(requestparameters, 'path'),
                  json_get_json(requestparameters, 'names')) AS param,
         CASE WHEN eventname = 'GetParameters' THEN coalesce(json_length(requestparameters, 'names'), 1) ELSE 1 END AS weight
  FROM cloudtrail
  WHERE eventsource = 'ssm.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
    AND json_get_bool(requestparameters, 'withDecryption')
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
  SELECT e.*, e.eventtime = min(e.eventtime) OVER (PARTITION BY e.account, e.region, e.who, e.param)
              AND e.eventtime >= l.since AS first_read
  FROM ev e JOIN learned l ON e.account = l.account
),
sliding AS (
  SELECT *, sum(CASE WHEN first_read THEN weight ELSE 0 END) OVER (PARTITION BY account, region, who ORDER BY eventtime
              RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 10 /* min_parameters */ THEN eventtime END) OVER (PARTITION BY account, region, who) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, min(actor) AS actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(min(actor), ' decrypted ', sum(CASE WHEN first_read THEN weight ELSE 0 END),
              ' SSM parameters or paths for the first time') AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '60 minutes' /* window */ AND burst_end
GROUP BY account, region, who
