-- id: lambda-concurrency-zero
-- title: Lambda function throttled to zero concurrency
-- severity: medium
-- mitre: T1489
-- description: PutFunctionConcurrency (any API version) with reservedConcurrentExecutions 0: the
--   function can no longer run at all. A denial of service, or a way to silence a security
--   function (an auto-remediation or log shipper).
-- false_positives: an emergency stop during an incident
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'PutFunctionConcurrency%' AND lambda_api(eventname) = 'PutFunctionConcurrency'
    AND errorcode IS NULL
    AND json_get_int(requestparameters, 'reservedConcurrentExecutions') = 0
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' set the concurrency of function ', fn, ' to 0, so it cannot run') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn
