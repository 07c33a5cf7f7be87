-- id: critical-action-denied
-- title: Attempt at a critical action denied
-- severity: high
-- mitre: T1562.008, T1562.001, T1485, T1666
-- description: A call that would blind or cut off the account (stop or delete a trail, narrow
--   its event selectors, leave the organisation, delete a GuardDuty detector, stop AWS Config,
--   disable Security Hub, delete flow logs or DNS query logging, schedule a KMS key's deletion)
--   was refused for lack of rights. The attempt is itself the finding: whoever made it wanted
--   the lights off, and may come back with credentials that can. Real attackers try these calls
--   with every key they find; a refusal is often the only trace of the attempt.
-- false_positives: an administrator trying a change without the role that allows it
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, eventname, errorcode,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn
  FROM cloudtrail
  WHERE errorcode IS NOT NULL
    AND (errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%Unauthorized%' OR errorcode LIKE '%Forbidden%')
    AND (
      (eventsource = 'cloudtrail.amazonaws.com'
        AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'))
      OR (eventsource = 'organizations.amazonaws.com'
        AND eventname IN ('LeaveOrganization', 'RemoveAccountFromOrganization', 'DeleteOrganization'))
      OR (eventsource = 'guardduty.amazonaws.com'
        AND eventname IN ('DeleteDetector', 'DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount'))
      OR (eventsource = 'config.amazonaws.com'
        AND eventname IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'))
      OR (eventsource = 'securityhub.amazonaws.com' AND eventname = 'DisableSecurityHub')
      OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
      OR (eventsource = 'route53resolver.amazonaws.com'
        AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
      OR (eventsource = 'kms.amazonaws.com' AND eventname IN ('ScheduleKeyDeletion', 'DisableKey'))
    )
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' tried ', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ' and was refused (',
              array_to_string(array_sort(array_distinct(array_agg(errorcode))), ', '), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
