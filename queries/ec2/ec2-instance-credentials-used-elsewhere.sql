-- id: ec2-instance-credentials-used-elsewhere
-- title: An instance role's credentials used away from the instance
-- severity: high
-- mitre: T1552.005, T1078.004
-- description: Temporary credentials that EC2 delivers to an instance (ec2RoleDelivery, or a
--   session named after the instance) used from a public address that a person's key also uses
--   (an IAM user, root, or a console or SSO session: the attacker's own machine). An instance
--   calls AWS from its own address or its NAT's; credentials stolen from the metadata service are
--   used from the attacker's. Addresses that several instances use (a NAT gateway people's
--   tools also sit behind) and calls through VPC endpoints (private addresses) are left out.
-- false_positives: people working on an instance with their own keys as well as its role
WITH inst AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, useridentity.accesskeyid AS key, sourceipaddress AS ip,
         useridentity.principalid AS principal_session
  FROM cloudtrail
  WHERE useridentity.type = 'AssumedRole'
    AND (useridentity.sessioncontext.ec2roledelivery IS NOT NULL OR useridentity.principalid LIKE '%:i-%')
    AND regexp_like(sourceipaddress, '^[0-9a-fA-F:.]+$') AND NOT is_private_ip(sourceipaddress)
),
people AS (
  SELECT DISTINCT account, sourceipaddress AS ip FROM cloudtrail
  WHERE useridentity.type IN ('IAMUser', 'Root')
     OR (useridentity.type = 'AssumedRole' AND (sessioncredentialfromconsole = 'true'
         OR useridentity.sessioncontext.sessionissuer.username LIKE 'AWSReservedSSO%'))
),
nat AS (
  SELECT account, ip FROM inst GROUP BY account, ip HAVING count(DISTINCT principal_session) > 1
),
flagged AS (
  SELECT i.* FROM inst i
  JOIN people p ON i.account = p.account AND i.ip = p.ip
  LEFT JOIN nat n ON i.account = n.account AND i.ip = n.ip
  WHERE n.ip IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat('instance credentials ', key, ' (', actor, ') were used from ',
              array_to_string(array_sort(array_distinct(array_agg(ip))), ', '), ', an address people''s keys also use') AS summary
FROM flagged
GROUP BY account, region, actor, key
