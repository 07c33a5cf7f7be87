-- id: rolesanywhere-external-trust-anchor
-- title: IAM Roles Anywhere trust anchor from an external certificate authority
-- severity: high
-- mitre: T1556, T1098
-- description: CreateTrustAnchor or UpdateTrustAnchor whose source is a certificate bundle (an
--   outside CA) rather than an AWS Private CA. Anyone holding a certificate from that CA can get
--   credentials for the roles its profiles allow, from anywhere.
-- false_positives: on-premises workloads onboarded with the company's own CA
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'name'), json_get_str(requestparameters, 'trustAnchorId')) AS anchor
  FROM cloudtrail
  WHERE eventsource = 'rolesanywhere.amazonaws.com'
    AND eventname IN ('CreateTrustAnchor', 'UpdateTrustAnchor')
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'source', 'sourceType') = 'CERTIFICATE_BUNDLE'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' trusted an external certificate authority in Roles Anywhere anchor ', coalesce(anchor, '?'), ' (', eventname, ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, anchor
