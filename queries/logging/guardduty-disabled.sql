-- id: guardduty-disabled
-- title: GuardDuty detector deleted or disabled
-- severity: critical
-- mitre: T1562.001
-- description: DeleteDetector, UpdateDetector with enable false, or the account leaving its
--   GuardDuty administrator (DisassociateFromMasterAccount / DisassociateFromAdministratorAccount):
--   threat detection switched off in that region.
-- false_positives: moving GuardDuty management to a delegated administrator
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'detectorId') AS detector
  FROM cloudtrail
  WHERE eventsource = 'guardduty.amazonaws.com' AND errorcode IS NULL
    AND (eventname IN ('DeleteDetector', 'DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount')
         OR (eventname = 'UpdateDetector' AND json_get_bool(requestparameters, 'enable') = false))
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' switched off GuardDuty in ', region, ' (', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '),
              coalesce(concat(' detector ', detector), ''), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, detector
