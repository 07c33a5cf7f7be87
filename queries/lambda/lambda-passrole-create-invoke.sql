-- id: lambda-passrole-create-invoke
-- title: Function created with a passed role and invoked by the same identity
-- severity: high
-- mitre: T1548, T1078.004
-- description: CreateFunction (any API version) with an execution role, then Invoke of that
--   function by the same identity within the window. The iam:PassRole privilege escalation:
--   a principal that cannot act as the role wraps it in a function and runs it.
-- false_positives: developers testing a function they just created; check the role's rights
-- param: window = '60 minutes' | how long after the create an invoke still counts
WITH creates AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         json_get_str(requestparameters, 'role') AS role
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'CreateFunction%' AND lambda_api(eventname) = 'CreateFunction'
    AND errorcode IS NULL AND json_get_str(requestparameters, 'role') IS NOT NULL
),
invokes AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com' AND eventname = 'Invoke' AND errorcode IS NULL
),
pairs AS (
  SELECT c.account, c.region, c.actor, c.actor_arn, c.fn, c.role,
         c.eventtime AS t0, c.eventid AS id0, c.source_uri AS uri0,
         i.eventtime AS t1, i.eventid AS id1, i.source_uri AS uri1
  FROM creates c JOIN invokes i
    ON c.account = i.account AND c.region = i.region AND c.fn = i.fn AND c.actor = i.actor
  WHERE i.eventtime >= c.eventtime
    AND i.eventtime <= c.eventtime + INTERVAL '60 minutes' /* window */
)
SELECT min(t0) AS first_seen, max(t1) AS last_seen, account, region, actor, actor_arn,
       count(DISTINCT id1) + 1 AS event_count,
       array_distinct(array_concat([min(id0)], array_agg(id1 ORDER BY t1, id1))) AS eventids,
       array_distinct(array_concat(array_sort(array_distinct(array_agg(uri0))), array_sort(array_distinct(array_agg(uri1))))) AS source_uris,
       concat(actor, ' created function ', fn, ' with role ', role, ' and invoked it ', count(DISTINCT id1), ' times') AS summary
FROM pairs
GROUP BY account, region, actor, actor_arn, fn, role
