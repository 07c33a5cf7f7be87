-- id: network-logging-deleted
-- title: VPC flow logs or DNS query logging deleted
-- severity: high
-- mitre: T1562.008
-- description: DeleteFlowLogs (EC2), DeleteResolverQueryLogConfig or
--   DisassociateResolverQueryLogConfig (Route 53 Resolver) and DeleteQueryLoggingConfig (Route 53
--   public zones). Flow logs and DNS query logs are what shows data leaving and the domains a
--   compromised host calls; an attacker removes them before exfiltration or command and control.
--   A principal (a role whatever its session names) that does this on more than one day is
--   tearing down short-lived environments (info).
-- false_positives: network clean-up when a VPC is retired; ephemeral environments (info once
--   seen on two days)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, eventname
  FROM cloudtrail
  WHERE errorcode IS NULL AND (
    (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
    OR (eventsource = 'route53resolver.amazonaws.com'
        AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
    OR (eventsource = 'route53.amazonaws.com' AND eventname = 'DeleteQueryLoggingConfig'))
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(h.n_days) > 1 THEN 'info' ELSE 'high' END AS severity,
       concat(e.actor, ' removed network logging: ', array_to_string(array_sort(array_distinct(array_agg(e.eventname))), ', ')) AS summary
FROM ev e
JOIN (SELECT account, who, count(DISTINCT date_trunc('day', eventtime)) AS n_days FROM ev GROUP BY account, who) h
  ON e.account = h.account AND e.who = h.who
GROUP BY e.account, e.region, e.actor
