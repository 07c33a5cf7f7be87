-- id: sts-assumerole-outside-org
-- title: Role assumed from an account outside the lake's accounts
-- severity: medium
-- mitre: T1199, T1078.004
-- description: AssumeRole (any variant recorded in the role's account) by a caller whose account
--   is neither the role's account nor any account whose logs are in the lake: a third party, or
--   an attacker's own account, using a cross-account trust. A vendor that assumes the same role
--   all day is info once it is known: it assumed that role at least an hour earlier, or during
--   the account's learning period. The first time is medium.
-- false_positives: vendors and partners with cross-account roles (medium once, then info); ingest
--   all your accounts so they count as inside
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         useridentity.accountid AS caller_account,
         coalesce(json_get_str(requestparameters, 'roleArn'), '') AS role
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole'
    AND errorcode IS NULL
    AND useridentity.accountid IS NOT NULL AND useridentity.accountid <> account
    AND useridentity.accountid NOT IN (SELECT account FROM account_spans)
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
-- The first assume of each role by each outside account, beside every event (ev is read once).
firsts AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, caller_account, role) AS first_assume FROM ev
),
graded AS (
  SELECT e.*, CASE WHEN e.first_assume < l.since OR e.first_assume < e.eventtime - INTERVAL '1 hour' THEN 'info'
                   ELSE 'medium' END AS severity
  FROM firsts e
  JOIN learned l ON e.account = l.account
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, min(actor) AS actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris, severity,
       concat('account ', caller_account, ' (', min(actor), ') assumed role ', role, ' ', count(*), ' time(s)',
              CASE WHEN severity = 'info' THEN ', as it usually does' ELSE '' END) AS summary
FROM graded
GROUP BY account, region, caller_account, role, severity
