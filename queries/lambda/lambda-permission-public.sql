-- id: lambda-permission-public
-- title: Lambda function policy lets anyone invoke it
-- severity: high
-- mitre: T1546, T1098
-- description: AddPermission (any API version) with principal "*" and no source ARN, source
--   account or organisation condition: anyone on the internet who knows the ARN can invoke it.
-- false_positives: functions deliberately public behind their own authentication (rare; a
--   function URL or API Gateway is the usual way)
-- references: https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'functionName') AS fn,
         json_get_str(requestparameters, 'action') AS action
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'AddPermission%' AND lambda_api(eventname) = 'AddPermission'
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'principal') = '*'
    AND json_get_str(requestparameters, 'sourceArn') IS NULL
    AND json_get_str(requestparameters, 'sourceAccount') IS NULL
    AND json_get_str(requestparameters, 'principalOrgID') IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' let anyone (*) call ', coalesce(action, 'lambda:*'), ' on function ', fn) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn, action
