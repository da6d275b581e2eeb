DROP TABLE IF EXISTS webhook_deliveries;

--bun:split

DROP TABLE IF EXISTS alert_webhooks;

--bun:split

DROP TABLE IF EXISTS notifications;

--bun:split

DROP TABLE IF EXISTS alerts;
