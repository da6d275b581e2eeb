DROP TABLE IF EXISTS odoo_sync_items;
DROP TABLE IF EXISTS odoo_sync_runs;
DROP TABLE IF EXISTS odoo_config;
