# Mapped tables survive pg_dump and restore: each column stays bound to its
# JSON path (through its comment), so after a restore the same records map
# to the same columns, colliding and shortened names included.  Secrets and
# Pizzly connection grants are dumped and restored too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('mapping_dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION nango');

# Page 1 gives the nested path a.b the name a_b; page 2's key "a_b" then gets
# a suffix.  Long keys are shortened with a hash.
my $page1 = q{ARRAY['{"a": {"b": 1}, "n": 1}']::jsonb[]};
my $page2 = q{ARRAY[json_build_object('a_b', 2, 'a', json_build_object('b', 3),
	repeat('k', 70), 4, repeat('k', 70) || 'x', 5, 'n', 2.5)::jsonb]};
$node->safe_psql('postgres', "SELECT nango._map_records(1, 'public.m', NULL, 1, $page1)");
$node->safe_psql('postgres', "SELECT nango._map_records(1, 'public.m', NULL, 2, $page2)");

my $cols_sql = q{SELECT string_agg(attname || ':' || format_type(atttypid, NULL) || ':' ||
	coalesce(col_description(attrelid, attnum), ''), E'\n' ORDER BY attnum)
	FROM pg_attribute WHERE attrelid = 'public.m'::regclass AND attnum > 0 AND NOT attisdropped};
my $before = $node->safe_psql('postgres', $cols_sql);
like($before, qr/^a_b:bigint:nango path \["a","b"\]$/m, 'the nested path has the plain name');
like($before, qr/^a_b_[0-9a-f]{8}:bigint:nango path \["a_b"\]$/m, 'the later flat key has a suffix');
like($before, qr/^n:numeric:/m, 'n was widened to numeric');

$node->safe_psql('postgres', q{
	CREATE ROLE dump_alice;
	SET ROLE dump_alice;
	SELECT nango.set_secret('gh', 'dumped-value');
	RESET ROLE;
	SELECT nango.grant_connection('github', 'conn 1', 'dump_alice');
});

# Dump and restore into a new database.
my $dump = $node->basedir . '/m.dump';
command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

my $after = $node->safe_psql('restored', $cols_sql);
is($after, $before, 'columns, types and bindings are restored');

# The same pages again: no new column, every value where it was.
$node->safe_psql('restored', "SELECT nango._map_records(1, 'public.m', NULL, 3, $page2)");
is($node->safe_psql('restored', $cols_sql), $before, 'mapping again after the restore adds no column');
is($node->safe_psql('restored',
	q{SELECT count(*) FROM public.m WHERE a_b = 3 AND n = 2.5}), '2',
	'the nested path still maps to a_b');

is($node->safe_psql('restored', q{
	SELECT (SELECT string_agg(owner || ' ' || name || ' ' || value, ',') FROM nango.secret_values) || '; '
	    || (SELECT string_agg(provider_config_key || ' ' || connection_id || ' ' || grantee, ',')
	          FROM nango.connection_grants)}),
	'dump_alice gh dumped-value; github conn 1 dump_alice', 'secrets and connection grants are restored');

$node->stop;
done_testing();
