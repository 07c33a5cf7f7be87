-- id: iam-compromised-key-quarantine
-- title: AWS quarantined a user whose access key was exposed
-- severity: high
-- mitre: T1552.001, T1078.004
-- description: AttachUserPolicy of AWSCompromisedKeyQuarantine (any version): AWS found the
--   user's access key in public (a repository, a paste) and limited what it can do. Someone else
--   may already hold the key; trace it (`trailscope trace KEY`) for what it did before.
--   Detaching the policy is listed too: an attacker lifting the quarantine.
-- false_positives: none: at the least, rotate the key
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname, json_get_str(requestparameters, 'userName') AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('AttachUserPolicy', 'DetachUserPolicy')
    AND json_get_str(requestparameters, 'policyArn') LIKE '%AWSCompromisedKeyQuarantine%'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' ', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ' the compromised-key quarantine on user ', target) AS summary
FROM ev
GROUP BY account, region, actor, target
