-- id: bedrock-invoke-unusual
-- title: Bedrock models invoked by a new identity or in a burst
-- severity: high
-- mitre: T1496
-- description: InvokeModel, InvokeModelWithResponseStream, Converse or ConverseStream. High for a
--   burst (at least min_calls by one identity within the window, and spike_factor times its
--   usual rate over the account's span in the lake: a hijacked key resold as an LLM proxy); medium for an identity that had not used Bedrock during the account's learning
--   period (each identity's first hour of use is reported). Applications that call models all
--   the time are neither.
-- false_positives: a new application going live; load tests
-- param: min_calls = 100 | calls within the window that make a burst
-- param: window = '10 minutes' | the window
-- param: spike_factor = 10 | how many times its usual rate a burst must be
-- param: learning = '24 hours' | how much of each account's data sets who uses Bedrock
-- Each identity's first call and number of calls beside every call: one read of the calls
-- (windows, not a self-join, which would read them twice).
WITH ev AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, actor) AS first_use,
         count(*) OVER (PARTITION BY account, actor) AS total
  FROM (
    SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
           useridentity.arn AS actor_arn, json_get_str(requestparameters, 'modelId') AS model,
           date_bin(INTERVAL '10 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot
    FROM cloudtrail
    WHERE eventsource = 'bedrock.amazonaws.com'
      AND eventname IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
  )
),
starts AS (
  SELECT account, t0, t1 FROM account_spans
),
slots AS (
  SELECT e.account, e.region, e.actor, e.slot, min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen,
         min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
         array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris, array_sort(array_distinct(array_agg(e.model))) AS models,
         min(e.first_use) AS first_use, min(s.t0) AS t0,
         -- The identity's usual calls per window, over the account's whole span in the lake.
         min(e.total) * (date_part('epoch', e.slot + INTERVAL '10 minutes' /* window */) - date_part('epoch', e.slot))
           / greatest(date_part('epoch', min(s.t1)) - date_part('epoch', min(s.t0)), 3600) AS usual
  FROM ev e JOIN starts s ON e.account = s.account
  GROUP BY e.account, e.region, e.actor, e.slot
)
SELECT first_seen, last_seen, account, region, actor, actor_arn, event_count, eventids, source_uris,
       CASE WHEN burst THEN 'high' ELSE 'medium' END AS severity,
       concat(actor, ' invoked ', array_to_string(models, ', '), ' ', event_count, ' time(s)',
              CASE WHEN burst THEN ' in a burst' ELSE ', its first use of Bedrock' END) AS summary
FROM (SELECT *, event_count >= 100 /* min_calls */ AND event_count >= 10 /* spike_factor */ * usual AS burst FROM slots)
WHERE burst
   OR (first_use >= t0 + INTERVAL '24 hours' /* learning */ AND first_seen < first_use + INTERVAL '60 minutes')
