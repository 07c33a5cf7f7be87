-- id: signin-console-no-mfa
-- title: Console sign-in without MFA
-- severity: high
-- mitre: T1078.004, T1556.006
-- description: A successful ConsoleLogin by an IAM user with MFAUsed "No". Sign-ins through IAM
--   Identity Center (SSO) and SAML federation are left out: their MFA happens at the identity
--   provider and CloudTrail records "No" for them.
-- false_positives: users not yet enrolled in MFA (fix that)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, sourceipaddress
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin' AND eventsource = 'signin.amazonaws.com'
    AND useridentity.type = 'IAMUser'
    AND json_get_str(responseelements, 'ConsoleLogin') = 'Success'
    AND json_get_str(additionaleventdata, 'MFAUsed') = 'No'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' signed in to the console without MFA from ', array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
