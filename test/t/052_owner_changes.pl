# A sync whose owner changes under it, run by the background worker (which
# acts as the owner): the owner loses its rights on the mapped table (its
# jobs fail), loses LOGIN (its syncs keep its privileges and run until
# paused), or is dropped (its sync never runs again).  The worker carries on
# with other syncs throughout.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('owners');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION nango;
	CREATE ROLE own_alice LOGIN;
	CREATE ROLE own_bob LOGIN;
	CREATE SCHEMA own_s AUTHORIZATION own_alice;
});

sub sql { return $node->safe_psql('postgres', $_[0]); }

# a sync of a role, run every second
sub add_sync
{
	my ($role, $config) = @_;
	return $node->safe_psql('postgres',
		"SELECT nango.add_sync('$mock/simple/items', '$config')",
		extra_params => [ '-U', $role ]);
}

# waits for a job of the sync that ended after the given job id
sub next_job
{
	my ($sync, $after) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM nango.jobs WHERE sync_id = $sync AND id > $after AND status <> 'running'");
	return sql("SELECT id || '|' || status || '|' || coalesce(error_message, '') FROM nango.jobs
		WHERE sync_id = $sync AND id > $after AND status <> 'running' ORDER BY id LIMIT 1");
}

my $a = add_sync('own_alice',
	'{"response_path": "data", "frequency": "1 second", "mapped_table": "own_s.items"}');
my $b = add_sync('own_bob', '{"response_path": "data", "frequency": "1 second", "auto_mapping": false}');
my ($id, $status) = split /\|/, next_job($a, 0);
is($status, 'succeeded', "alice's sync runs");
is(sql("SELECT count(*) FROM own_s.items"), '3', "alice's mapped table is filled");

# 1. alice loses her rights on the mapped table: her jobs fail, bob's run.
sql("ALTER TABLE own_s.items OWNER TO postgres");
my $seen = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
my $out = next_job($a, $seen);
like($out, qr/\|failed\|.*permission denied/, "alice's job fails without rights on her table: $out");
like(next_job($b, $seen), qr/\|succeeded\|/, "bob's sync carries on");
sql("ALTER TABLE own_s.items OWNER TO own_alice");

# 2. alice loses LOGIN: LOGIN is about sessions, not privileges (a group
#    role may own syncs), so her syncs keep running with her privileges;
#    pausing or deleting them is how to stop them.
sql("ALTER ROLE own_alice NOLOGIN");
$seen = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
like(next_job($a, $seen), qr/\|succeeded\|/, "a NOLOGIN owner's sync still runs");
like(next_job($b, $seen), qr/\|succeeded\|/, "bob's sync carries on");
sql("SELECT nango.pause_sync($a)");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM nango.jobs WHERE sync_id = $a AND status = 'running'");
$seen = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
sleep 2;
is(sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $a AND id > $seen"), '0', 'a paused sync does not run');
sql("ALTER ROLE own_alice LOGIN");
sql("SELECT nango.resume_sync($a)");
$seen = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
like(next_job($a, $seen), qr/\|succeeded\|/, "alice's sync runs again once resumed");

# 3. alice is dropped (her objects go first): her sync is skipped, the
#    worker carries on.
sql("SELECT nango.update_sync($a, '{\"auto_mapping\": false}')");
sql("DROP SCHEMA own_s CASCADE");
sql("DROP ROLE own_alice");
$seen = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
like(next_job($b, $seen), qr/\|succeeded\|/, "bob's sync carries on after alice is dropped");
sleep 2;
is(sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $a AND id > $seen AND status = 'succeeded'"),
	'0', "the dropped owner's sync never succeeds");
ok($node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type ILIKE '%nango%'"), 'the nango launcher still runs');

sql("SELECT nango.pause_sync($b)");
sql("SELECT nango.delete_sync($a)");
sql("DROP EXTENSION nango CASCADE");
sql("DROP ROLE own_bob");
$node->stop;
done_testing();
