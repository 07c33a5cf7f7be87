-- id: cloudtrail-event-selectors-reduced
-- title: CloudTrail event selectors drop events
-- severity: high
-- mitre: T1562.008
-- description: PutEventSelectors that stops recording management events, records only reads or
--   only writes, excludes management event sources (such as KMS or RDS data API), or clears the
--   selectors: the trail keeps running but stops seeing what the attacker does.
-- false_positives: cost tuning that excludes noisy KMS or data events on purpose
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'trailName') AS trail,
         requestparameters AS req
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname = 'PutEventSelectors' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' changed the event selectors of trail ', trail, ' so that events are no longer recorded') AS summary
FROM ev
WHERE regexp_like(req, '"includeManagementEvents"\s*:\s*false')
   OR regexp_like(req, '"readWriteType"\s*:\s*"(ReadOnly|WriteOnly)"')
   OR regexp_like(req, '"excludeManagementEventSources"\s*:\s*\[\s*"')
   OR regexp_like(req, '"(eventSelectors|advancedEventSelectors)"\s*:\s*\[\s*\]')
GROUP BY account, region, actor, actor_arn, trail
