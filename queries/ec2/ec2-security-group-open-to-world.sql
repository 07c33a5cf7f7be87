-- id: ec2-security-group-open-to-world
-- title: Security group opened to the whole internet
-- severity: high
-- mitre: T1562.007, T1133
-- description: AuthorizeSecurityGroupIngress or ModifySecurityGroupRules admitting 0.0.0.0/0 or
--   ::/0 (any prefix of length 0: AWS reads 1.2.3.4/0 as the whole internet too). Graded by the
--   port: high when the rule reaches a way in or a data store (SSH, RDP, SMB, databases, caches,
--   search, Docker, VNC) or all ports and protocols; low for the web ports alone (80, 443: a
--   public site is often meant); medium for any other port.
-- false_positives: public web servers and load balancers opened on 80/443 on purpose
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, requestparameters AS p,
         coalesce(regexp_match(requestparameters, '"(?i:groupId)"\s*:\s*"([^"]+)"')[1], 'unknown') AS grp
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules')
    AND regexp_like(requestparameters, '"(?i:cidrIp|cidrIpv4|cidrIpv6)"\s*:\s*"[^"]*/0"')
),
graded AS (
  SELECT *,
         regexp_like(p, '"(?i:fromPort|toPort)"\s*:\s*"?(22|23|445|1433|1521|2049|2375|2376|3306|3389|5432|5900|5984|6379|9200|11211|27017)\b')
         OR regexp_like(p, '"(?i:ipProtocol)"\s*:\s*"-1"')
         OR (regexp_like(p, '"(?i:fromPort)"\s*:\s*"?0\b') AND regexp_like(p, '"(?i:toPort)"\s*:\s*"?65535\b')) AS sensitive,
         NOT regexp_like(regexp_replace(p, '"(?i:fromPort|toPort)"\s*:\s*"?(80|443)\b', '', 'g'), '"(?i:fromPort|toPort)"') AS web
  FROM ev
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN bool_or(sensitive) THEN 'high' WHEN bool_and(web) THEN 'low' ELSE 'medium' END AS severity,
       concat(actor, ' opened security group ', grp, ' to the whole internet',
              CASE WHEN bool_or(sensitive) THEN ' on a sensitive port, or on all ports' ELSE '' END) AS summary
FROM graded
GROUP BY account, region, actor, grp
