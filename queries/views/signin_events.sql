-- Console and SSO sign-in events.
SELECT * FROM cloudtrail
WHERE eventsource IN ('signin.amazonaws.com', 'sso.amazonaws.com') OR eventtype = 'AwsConsoleSignIn'
