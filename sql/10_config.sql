-- Config keys (docs/config.md): a valid config for every key, the stored
-- (normalized) config and the columns derived from it.  Everything runs in
-- one transaction that is rolled back, so no sync is ever scheduled.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
SET LOCAL client_min_messages = error;  -- add_sync warns when nango is not preloaded
CREATE TEMP TABLE added (key text, id bigint);
CREATE VIEW pg_temp.shown AS
  SELECT a.key, s.config, s.friendly_name, s.status, s.frequency, s.cron,
         s.next_run_at = pg_catalog.now() AS due_now,
         replace(s.mapped_table, s.id::text, '<id>') AS mapped_table,
         s.owner = current_user::regrole AS mine
    FROM added a JOIN nango.syncs s ON s.id = a.id;

-- No config and NULL: the defaults (hourly, mapped to nango._nango_sync_<id>).
INSERT INTO added VALUES ('none', nango.add_sync('https://api.example.com/items'));
INSERT INTO added VALUES ('null config', nango.add_sync('https://api.example.com/items', NULL));

-- One sync per key (or per form of a key).
INSERT INTO added
  SELECT key, nango.add_sync('https://api.example.com/items?x=1', config::jsonb)
    FROM (VALUES
      ('empty', '{}'),
      ('method', '{"method": "post"}'),
      ('method DELETE', '{"method": "Delete"}'),
      ('headers', '{"headers": {"Accept": "application/json", "X-Api-Key": "k"}}'),
      ('body', '{"method": "PATCH", "body": {"a": [1, 2.50, {"b": null}], "c": "d"}}'),
      ('query_params', '{"query_params": {"q": "a b", "n": 10, "f": 1.50, "t": true, "ids": [1, "two", false]}}'),
      ('timeout number', '{"timeout": 2.5}'),
      ('timeout string', '{"timeout": "30s"}'),
      ('retries', '{"retries": 0}'),
      ('response_path', '{"response_path": "data.results"}'),
      ('unique_key', '{"unique_key": "profile.email"}'),
      ('max_total', '{"max_total": 100}'),
      ('cursor metadata', '{"paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after"}'),
      ('cursor object', '{"paging_cursor_request_path": "since_id", "paging_cursor_object_response_path": "id"}'),
      ('url path', '{"paging_url_path": "next"}'),
      ('link rel', '{"paging_header_link_rel": "next"}'),
      ('offset', '{"paging_offset_request_path": "offset", "paging_limit_request_path": "limit", "paging_limit": 50}'),
      ('page number', '{"paging_number_request_path": "page"}'),
      ('page number start', '{"paging_number_request_path": "page", "paging_number_start": 0, "paging_limit_request_path": "per_page", "paging_limit": 100}'),
      ('auto_mapping false', '{"auto_mapping": false}'),
      ('auto_mapping true', '{"auto_mapping": true}'),
      ('mapped_table', '{"mapped_table": "contacts"}'),
      ('mapped_table upper', '{"mapped_table": "Contacts"}'),
      ('mapped_table qualified', '{"mapped_table": "crm.contacts"}'),
      ('mapped_table quoted', '{"mapped_table": "\"My Schema\".\"Contacts \"\"2\"\"\""}'),
      ('mapped_table shared', '{"mapped_table": "nango.contacts"}'),
      ('metadata', '{"metadata": {"company_id": 123, "region": "eu", "vip": true}}'),
      ('delete_mode none', '{"delete_mode": "none"}'),
      ('delete_mode soft', '{"delete_mode": "Soft", "unique_key": "id"}'),
      ('delete_mode hard', '{"delete_mode": "hard", "unique_key": "id"}'),
      ('frequency minutes', '{"frequency": 15}'),
      ('frequency fraction', '{"frequency": 0.5}'),
      ('frequency 30 seconds', '{"frequency": "30 seconds"}'),
      ('frequency 15 minutes', '{"frequency": "15 minutes"}'),
      ('frequency 1h', '{"frequency": "1h"}'),
      ('frequency 2 days', '{"frequency": "2 days"}'),
      ('frequency 1 second', '{"frequency": "1 second"}'),
      ('frequency iso', '{"frequency": "PT1H30M"}'),
      ('frequency sql style', '{"frequency": "01:30:00"}'),
      ('cron', '{"cron": "*/15 * * * *"}'),
      ('cron names', '{"cron": "0 9 * JAN-jun mon-FRI"}'),
      ('cron macro', '{"cron": "@daily"}'),
      ('pizzly', '{"pizzly_connection_id": "user1", "pizzly_provider_config_key": "hubspot"}'),
      ('nango aliases', '{"nango_connection_id": "user1", "nango_provider_config_key": "hubspot"}'),
      ('mixed aliases', '{"pizzly_connection_id": "user1", "nango_provider_config_key": "hubspot"}'),
      ('incremental', '{"unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "since"}'),
      ('incremental initial', '{"unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "since", "incremental_initial_value": "2024-01-01T00:00:00Z"}'),
      ('incremental initial number', '{"unique_key": "id", "incremental_cursor_path": "seq", "incremental_request_path": "after", "incremental_initial_value": 1000}'),
      ('friendly_name', '{"friendly_name": "My Other Sync"}'),
      ('nulls', '{"cron": null, "frequency": 5, "unique_key": null, "headers": null}'),
      ('seed example', '{ "method": "GET", "headers": {"Accept": "application/json"}, "query_params": {"mykey": "A great value"}, "response_path": "data.results", "unique_key": "profile.email", "paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after", "auto_mapping": true, "frequency": 15, "pizzly_connection_id": "user1", "pizzly_provider_config_key": "hubspot", "max_total": 100, "friendly_name": "My Sync", "metadata": {"company_id": 123}}')
    ) AS v(key, config);

SELECT key, config, friendly_name, frequency, cron, mapped_table
  FROM pg_temp.shown ORDER BY key COLLATE "C";

-- Every sync: owned by the caller, active, due now, with the URL as given.
SELECT count(*), bool_and(mine), bool_and(status = 'active'), bool_and(due_now)
  FROM pg_temp.shown;
SELECT DISTINCT url FROM nango.syncs;

-- URLs: http and https in any case, ports, IPv6, placeholders.
SELECT nango.add_sync('HTTP://API.EXAMPLE.COM') > 0 AS ok;
SELECT nango.add_sync('http://[::1]:8080/x?y=1#frag') > 0 AS ok;
SELECT nango.add_sync('https://user:pw@api.example.com/x/${pizzlyAccessToken}?t=${nangoAccessToken}') > 0 AS ok;

-- nango.cron_next: the next tick strictly after a time, in UTC.
SET LOCAL TimeZone = 'UTC';
SELECT e, nango.cron_next(e, '2024-02-28 23:59:30+00') AS next
  FROM unnest(ARRAY['* * * * *', '*/15 * * * *', '0 0 * * *', '0 0 29 2 *',
                    '30 8 1,15 * *', '0 12 * * mon', '0 12 1 * mon', '0 0 31 * *',
                    '5-10/2 3 * * *', '@hourly', '@weekly', '@yearly', '0 0 * * 7',
                    '59 23 31 12 *']) AS e;
SELECT nango.cron_next('0 * * * *', '2024-03-01 10:00:00+00') AS strictly_after;
SELECT nango.cron_next('0 0 29 2 *', '2024-03-01 00:00:00+00') AS next_leap_day;
SELECT nango.cron_next('30 2 * * *', '2024-03-31 01:00:00+01') AS ignores_session_timezone;
SELECT nango.cron_next('bad', now());

ROLLBACK;
