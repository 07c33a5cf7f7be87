-- id: config-recorder-stopped
-- title: AWS Config recording stopped
-- severity: high
-- mitre: T1562.001
-- description: StopConfigurationRecorder, DeleteConfigurationRecorder or DeleteDeliveryChannel:
--   resource changes are no longer recorded, and Config rules stop evaluating them. Also
--   PutConfigurationRecorder that stops recording all resource types (allSupported false): the
--   recorder keeps running, blind to what the attacker touches.
-- false_positives: Config set-up being rebuilt by infrastructure code
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname
  FROM cloudtrail
  WHERE eventsource = 'config.amazonaws.com' AND errorcode IS NULL
    AND (eventname IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel')
         OR (eventname = 'PutConfigurationRecorder'
             AND regexp_like(requestparameters, '"allSupported"\s*:\s*false')))
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' stopped AWS Config recording in ', region, ' (', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
