-- id: ec2-instance-credentials-used-elsewhere
-- title: An instance role's credentials used away from the instance
-- severity: high
-- mitre: T1552.005, T1078.004
-- description: Temporary credentials that EC2 delivers to an instance (ec2RoleDelivery, or a
--   session named after the instance) used from a public address that a person's key also uses
--   (an IAM user, root, or a console or SSO session: the attacker's own machine), or one access
--   key of an instance used from more than one public address. An instance calls AWS from its
--   own address or its NAT's; credentials stolen from the metadata service are used from the
--   attacker's. Calls through VPC endpoints (private addresses) are left out.
-- false_positives: people working on an instance with their own keys as well as its role;
--   instances whose NAT spreads calls over several addresses
WITH inst AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, useridentity.accesskeyid AS key, sourceipaddress AS ip
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
spread AS (
  SELECT account, key, count(DISTINCT ip) AS n_ips FROM inst GROUP BY account, key
),
flagged AS (
  SELECT i.*, p.ip IS NOT NULL AS shared, s.n_ips FROM inst i
  JOIN spread s ON i.account = s.account AND i.key = s.key
  LEFT JOIN people p ON i.account = p.account AND i.ip = p.ip
  WHERE p.ip IS NOT NULL OR s.n_ips > 1
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime) AS eventids,
       array_agg(DISTINCT source_uri) AS source_uris,
       concat('instance credentials ', key, ' (', actor, ') were used from ',
              array_to_string(array_agg(DISTINCT ip), ', '),
              CASE WHEN bool_or(shared) THEN ', an address people''s keys also use' ELSE ', more than one public address' END) AS summary
FROM flagged
GROUP BY account, region, actor, key
