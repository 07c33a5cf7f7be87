-- id: iam-identity-provider-changed
-- title: SAML or OIDC identity provider created, changed or deleted
-- severity: high
-- mitre: T1484.002, T1556.007
-- description: Create, update or delete of an IAM SAML provider or OpenID Connect provider
--   (including new client ids and thumbprints). Whoever controls a trusted identity provider can
--   sign in as any role that trusts it: a golden-SAML style persistence.
-- false_positives: identity team changes (certificate rotation, new CI OIDC providers)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'name'), json_get_str(requestparameters, 'url'),
                  json_get_str(requestparameters, 'sAMLProviderArn'), json_get_str(requestparameters, 'openIDConnectProviderArn')) AS provider
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('CreateSAMLProvider', 'UpdateSAMLProvider', 'DeleteSAMLProvider',
                      'CreateOpenIDConnectProvider', 'DeleteOpenIDConnectProvider',
                      'UpdateOpenIDConnectProviderThumbprint', 'AddClientIDToOpenIDConnectProvider')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' changed identity provider ', coalesce(provider, '?'), ': ', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, provider
