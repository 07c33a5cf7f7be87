-- id: control-plane-change
-- title: Control-plane change (IAM, STS, Organizations, KMS, CloudTrail, Config, GuardDuty)
-- severity: info
-- mitre: T1098
-- description: Every successful write to IAM, STS, Organizations, KMS, CloudTrail, Config or
--   GuardDuty, one finding per identity, API and hour. Not an alarm: it marks in timelines and
--   summaries every change to who may do what and to what watches the account, so none is missed
--   between the rules' findings. `detect --min-severity info` lists them.
-- false_positives: all routine changes (that is the point)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventsource, eventname,
         date_trunc('hour', eventtime) AS hour
  FROM cloudtrail
  WHERE readonly = false AND errorcode IS NULL
    AND eventsource IN ('iam.amazonaws.com', 'sts.amazonaws.com', 'organizations.amazonaws.com', 'kms.amazonaws.com',
                        'cloudtrail.amazonaws.com', 'config.amazonaws.com', 'guardduty.amazonaws.com')
    AND eventname NOT IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken',
                          'GetFederationToken', 'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
                          'ReEncrypt', 'Sign', 'Verify', 'GenerateRandom')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' called ', eventname, ' (', eventsource, ')',
              CASE WHEN count(*) > 1 THEN concat(' ', count(*), ' times') ELSE '' END) AS summary
FROM ev
GROUP BY account, region, actor, eventsource, eventname, hour
