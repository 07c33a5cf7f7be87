-- id: sts-assumerole-new-caller
-- title: Role assumed by a caller that never assumed it before
-- severity: low
-- mitre: T1078.004, T1550.001
-- description: The first successful AssumeRole of a role by a caller (a user, a role counted as a
--   whole, a service or an account), once the lake holds at least the baseline of that account's
--   history. Pipelines and services assume the same roles every day; a new pair is worth a look,
--   above all from a user's long-term key.
-- false_positives: new pipelines, new team members, roles assumed for the first time after a change
-- param: baseline = '24 hours' | history of the account needed before a pair counts as new
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, sourceipaddress,
         coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.invokedby,
                  useridentity.accountid) AS caller,
         json_get_str(requestparameters, 'roleArn') AS role
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole' AND errorcode IS NULL
),
history AS (
  SELECT account, t0 AS since FROM account_spans
),
marked AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, caller, role) AS first_t FROM ev
)
SELECT e.eventtime AS first_seen, e.eventtime AS last_seen, e.account, e.region, e.actor, e.actor_arn,
       1 AS event_count, [e.eventid] AS eventids, [CAST(e.source_uri AS VARCHAR)] AS source_uris,
       concat(e.actor, ' assumed role ', e.role, ' for the first time, from ', e.sourceipaddress) AS summary
FROM marked e
JOIN history h ON e.account = h.account
WHERE e.eventtime = e.first_t AND e.first_t >= h.since + INTERVAL '24 hours' /* baseline */
