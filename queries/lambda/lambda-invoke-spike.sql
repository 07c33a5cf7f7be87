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
counted AS (
  SELECT *, count(*) OVER (PARTITION BY account, region, fn, hour, actor) AS n,
         count(*) OVER (PARTITION BY account, region, fn, hour) AS this_hour,
         count(*) OVER (PARTITION BY account, region, fn ORDER BY hour
                        RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to_hour,
         min(hour) OVER (PARTITION BY account, region, fn) AS first_hour
  FROM inv
),
scored AS (
  SELECT *, CAST(up_to_hour - this_hour AS DOUBLE) AS before,
         (date_part('epoch', hour) - date_part('epoch', first_hour)) / 3600 AS history_hours
  FROM counted
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' invoked function ', fn, ' ', count(*), ' times in the hour from ', min(hour),
              ' against a baseline of ', round(min(before / history_hours), 2), ' per hour') AS summary
FROM scored
WHERE history_hours >= 6 /* min_history_hours */
  AND n >= 50 /* min_invokes */
  AND n >= 10 /* spike_factor */ * (before / history_hours)
GROUP BY account, region, actor, fn, hour
