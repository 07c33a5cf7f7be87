-- id: signin-console-without-sso
-- title: Console sign-in with an IAM user's password in an account that signs in through SSO
-- severity: medium
-- mitre: T1078.004
-- description: A successful ConsoleLogin by an IAM user (a password, not the identity provider)
--   in an account where people otherwise sign in through IAM Identity Center or SAML
--   federation. Where SSO is the rule, a password sign-in is a forgotten user, a backdoor
--   login profile, or someone who got hold of one.
-- false_positives: break-glass users (allow them in an exceptions file)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, sourceipaddress
  FROM cloudtrail
  WHERE eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'
    AND useridentity.type = 'IAMUser' AND json_get_str(responseelements, 'ConsoleLogin') = 'Success'
),
sso AS (
  SELECT DISTINCT account FROM cloudtrail
  WHERE (eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'
         AND useridentity.type IN ('AssumedRole', 'FederatedUser', 'SAMLUser', 'WebIdentityUser'))
     OR (eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoleWithSAML')
     OR (eventsource IN ('sso.amazonaws.com', 'signin.amazonaws.com') AND eventname IN ('Federate', 'Authenticate', 'CredentialChallenge', 'UserAuthentication'))
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime) AS eventids,
       array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(e.actor, ' signed in with a password from ', array_to_string(array_agg(DISTINCT e.sourceipaddress), ', '),
              ' although the account signs in through SSO') AS summary
FROM ev e JOIN sso s ON e.account = s.account
GROUP BY e.account, e.region, e.actor
