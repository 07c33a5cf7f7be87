-- id: lambda-invoke-spike
-- title: Lambda function invoked far above its own baseline
-- severity: high
-- mitre: T1648, T1496
-- description: Invoke data events per function, identity and hour, against the function's own
--   earlier rate (all its invokes before that hour, averaged over the hours since its first
--   invoke, quiet hours included). An identity invoking a function at least min_invokes times in
--   an hour and spike_factor times its baseline, after min_history_hours of history, is a
--   finding: a backdoored function being driven, or abuse running up the bill. Needs Lambda data
--   events in the trail.
-- false_positives: launches, batch back-fills, load tests
-- param: min_invokes = 50 | invokes by one identity in the hour
-- param: spike_factor = 10 | times the function's baseline hourly rate
-- param: min_history_hours = 6 | hours of the function's history before a spike can count
WITH inv AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
         date_bin(INTERVAL '1 hour', eventtime) AS hour
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com' AND eventname = 'Invoke'
),
hourly AS (
  SELECT account, region, fn, hour, count(*) AS n FROM inv GROUP BY account, region, fn, hour
),
baseline AS (
  SELECT account, region, fn, hour,
         coalesce(sum(n) OVER (PARTITION BY account, region, fn ORDER BY hour
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
         (date_part('epoch', hour) - date_part('epoch', min(hour) OVER (PARTITION BY account, region, fn))) / 3600 AS history_hours
  FROM hourly
),
per_actor AS (
  SELECT account, region, fn, hour, actor, count(*) AS n FROM inv GROUP BY account, region, fn, hour, actor
),
spikes AS (
  SELECT p.account, p.region, p.fn, p.hour, p.actor, p.n, b.before / b.history_hours AS rate
  FROM per_actor p JOIN baseline b
    ON p.account = b.account AND p.region = b.region AND p.fn = b.fn AND p.hour = b.hour
  WHERE b.history_hours >= 6 /* min_history_hours */
    AND p.n >= 50 /* min_invokes */
    AND p.n >= 10 /* spike_factor */ * (b.before / b.history_hours)
)
SELECT min(i.eventtime) AS first_seen, max(i.eventtime) AS last_seen, i.account, i.region, i.actor,
       min(i.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(i.eventid ORDER BY i.eventtime) AS eventids, array_agg(DISTINCT i.source_uri) AS source_uris,
       concat(i.actor, ' invoked function ', i.fn, ' ', count(*), ' times in the hour from ', min(s.hour),
              ' against a baseline of ', round(min(s.rate), 2), ' per hour') AS summary
FROM inv i JOIN spikes s
  ON i.account = s.account AND i.region = s.region AND i.fn = s.fn AND i.hour = s.hour AND i.actor = s.actor
GROUP BY i.account, i.region, i.actor, i.fn, i.hour
