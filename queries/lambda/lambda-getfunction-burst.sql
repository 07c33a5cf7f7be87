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
firsts AS (
  SELECT account, region, actor, fn, min(eventtime) AS t FROM ev GROUP BY account, region, actor, fn
),
sliding AS (
  SELECT account, region, actor, t,
         count(*) OVER (PARTITION BY account, region, actor ORDER BY t
                        RANGE BETWEEN INTERVAL '10 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM firsts
),
bursts AS (
  SELECT account, region, actor, max(t) AS burst_end FROM sliding
  WHERE n >= 10 /* min_functions */ GROUP BY account, region, actor
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(e.actor, ' downloaded the code of ', count(DISTINCT e.fn), ' functions within ', '10 minutes' /* window */) AS summary
FROM ev e JOIN bursts b ON e.account = b.account AND e.region = b.region AND e.actor = b.actor
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '10 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.region, e.actor
