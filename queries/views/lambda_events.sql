-- Lambda control-plane and data events (function code, configuration, permissions, invokes).
SELECT * FROM cloudtrail WHERE eventsource = 'lambda.amazonaws.com'
