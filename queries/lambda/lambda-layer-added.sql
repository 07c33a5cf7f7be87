-- id: lambda-layer-added
-- title: Lambda layer attached to a function
-- severity: low
-- mitre: T1525
-- description: CreateFunction or UpdateFunctionConfiguration (any API version) that sets layers
--   from the function's own account. A layer's code runs inside every invocation, so a new layer
--   is a quiet way to plant code. Layers from another account are the high-severity
--   lambda-layer-foreign-account.
-- false_positives: shared in-house layers rolled out by the deploy pipeline
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         json_get_json(requestparameters, 'layers') AS layers
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND (eventname LIKE 'UpdateFunctionConfiguration%' OR eventname LIKE 'CreateFunction%')
    AND lambda_api(eventname) IN ('UpdateFunctionConfiguration', 'CreateFunction')
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' attached layers ', min(layers), ' to function ', fn) AS summary
FROM ev
WHERE regexp_like(layers, ':layer:')
  AND NOT regexp_like(regexp_replace(layers, concat(':lambda:[a-z0-9-]+:', account, ':layer'), '', 'g'), ':lambda:[a-z0-9-]+:[0-9]{12}:layer')
GROUP BY account, region, actor, actor_arn, fn
