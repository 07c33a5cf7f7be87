-- id: sts-get-session-token
-- title: Session token requested by an IAM user's access key
-- severity: low
-- mitre: T1550.001
-- description: GetSessionToken by an IAM user with an access key. Legitimate for MFA-protected
--   CLI use, but also how a leaked key is turned into temporary credentials that keep working
--   after the key is deactivated.
-- false_positives: users who unlock MFA-protected CLI access every day
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, sourceipaddress,
         json_get_str(requestparameters, 'serialNumber') AS mfa
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'GetSessionToken'
    AND errorcode IS NULL AND useridentity.type = 'IAMUser'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' turned its access key into ', count(*), ' session token(s) from ',
              array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), ', '),
              CASE WHEN count(mfa) = 0 THEN ' without MFA' ELSE '' END) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
