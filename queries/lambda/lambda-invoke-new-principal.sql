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
marked AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, region, fn) AS since,
            min(eventtime) OVER (PARTITION BY account, region, fn, principal) AS first_invoke
  FROM inv
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region,
       min(actor) AS actor, min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(principal, ' invoked function ', fn, ' for the first time (', count(*),
              ' invokes in its first hour)') AS summary
FROM marked
WHERE first_invoke >= since + INTERVAL '24 hours' /* baseline */
  AND eventtime < first_invoke + INTERVAL '1 hour'
GROUP BY account, region, fn, principal
