-- id: ssm-send-command
-- title: Commands run on instances through SSM by an unusual identity or on many instances
-- severity: high
-- mitre: T1651, T1059
-- description: SendCommand runs a document (often a shell script) as root on instances, with the
--   instance's role. Graded by who and how wide: high when one identity reaches at least
--   min_instances instances within the window with a shell document; medium when a person's key
--   (an IAM user or root) runs a shell document, or when a role that never sent commands during
--   the account's learning period does; info for identities that send commands on more than one
--   day (deployment and patching automation). The instance count includes tag targets, which
--   count as min_instances.
-- false_positives: a new deployment pipeline's first run; administrators running a one-off fix
-- param: min_instances = 5 | distinct instances that make it wide
-- param: window = '60 minutes' | the window
-- param: learning = '24 hours' | how much of each account's data sets who usually sends commands
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, useridentity.type AS itype,
         principal(useridentity) AS who,
         json_get_str(requestparameters, 'documentName') AS doc,
         CASE WHEN json_get_json(requestparameters, 'targets') IS NOT NULL THEN 5 /* min_instances */
              ELSE coalesce(json_length(json_get_json(requestparameters, 'instanceIds')), 1) END AS n,
         date_bin(INTERVAL '60 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot
  FROM cloudtrail
  WHERE eventsource = 'ssm.amazonaws.com' AND eventname = 'SendCommand' AND errorcode IS NULL
),
starts AS (
  SELECT account, t0 FROM account_spans
),
habits AS (
  SELECT e.account, e.who, count(DISTINCT date_trunc('day', e.eventtime)) AS n_days,
         min(e.eventtime) < min(s.t0) + INTERVAL '24 hours' /* learning */ AS known
  FROM ev e JOIN starts s ON e.account = s.account GROUP BY e.account, e.who
),
slots AS (
  SELECT e.account, e.region, e.actor, e.who, e.slot, min(e.itype) AS itype, min(h.n_days) AS n_days,
         bool_or(h.known) AS known, sum(e.n) AS n_instances,
         bool_or(e.doc IN ('AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript')) AS shell,
         min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, min(e.actor_arn) AS actor_arn,
         count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
         array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris, array_sort(array_distinct(array_agg(e.doc))) AS docs
  FROM ev e JOIN habits h ON e.account = h.account AND e.who = h.who
  GROUP BY e.account, e.region, e.actor, e.who, e.slot
)
SELECT first_seen, last_seen, account, region, actor, actor_arn, event_count, eventids, source_uris,
       CASE WHEN n_days > 1 THEN 'info'
            WHEN shell AND n_instances >= 5 /* min_instances */ THEN 'high'
            WHEN shell AND itype IN ('IAMUser', 'Root') THEN 'medium'
            WHEN NOT known THEN 'medium'
            ELSE 'low' END AS severity,
       concat(actor, ' ran ', array_to_string(docs, ', '), ' on ', n_instances, ' instance(s) through SSM',
              CASE WHEN n_days > 1 THEN concat(' (it does so on ', n_days, ' days)') ELSE '' END) AS summary
FROM slots
