-- id: ec2-instance-connect-keys
-- title: SSH keys pushed to instances through EC2 Instance Connect
-- severity: medium
-- mitre: T1021.004, T1098.004
-- description: SendSSHPublicKey puts a key on an instance for 60 seconds, so whoever holds the
--   AWS key can log in without the instance's own keys. One instance now and then is an
--   administrator (info); at least min_instances instances by one identity within the window is
--   lateral movement (medium).
-- false_positives: administrators fixing a fleet by hand
-- param: min_instances = 3 | distinct instances within the window
-- param: window = '60 minutes' | the window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, json_get_str(requestparameters, 'instanceId') AS instance,
         date_bin(INTERVAL '60 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot
  FROM cloudtrail
  WHERE eventsource = 'ec2-instance-connect.amazonaws.com' AND eventname = 'SendSSHPublicKey'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN count(DISTINCT instance) >= 3 /* min_instances */ THEN 'medium' ELSE 'info' END AS severity,
       concat(actor, ' pushed SSH keys to ', count(DISTINCT instance), ' instance(s): ',
              array_to_string(array_sort(array_distinct(array_agg(instance))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, slot
