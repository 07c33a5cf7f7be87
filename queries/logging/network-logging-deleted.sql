-- id: network-logging-deleted
-- title: VPC flow logs or DNS query logging deleted
-- severity: high
-- mitre: T1562.008
-- description: DeleteFlowLogs (EC2), DeleteResolverQueryLogConfig or
--   DisassociateResolverQueryLogConfig (Route 53 Resolver) and DeleteQueryLoggingConfig (Route 53
--   public zones). Flow logs and DNS query logs are what shows data leaving and the domains a
--   compromised host calls; an attacker removes them before exfiltration or command and control.
-- false_positives: network clean-up when a VPC is retired
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname
  FROM cloudtrail
  WHERE errorcode IS NULL AND (
    (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
    OR (eventsource = 'route53resolver.amazonaws.com'
        AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
    OR (eventsource = 'route53.amazonaws.com' AND eventname = 'DeleteQueryLoggingConfig'))
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime) AS eventids,
       array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor, ' removed network logging: ', array_to_string(array_agg(DISTINCT eventname), ', ')) AS summary
FROM ev
GROUP BY account, region, actor
