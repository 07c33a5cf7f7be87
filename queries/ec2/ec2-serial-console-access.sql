-- id: ec2-serial-console-access
-- title: EC2 serial console enabled or an SSH key pushed to it
-- severity: high
-- mitre: T1021.004, T1098.004
-- description: EnableSerialConsoleAccess (account-wide) or SendSerialConsoleSSHPublicKey (a key
--   for one instance's serial port). The serial console reaches an instance without its network,
--   security groups or SSH keys: a way in that most accounts never turn on. Refused attempts are
--   medium.
-- false_positives: recovering an instance that no longer boots to the network
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname, errorcode
  FROM cloudtrail
  WHERE (eventsource = 'ec2.amazonaws.com' AND eventname = 'EnableSerialConsoleAccess')
     OR (eventsource = 'ec2-instance-connect.amazonaws.com' AND eventname = 'SendSerialConsoleSSHPublicKey')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN count(*) = count(errorcode) THEN 'medium' ELSE 'high' END AS severity,
       concat(actor, CASE WHEN count(*) = count(errorcode) THEN ' tried ' ELSE ' called ' END,
              array_to_string(array_sort(array_distinct(array_agg(eventname))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor
