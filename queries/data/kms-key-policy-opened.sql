-- id: kms-key-policy-opened
-- title: KMS key policy opened to everyone or to another account
-- severity: high
-- mitre: T1098, T1537
-- description: PutKeyPolicy (or CreateKey with a policy) whose policy names Principal "*" / AWS
--   "*", or an account that is neither the key's own nor in the lake. Whoever it names can use the
--   key to decrypt data, or share encrypted snapshots out.
-- false_positives: policies with aws:PrincipalOrgID or kms:CallerAccount conditions; read them
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'keyId'), json_get_str(responseelements, 'keyMetadata', 'keyId')) AS key_id,
         json_get_str(requestparameters, 'policy') AS doc
  FROM cloudtrail
  WHERE eventsource = 'kms.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('PutKeyPolicy', 'CreateKey')
),
judged AS (
  SELECT *,
         CASE WHEN regexp_like(doc, '"Principal"\s*:\s*"\*"') OR regexp_like(doc, '"AWS"\s*:\s*(\[[^\]]*)?"\*"') THEN 'everyone (*)'
              ELSE (regexp_match(regexp_replace(doc, account, '', 'g'), 'arn:aws[a-z-]*:iam::([0-9]{12})'))[1] END AS grantee
  FROM ev
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' opened KMS key ', coalesce(key_id, '?'), ' to ', grantee) AS summary
FROM judged
WHERE grantee = 'everyone (*)' OR (grantee IS NOT NULL AND grantee NOT IN (SELECT account FROM account_spans))
GROUP BY account, region, actor, actor_arn, key_id, grantee
