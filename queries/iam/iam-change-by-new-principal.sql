-- id: iam-change-by-new-principal
-- title: IAM changed by an identity that does not usually change IAM
-- severity: low
-- mitre: T1098, T1136.003
-- description: Any successful IAM write (users, groups, roles, policies, keys, passwords,
--   providers) by a principal (a user, or a role whatever its session names) that had made no
--   IAM write at least an hour earlier, or during the account's learning period. IAM is changed
--   by a few pipelines and administrators; a new hand on it is worth a look even when no other
--   rule names the change. One finding per identity and hour.
-- false_positives: a new administrator or pipeline (once), break-glass work
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, eventname,
         date_trunc('hour', eventtime) AS hour
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND errorcode IS NULL AND readonly = false
    AND useridentity.type <> 'AWSService'
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
  SELECT account, who, min(eventtime) AS first_write FROM ev GROUP BY account, who
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(e.region) AS region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       concat(e.actor, ' changed IAM (', array_to_string(array_sort(array_distinct(array_agg(e.eventname))), ', '),
              '), which ', min(e.who), ' had not done before') AS summary
FROM ev e
JOIN firsts f ON e.account = f.account AND e.who = f.who
JOIN learned l ON e.account = l.account
WHERE f.first_write >= l.since AND e.eventtime < f.first_write + INTERVAL '1 hour'
GROUP BY e.account, e.actor, e.hour
