-- id: lambda-role-changed
-- title: Lambda execution role changed
-- severity: high
-- mitre: T1098, T1548
-- description: UpdateFunctionConfiguration (any API version) that sets a new execution role. The
--   function's code then runs with that role's permissions: a privilege-escalation path when the
--   caller may pass a stronger role.
-- false_positives: role refactoring by the deploy pipeline
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         json_get_str(requestparameters, 'role') AS role
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'UpdateFunctionConfiguration%' AND lambda_api(eventname) = 'UpdateFunctionConfiguration'
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'role') IS NOT NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' made function ', fn, ' run as ', role) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn, role
