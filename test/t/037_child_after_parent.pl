# A child sync without frequency or cron has no run of its own after
# add_sync; the worker runs it after each successful job of its parent
# (trigger 'parent'), whether the parent's job came from its schedule or
# from run_sync; a failed job of the parent starts no child run.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('children');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# the parent runs on a cron far away: only when resumed and by run_sync;
# it is paused until its child exists
my $parent = sql("WITH s AS (SELECT nango.add_sync('$mock/children/gh/repos',
	'{\"unique_key\": \"id\", \"cron\": \"0 0 1 1 *\", \"auto_mapping\": false}') AS id)
	SELECT s.id FROM s, LATERAL (SELECT nango.pause_sync(s.id)) p");
my $child = sql("SELECT nango.add_sync('$mock/children/gh/repos/\${parent.full_name}/issues',
	'{\"parent\": {\"sync\": $parent}, \"unique_key\": \"id\", \"paging_header_link_rel\": \"next\",
	  \"auto_mapping\": false}')");
is(sql("SELECT next_run_at IS NULL FROM nango.syncs WHERE id = $child"), 't',
	'a child without a schedule has no run of its own after add_sync');

sleep(1);
is(sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $child"), '0',
	'nor does it run on its own');

# the parent's scheduled run succeeds: the child runs after it
sql("SELECT nango.resume_sync($parent)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $child AND status = 'succeeded'"),
	'the child runs after its parent\'s successful job');
is(sql("SELECT trigger FROM nango.jobs WHERE sync_id = $child"), 'parent',
	'the child\'s job has trigger parent');
is(sql("SELECT (SELECT min(started_at) FROM nango.jobs WHERE sync_id = $child)
	>= (SELECT max(ended_at) FROM nango.jobs WHERE sync_id = $parent)"), 't',
	'the child started after the parent\'s job ended');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $child AND deleted_at IS NULL"), '8',
	'the child stored the issues of both repositories');
is(sql("SELECT next_run_at IS NULL FROM nango.syncs WHERE id = $child"), 't',
	'after its run the child waits for the parent again');

# run_sync of the parent (in a session) also chains a child run
sql("SELECT nango.run_sync($parent)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM nango.jobs WHERE sync_id = $child AND status = 'succeeded'"),
	'run_sync of the parent chains a child run');

# a failed job of the parent chains nothing
sql("SELECT nango.update_sync($parent, '{\"response_path\": \"missing\"}')");
$node->psql('postgres', "SET client_min_messages = error; SELECT nango.run_sync($parent)");
is(sql("SELECT status FROM nango.jobs WHERE sync_id = $parent ORDER BY id DESC LIMIT 1"), 'failed',
	'the parent\'s job failed');
sleep(2);
is(sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $child"), '2',
	'a failed job of the parent starts no child run');

$node->stop;
done_testing();
