-- id: lambda-env-changed
-- title: Lambda environment variables changed
-- severity: medium
-- mitre: T1574, T1525
-- description: UpdateFunctionConfiguration (any API version) that sets the environment. Attackers
--   change variables to redirect a function (endpoints, AWS_LAMBDA_EXEC_WRAPPER, NODE_OPTIONS,
--   PYTHONPATH) without touching its code, or to read secrets kept there.
-- false_positives: configuration changes by the deploy pipeline; compare with change tickets
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'UpdateFunctionConfiguration%' AND lambda_api(eventname) = 'UpdateFunctionConfiguration'
    AND errorcode IS NULL
    AND json_contains(requestparameters, 'environment')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime) AS eventids,
       array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor, ' changed the environment variables of function ', fn) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn
