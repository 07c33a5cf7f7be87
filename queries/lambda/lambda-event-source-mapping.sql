-- id: lambda-event-source-mapping
-- title: Lambda event source mapping created
-- severity: low
-- mitre: T1546
-- description: CreateEventSourceMapping (any API version): a queue, stream or table now triggers
--   the function. Attackers use it for persistence (code runs on every new record) or to read a
--   stream's data through a function they control.
-- false_positives: new integrations deployed by the pipeline
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         json_get_str(requestparameters, 'eventSourceArn') AS src
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'CreateEventSourceMapping%' AND lambda_api(eventname) = 'CreateEventSourceMapping'
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' made ', coalesce(src, 'an event source'), ' trigger function ', fn) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn, src
