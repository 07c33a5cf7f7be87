-- id: lambda-code-updated-by-new-identity
-- title: Lambda code changed by an identity that never deployed it before
-- severity: medium
-- mitre: T1525
-- description: UpdateFunctionCode (any API version) by a role or user (role sessions counted by
--   their role) that had not updated that function's code before, on a function the lake has
--   known for at least the baseline. A stolen deploy key shows up here even when it is a role.
-- false_positives: a new pipeline or a renamed deploy role; the first deploy after a migration
-- param: baseline = '24 hours' | how much of the function's history must precede a new deployer
WITH calls AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn,
         coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS deployer,
         lambda_api(eventname) AS api,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
),
known AS (
  SELECT account, region, fn, min(eventtime) AS since FROM calls WHERE fn IS NOT NULL GROUP BY account, region, fn
),
updates AS (
  SELECT * FROM calls WHERE api = 'UpdateFunctionCode'
),
firsts AS (
  SELECT account, region, fn, deployer, min(eventtime) AS first_update FROM updates GROUP BY account, region, fn, deployer
)
SELECT min(u.eventtime) AS first_seen, max(u.eventtime) AS last_seen, u.account, u.region, u.actor, u.actor_arn,
       count(*) AS event_count, array_agg(u.eventid ORDER BY u.eventtime) AS eventids,
       array_agg(DISTINCT u.source_uri) AS source_uris,
       concat(u.actor, ' updated the code of function ', u.fn, ', which ', f.deployer, ' had never deployed before') AS summary
FROM updates u
JOIN firsts f ON u.account = f.account AND u.region = f.region AND u.fn = f.fn AND u.deployer = f.deployer
JOIN known k ON u.account = k.account AND u.region = k.region AND u.fn = k.fn
WHERE u.eventtime = f.first_update
  AND f.first_update >= k.since + INTERVAL '24 hours' /* baseline */
GROUP BY u.account, u.region, u.actor, u.actor_arn, u.fn, f.deployer
