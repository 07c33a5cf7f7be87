-- id: lambda-url-auth-none
-- title: Lambda function URL with no authentication
-- severity: high
-- mitre: T1190, T1546
-- description: CreateFunctionUrlConfig or UpdateFunctionUrlConfig (any API version) with
--   authType NONE: the function gets a public HTTPS endpoint anyone can call.
-- false_positives: public webhooks that check their own signatures
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_api(eventname) AS api,
         json_get_str(requestparameters, 'functionName') AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE '%FunctionUrlConfig%'
    AND lambda_api(eventname) IN ('CreateFunctionUrlConfig', 'UpdateFunctionUrlConfig')
    AND errorcode IS NULL
    AND upper(json_get_str(requestparameters, 'authType')) = 'NONE'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' gave function ', fn, ' a public URL with no authentication (', min(api), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn
