-- id: lambda-invoke-new-principal
-- title: Lambda function invoked by a principal or account never seen invoking it
-- severity: medium
-- mitre: T1648, T1078
-- description: The first Invoke of a function by a principal (a role counted as a whole, whatever
--   its session names; a user; a service; an account), on a function whose invokes the lake has
--   seen for at least the baseline. The evidence is that principal's invokes in its first hour.
--   Needs Lambda data events in the trail.
-- false_positives: a new consumer of the function, a renamed role
-- param: baseline = '24 hours' | how much invoke history of the function must precede a newcomer
WITH inv AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         concat(coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn,
                         useridentity.invokedby, useridentity.principalid), ' (account ',
                coalesce(useridentity.accountid, '?'), ')') AS principal,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com' AND eventname = 'Invoke'
),
known AS (
  SELECT account, region, fn, min(eventtime) AS since FROM inv GROUP BY account, region, fn
),
newcomers AS (
  SELECT account, region, fn, principal, min(eventtime) AS t FROM inv GROUP BY account, region, fn, principal
)
SELECT min(i.eventtime) AS first_seen, max(i.eventtime) AS last_seen, i.account, i.region,
       min(i.actor) AS actor, min(i.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(i.eventid ORDER BY i.eventtime) AS eventids, array_agg(DISTINCT i.source_uri) AS source_uris,
       concat(i.principal, ' invoked function ', i.fn, ' for the first time (', count(*),
              ' invokes in its first hour)') AS summary
FROM inv i
JOIN newcomers n ON i.account = n.account AND i.region = n.region AND i.fn = n.fn AND i.principal = n.principal
JOIN known k ON i.account = k.account AND i.region = k.region AND i.fn = k.fn
WHERE n.t >= k.since + INTERVAL '24 hours' /* baseline */
  AND i.eventtime < n.t + INTERVAL '1 hour'
GROUP BY i.account, i.region, i.fn, i.principal
