-- id: ec2-resource-shared-outside
-- title: Disk snapshot, machine image or database snapshot shared outside the account
-- severity: critical
-- mitre: T1537
-- description: ModifySnapshotAttribute (EBS createVolumePermission), ModifyImageAttribute (AMI
--   launchPermission) or ModifyDBSnapshotAttribute / ModifyDBClusterSnapshotAttribute (RDS
--   restore) adding an account or "all". A shared snapshot is a copy of the disk or database
--   handed over: the quietest way to take all the data at once. Graded by whom it goes to:
--   critical when public ("all"), high for an account that never appears in the lake (outside
--   the organisation as far as these logs know), low for another account of the lake.
-- false_positives: golden images shared with the organisation's accounts; backups copied to a
--   vault account (list it in the lake, or allow it in an exceptions file)
WITH known AS (
  SELECT DISTINCT account AS acct FROM cloudtrail
),
ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'snapshotId'), json_get_str(requestparameters, 'imageId'),
                  json_get_str(requestparameters, 'dBSnapshotIdentifier'),
                  json_get_str(requestparameters, 'dBClusterSnapshotIdentifier'), 'unknown') AS res,
         regexp_like(requestparameters, '"(?i:group)"\s*:\s*"all"')
           OR regexp_like(requestparameters, '"valuesToAdd"\s*:\s*\[[^\]]*"all"') AS public,
         regexp_match(requestparameters, '"(?:userId|UserId|valuesToAdd)"\s*:\s*\[?\s*"(\d{12})"')[1] AS target
  FROM cloudtrail
  WHERE errorcode IS NULL
    AND ((eventsource = 'ec2.amazonaws.com' AND eventname IN ('ModifySnapshotAttribute', 'ModifyImageAttribute')
          AND regexp_like(requestparameters, '"(?i:add)"\s*:\s*\{\s*"(?i:items)"\s*:\s*\[\s*\{'))
      OR (eventsource = 'rds.amazonaws.com' AND eventname IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
          AND regexp_like(requestparameters, '"valuesToAdd"\s*:\s*\[\s*"')))
),
graded AS (
  SELECT e.*, CASE WHEN e.public THEN 'critical' WHEN k.acct IS NULL THEN 'high' ELSE 'low' END AS severity
  FROM ev e LEFT JOIN known k ON e.target = k.acct
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris, severity,
       concat(actor, ' shared ', res, ' (', min(eventname), ') with ',
              CASE WHEN severity = 'critical' THEN 'everyone (public)'
                   ELSE concat('account ', coalesce(min(target), 'unknown'),
                               CASE WHEN severity = 'high' THEN ', which never appears in these logs' ELSE ', another account of the lake' END) END) AS summary
FROM graded
GROUP BY account, region, actor, res, severity
