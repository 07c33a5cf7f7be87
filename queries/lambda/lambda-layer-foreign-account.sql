-- id: lambda-layer-foreign-account
-- title: Lambda layer from another AWS account attached to a function
-- severity: high
-- mitre: T1525, T1195.002
-- description: CreateFunction or UpdateFunctionConfiguration (any API version) that sets a layer
--   published in another account. That account's owner controls code that now runs inside the
--   function with its role: a classic way to backdoor a function.
-- false_positives: vendor layers (monitoring agents, AWS-published extensions such as Lambda
--   Insights or Parameters and Secrets); check the account against the vendor's documentation
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
),
outside AS (
  SELECT *, regexp_replace(layers, concat(':lambda:[a-z0-9-]+:', account, ':layer'), '', 'g') AS others
  FROM ev WHERE layers IS NOT NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' attached a layer from account ',
              (regexp_match(min(others), ':lambda:[a-z0-9-]+:([0-9]{12}):layer'))[1],
              ' to function ', fn, ': ', min(layers)) AS summary
FROM outside
WHERE regexp_like(others, ':lambda:[a-z0-9-]+:[0-9]{12}:layer')
GROUP BY account, region, actor, actor_arn, fn
