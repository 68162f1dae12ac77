# What started each job of the worker (nango.jobs.trigger: schedule,
# trigger, resume, retry), and which failures are retried automatically:
# only those that can pass (5xx, 408, ...); a permanent failure (a 404, a
# body that is not JSON, no record with its unique_key) waits for the next
# scheduled run.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('trigger_retry');
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

sub add_sync
{
	my ($path, $config) = @_;
	return sql("SELECT nango.add_sync('$mock$path', '$config')");
}

# triggers($sync): "trigger:status" of its jobs, oldest first
sub triggers
{
	my ($sync) = @_;
	return sql("SELECT string_agg(trigger || ':' || status, ',' ORDER BY id) FROM nango.jobs WHERE sync_id = $sync");
}

# wait_jobs($sync, $n): until $sync has $n jobs that ended
sub wait_jobs
{
	my ($sync, $n) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = $n FROM nango.jobs WHERE sync_id = $sync AND status <> 'running'");
}

# --- schedule, trigger, resume ----------------------------------------------
my $s = add_sync('/worker/slow?delay=0&n=1', '{"response_path": "data", "frequency": "1 hour"}');
ok(wait_jobs($s, 1), 'the first run after add_sync ends');
is(triggers($s), 'schedule:succeeded', 'the first run is a scheduled one');
sql("SELECT nango.trigger_sync($s)");
ok(wait_jobs($s, 2), 'the triggered run ends');
sql("SELECT nango.pause_sync($s)");
sql("SELECT nango.resume_sync($s)");
ok(wait_jobs($s, 3), 'the resumed run ends');
is(triggers($s), 'schedule:succeeded,trigger:succeeded,resume:succeeded',
	'trigger_sync and resume_sync runs say so');
is(sql("SELECT resumed_at IS NULL AND triggered_at IS NULL FROM nango.syncs WHERE id = $s"), 't',
	'the requests are cleared when their runs start');

# --- failures that can pass are retried (trigger retry, attempt + 1) --------
my $t503 = add_sync('/faults/flaky?id=t503&fail=1&status=503',
	'{"response_path": "data", "retries": 0, "frequency": "1 hour"}');
my $t408 = add_sync('/faults/flaky?id=t408&fail=1&status=408',
	'{"response_path": "data", "retries": 0, "frequency": "1 hour"}');
# --- permanent failures are not ---------------------------------------------
my $p404 = add_sync('/faults/status?code=404', '{"response_path": "data", "retries": 0, "frequency": "1 hour"}');
my $html = add_sync('/faults/html', '{"response_path": "data", "frequency": "1 hour"}');
my $nokey = add_sync('/worker/slow?delay=0&n=3', '{"response_path": "data", "unique_key": "ID", "frequency": "1 hour"}');

ok(wait_jobs($t503, 2), 'a 503 sync is retried');
is(sql("SELECT string_agg(trigger || ':' || attempt || ':' || status, ',' ORDER BY id) FROM nango.jobs WHERE sync_id = $t503"),
	'schedule:1:failed,retry:2:succeeded', 'the 503 job is retried as attempt 2 and succeeds');
ok(wait_jobs($t408, 2), 'a 408 sync is retried');
is(triggers($t408), 'schedule:failed,retry:succeeded', 'the 408 job is retried and succeeds');

# The first retry would come 5 seconds after the failure: wait longer.
ok(wait_jobs($_, 1), "sync $_ failed once") for ($p404, $html, $nokey);
sleep(8);
for my $p ([$p404, '404'], [$html, 'a body that is not JSON'], [$nokey, 'no record with its unique_key'])
{
	is(triggers($p->[0]), 'schedule:failed', "$p->[1]: one job, not retried");
	is(sql("SELECT retry_at IS NULL AND next_run_at > now() + interval '50 minutes' FROM nango.syncs WHERE id = $p->[0]"),
		't', "$p->[1]: the sync waits for its next scheduled run");
}
like(sql("SELECT error_message FROM nango.jobs WHERE sync_id = $nokey"),
	qr/unique_key "ID" is missing in all 3 records/, 'the keyless job says why');

# A worker's job with warnings logs them as a WARNING.
my $offset = -s $node->logfile;
my $dup = add_sync('/worker/slow?delay=0&n=4', '{"response_path": "data", "unique_key": "tag", "frequency": "1 hour"}');
ok(wait_jobs($dup, 1), 'the duplicate-key sync ran');
is(sql("SELECT status || ':' || duplicate_count || ':' || array_length(warnings, 1) FROM nango.jobs WHERE sync_id = $dup"),
	'succeeded:3:1', 'its job succeeded with 3 duplicates and a warning');
ok($node->wait_for_log(qr/WARNING:.*job \d+: 3 record\(s\) repeated a unique_key "tag"/, $offset),
	'the warning is in the server log');

$node->stop;
done_testing();
