-- id: securityhub-disabled
-- title: Security Hub disabled or its standards turned off
-- severity: high
-- mitre: T1562.001
-- description: DisableSecurityHub, BatchDisableStandards, or the account leaving its Security Hub
--   administrator: findings stop being collected and checked.
-- false_positives: consolidating Security Hub under a delegated administrator
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname
  FROM cloudtrail
  WHERE eventsource = 'securityhub.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('DisableSecurityHub', 'BatchDisableStandards', 'DisassociateFromMasterAccount',
                      'DisassociateFromAdministratorAccount', 'DisableImportFindingsForProduct')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' turned Security Hub off in ', region, ' (', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
