-- id: bedrock-model-access-enabled
-- title: Bedrock model access turned on
-- severity: high
-- mitre: T1496, T1578
-- description: PutFoundationModelEntitlement, PutUseCaseForModelAccess or
--   CreateFoundationModelAgreement: someone asked for access to a foundation model. In LLM
--   hijacking, a stolen key enables models the account never used and then sells or uses the
--   invocations. Medium on its own; high when the same identity then invokes a model.
-- false_positives: a team starting its first Bedrock project
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname, json_get_str(requestparameters, 'modelId') AS model
  FROM cloudtrail
  WHERE eventsource = 'bedrock.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('PutFoundationModelEntitlement', 'PutUseCaseForModelAccess', 'CreateFoundationModelAgreement')
),
invokers AS (
  SELECT DISTINCT account, actor(useridentity) AS actor FROM cloudtrail
  WHERE eventsource = 'bedrock.amazonaws.com'
    AND eventname IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN bool_or(i.actor IS NOT NULL) THEN 'high' ELSE 'medium' END AS severity,
       concat(e.actor, ' turned on access to ', coalesce(array_to_string(array_sort(array_distinct(array_agg(e.model))), ', '), 'a model'),
              ' (', array_to_string(array_sort(array_distinct(array_agg(e.eventname))), ', '), ')',
              CASE WHEN bool_or(i.actor IS NOT NULL) THEN ' and invoked models' ELSE '' END) AS summary
FROM ev e LEFT JOIN invokers i ON e.account = i.account AND e.actor = i.actor
GROUP BY e.account, e.region, e.actor
