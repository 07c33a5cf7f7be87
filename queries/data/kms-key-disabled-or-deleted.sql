-- id: kms-key-disabled-or-deleted
-- title: KMS key scheduled for deletion or disabled
-- severity: high
-- mitre: T1485, T1486
-- description: ScheduleKeyDeletion or DisableKey. Everything encrypted under the key becomes
--   unreadable (for good once deletion completes): sabotage, or ransom of encrypted data.
-- false_positives: retiring keys no longer in use (check with GetKeyRotationStatus history)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'keyId') AS key_id,
         json_get_int(requestparameters, 'pendingWindowInDays') AS days
  FROM cloudtrail
  WHERE eventsource = 'kms.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('ScheduleKeyDeletion', 'DisableKey')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, CASE WHEN eventname = 'DisableKey' THEN ' disabled KMS key ' ELSE ' scheduled the deletion of KMS key ' END,
              key_id, coalesce(concat(' in ', min(days), ' days'), '')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, key_id
