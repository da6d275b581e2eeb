DROP TABLE system_services;

--bun:split

DROP TABLE system_metrics;
