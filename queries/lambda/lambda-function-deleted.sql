-- id: lambda-function-deleted
-- title: Lambda function deleted
-- severity: medium
-- mitre: T1485, T1070
-- description: DeleteFunction (any API version). Destroys the function and its configuration;
--   after a takeover, attackers delete what they planted.
-- false_positives: decommissioning by the deploy pipeline or infrastructure-as-code
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'DeleteFunction%' AND lambda_api(eventname) = 'DeleteFunction'
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' deleted function ', fn) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn
