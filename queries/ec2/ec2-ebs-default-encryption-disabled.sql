-- id: ec2-ebs-default-encryption-disabled
-- title: EBS encryption by default turned off, or its key changed to another account's
-- severity: high
-- mitre: T1486, T1562
-- description: DisableEbsEncryptionByDefault, or ModifyEbsDefaultKmsKeyId to a KMS key of another
--   account. New volumes and snapshot copies are then written unencrypted, or with a key the
--   attacker holds: a step before taking data or holding it to ransom. Accounts set this once.
-- false_positives: none expected; compliance tooling re-applying the same setting
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname,
         arn_account(coalesce(regexp_match(requestparameters, '"(?i:kmsKeyId)"\s*:\s*"([^"]+)"')[1], '')) AS key_account
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('DisableEbsEncryptionByDefault', 'ModifyEbsDefaultKmsKeyId')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' ', CASE WHEN bool_or(eventname = 'DisableEbsEncryptionByDefault')
                               THEN concat('turned off EBS encryption by default in ', region)
                               ELSE concat('made a KMS key of account ', min(key_account), ' the EBS default in ', region) END) AS summary
FROM ev
WHERE eventname = 'DisableEbsEncryptionByDefault'
   OR (key_account IS NOT NULL AND key_account <> '' AND key_account <> account)
GROUP BY account, region, actor
