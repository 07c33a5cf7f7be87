-- id: signin-console-without-sso
-- title: Console sign-in with an IAM user's password in an account that signs in through SSO
-- severity: medium
-- mitre: T1078.004
-- description: A successful ConsoleLogin by an IAM user (a password, not the identity provider)
--   in an account where people otherwise sign in through IAM Identity Center or SAML
--   federation. Where SSO is the rule, a password sign-in is a forgotten user, a backdoor
--   login profile, or someone who got hold of one. Users who already signed in with a password
--   during the account's learning period are its known exceptions (info); when an account's
--   data covers more than the learning period, its first learning period is the baseline.
-- false_positives: break-glass users (allow them in an exceptions file)
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, sourceipaddress
  FROM cloudtrail
  WHERE eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'
    AND useridentity.type = 'IAMUser' AND json_get_str(responseelements, 'ConsoleLogin') = 'Success'
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
firsts AS (
  SELECT account, actor, min(eventtime) AS first_login FROM ev GROUP BY account, actor
),
sso AS (
  SELECT DISTINCT account FROM cloudtrail
  WHERE (eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'
         AND useridentity.type IN ('AssumedRole', 'FederatedUser', 'SAMLUser', 'WebIdentityUser'))
     OR (eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoleWithSAML')
     OR (eventsource IN ('sso.amazonaws.com', 'signin.amazonaws.com') AND eventname IN ('Federate', 'Authenticate', 'CredentialChallenge', 'UserAuthentication'))
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(f.first_login) < min(l.since) THEN 'info' ELSE 'medium' END AS severity,
       concat(e.actor, ' signed in with a password from ', array_to_string(array_sort(array_distinct(array_agg(e.sourceipaddress))), ', '),
              ' although the account signs in through SSO') AS summary
FROM ev e JOIN sso s ON e.account = s.account
JOIN firsts f ON e.account = f.account AND e.actor = f.actor
JOIN learned l ON e.account = l.account
GROUP BY e.account, e.region, e.actor
