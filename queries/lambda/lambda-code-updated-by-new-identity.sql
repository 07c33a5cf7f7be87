-- id: lambda-code-updated-by-new-identity
-- title: Lambda code changed by an identity that never deployed it before
-- severity: medium
-- mitre: T1525
-- description: UpdateFunctionCode (any API version) by a principal (a user, or a role whatever its
--   session names) that had not updated that function's code before, on a function the lake
--   has known for at least the baseline. A stolen deploy key shows up here even when it is a
--   role. Graded: medium when the principal never deployed code to any function of the account
--   before (at least an hour earlier, or during the account's learning period); low when it
--   deploys other functions (a pipeline taking on a new function). Updates within an account's
--   learning period are the baseline and never reported, when its data covers more than that.
-- false_positives: a new pipeline or a renamed deploy role; the first deploy after a migration
-- param: baseline = '24 hours' | how much of the function's history must precede a new deployer
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH
-- The functions' first appearance needs every Lambda event, but only their names; who acted is
-- worked out for the code updates alone.
known AS (
  SELECT account, region, lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         min(eventtime) AS since
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
  GROUP BY 1, 2, 3
),
-- Each deployer's first update of each function, and of any function, beside every update: one
-- read of the updates (windows, not self-joins, which would read them three times).
updates AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, region, fn, deployer) AS first_update,
         min(eventtime) OVER (PARTITION BY account, deployer) AS first_any
  FROM (
    SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
           useridentity.arn AS actor_arn, principal(useridentity) AS deployer,
           lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
    FROM cloudtrail
    WHERE eventsource = 'lambda.amazonaws.com' AND eventname LIKE 'UpdateFunctionCode%'
      AND lambda_api(eventname) = 'UpdateFunctionCode'
  )
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
)
SELECT min(u.eventtime) AS first_seen, max(u.eventtime) AS last_seen, u.account, u.region, u.actor, u.actor_arn,
       count(*) AS event_count, array_agg(u.eventid ORDER BY u.eventtime, u.eventid) AS eventids,
       array_sort(array_distinct(array_agg(u.source_uri))) AS source_uris,
       CASE WHEN min(u.first_any) < min(l.since) OR min(u.first_any) < min(u.eventtime) - INTERVAL '1 hour' THEN 'low'
            ELSE 'medium' END AS severity,
       concat(u.actor, ' updated the code of function ', u.fn, ', which ', u.deployer, ' had never deployed before',
              CASE WHEN min(u.first_any) < min(l.since) OR min(u.first_any) < min(u.eventtime) - INTERVAL '1 hour'
                   THEN ' (it deploys other functions)' ELSE '' END) AS summary
FROM updates u
JOIN known k ON u.account = k.account AND u.region = k.region AND u.fn = k.fn
JOIN learned l ON u.account = l.account
WHERE u.eventtime = u.first_update
  AND u.first_update >= k.since + INTERVAL '24 hours' /* baseline */
  AND u.first_update >= l.since
GROUP BY u.account, u.region, u.actor, u.actor_arn, u.fn, u.deployer
