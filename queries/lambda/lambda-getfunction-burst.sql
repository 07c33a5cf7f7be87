-- id: lambda-getfunction-burst
-- title: Many Lambda functions' code downloaded in a short time
-- severity: medium
-- mitre: T1530, T1005
-- description: GetFunction (any API version) returns a link to download the function's code. One
--   identity fetching at least min_functions functions it had not fetched before within
--   window is code theft: code holds secrets, endpoints and weaknesses.
-- false_positives: code scanners and backup tools (they repeat daily: only their first run counts)
-- param: min_functions = 10 | distinct functions first fetched within the window
-- param: window = '10 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'GetFunction%' AND lambda_api(eventname) = 'GetFunction'
    AND errorcode IS NULL
),
marked AS (
  SELECT *, eventtime = min(eventtime) OVER (PARTITION BY account, region, actor, fn) AS first_fetch FROM ev
),
sliding AS (
  SELECT *, sum(CASE WHEN first_fetch THEN 1 ELSE 0 END) OVER (PARTITION BY account, region, actor ORDER BY eventtime
              RANGE BETWEEN INTERVAL '10 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 10 /* min_functions */ THEN eventtime END) OVER (PARTITION BY account, region, actor) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' downloaded the code of ', count(DISTINCT fn), ' functions within ', '10 minutes' /* window */) AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '10 minutes' /* window */ AND burst_end
GROUP BY account, region, actor
