-- id: sts-assumerole-outside-org
-- title: Role assumed from an account outside the lake's accounts
-- severity: medium
-- mitre: T1199, T1078.004
-- description: AssumeRole (any variant recorded in the role's account) by a caller whose account
--   is neither the role's account nor any account whose logs are in the lake: a third party, or
--   an attacker's own account, using a cross-account trust.
-- false_positives: vendors and partners with cross-account roles; ingest all your accounts so
--   they count as inside
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         useridentity.accountid AS caller_account,
         json_get_str(requestparameters, 'roleArn') AS role
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole'
    AND errorcode IS NULL
    AND useridentity.accountid IS NOT NULL AND useridentity.accountid <> account
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime) AS eventids,
       array_agg(DISTINCT source_uri) AS source_uris,
       concat('account ', caller_account, ' (', actor, ') assumed role ', role, ' ', count(*), ' time(s)') AS summary
FROM ev
WHERE caller_account NOT IN (SELECT DISTINCT account FROM cloudtrail)
GROUP BY account, region, actor, actor_arn, caller_account, role
