# Faults around running jobs: a job worker killed with SIGKILL or
# pg_terminate_backend leaves no job 'running' and its sync runs again;
# pg_cancel_backend ends a job as 'cancelled'; a failed job is retried with
# attempt + 1; an immediate shutdown during a job leaves the previous data
# intact and the sync completes after restart; a restarted launcher adopts
# the jobs still running.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub add_sync
{
	my ($path, $config) = @_;
	return sql("SELECT nango.add_sync('$mock$path', '$config')");
}

# running_pid($sync): wait for a running job of $sync; its worker's pid.
sub running_pid
{
	my ($sync) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM nango.jobs j JOIN pg_stat_activity a ON a.pid = j.pid
		  WHERE j.sync_id = $sync AND j.status = 'running'")
	  or die "no running job for sync $sync";
	return sql("SELECT pid FROM nango.jobs WHERE sync_id = $sync AND status = 'running'");
}

# --- pg_terminate_backend: job failed, retried as attempt 2 ---------------
my $s = add_sync('/worker/slow?delay=3&n=2', '{"response_path": "data", "frequency": "1 hour"}');
my $pid = running_pid($s);
sql("SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT status = 'failed' AND error_message IS NOT NULL FROM nango.jobs WHERE sync_id = $s ORDER BY id LIMIT 1"),
	'a terminated job worker leaves its job failed');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'succeeded' AND attempt = 2"),
	'the sync is retried (attempt 2) and succeeds');
is(sql("SELECT string_agg(trigger, ',' ORDER BY id) FROM nango.jobs WHERE sync_id = $s"),
	'schedule,retry', 'the job after a terminated worker is a retry');
is(sql("SELECT count(*) FROM nango.jobs WHERE status = 'running'"), '0', 'no job is left running');

# --- pg_cancel_backend: cancelled ------------------------------------------
sql("SELECT nango.trigger_sync($s)");
$pid = running_pid($s);
sql("SELECT pg_cancel_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'cancelled'"),
	'pg_cancel_backend ends the job as cancelled');

# --- SIGKILL: the server restarts, the job is failed, the sync runs again --
sql("SELECT nango.trigger_sync($s)");
$pid = running_pid($s);
my $killed_job = sql("SELECT id FROM nango.jobs WHERE sync_id = $s AND status = 'running'");
kill 'KILL', $pid;
ok($node->poll_query_until('postgres',
	"SELECT status = 'failed' FROM nango.jobs WHERE id = $killed_job"),
	'a job whose worker got SIGKILL is marked failed');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND id > $killed_job AND status = 'succeeded'"),
	'the sync runs again after the SIGKILL');

# --- a failing sync is retried 3 times, then waits ------------------------
my $f = add_sync('/worker/fail', '{"response_path": "data", "retries": 0, "frequency": "1 hour"}');
ok($node->poll_query_until('postgres',
	"SELECT array_agg(attempt ORDER BY id)::text = '{1,2,3,4}' FROM nango.jobs WHERE sync_id = $f AND status = 'failed'"),
	'a failed job is retried three times with attempt + 1');
is(sql("SELECT retry_at IS NULL AND next_run_at > now() + interval '50 minutes' FROM nango.syncs WHERE id = $f"),
	't', 'after the retries the sync waits for its next scheduled run');
is(sql("SELECT bool_and(b.started_at - a.ended_at >= interval '4 seconds')
	FROM nango.jobs a JOIN nango.jobs b ON b.sync_id = a.sync_id AND b.attempt = a.attempt + 1
	WHERE a.sync_id = $f"), 't', 'retries back off');
sql("SELECT nango.pause_sync($f)");

# --- a sync already running in a session (run_sync) is skipped, not failed -
my $x = add_sync('/worker/slow?delay=4&n=1', '{"response_path": "data", "frequency": "1 hour"}');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $x AND status = 'succeeded'");
my ($o, $e);
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SELECT nango.run_sync($x)" ],
	'>', \$o, '2>', \$e);
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT nango.run_sync($x)%'
	   AND wait_event_type = 'Extension'");
my $offset = -s $node->logfile;
sql("SELECT nango.trigger_sync($x)");
ok($node->wait_for_log(qr/sync $x in postgres is already running in another session; this run is skipped/, $offset),
	'a triggered run of a sync running in a session is skipped');
$h->finish;
is(sql("SELECT string_agg(status, ',' ORDER BY id) FROM nango.jobs WHERE sync_id = $x"),
	'succeeded,succeeded', 'and records no failed job');
is(sql("SELECT retry_at IS NULL FROM nango.syncs WHERE id = $x"), 't', 'nor a retry');

# --- the launcher restarts while a job runs: the job is not disturbed -----
sql("SELECT nango.trigger_sync($s)");
$pid = running_pid($s);
my $adopted = sql("SELECT id FROM nango.jobs WHERE sync_id = $s AND status = 'running'");
sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'nango launcher'");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango launcher'"),
	'the launcher comes back');
ok($node->poll_query_until('postgres', "SELECT status <> 'running' FROM nango.jobs WHERE id = $adopted"),
	'the job running during the launcher restart ends');
is(sql("SELECT status FROM nango.jobs WHERE id = $adopted"), 'succeeded',
	'and succeeds');

# --- immediate shutdown during an overwrite job ----------------------------
my $v = add_sync('/worker/version', '{"response_path": "data", "frequency": "1 hour"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $v AND status = 'succeeded'"),
	'the overwrite sync ran once');
my $content = "SELECT string_agg((data->>'id') || ':' || (data->>'version'), ',' ORDER BY data->>'id')
	FROM nango.raw WHERE sync_id = $v AND deleted_at IS NULL";
is(sql($content), '1:1,2:1,3:1', 'it holds version 1');
system("curl -s -X POST '$mock/worker/version?v=2&delay=6' >/dev/null");
sql("SELECT nango.trigger_sync($v)");
running_pid($v);
sleep(1);
$node->stop('immediate');
$node->start;
is(sql("SELECT count(*) FROM nango.jobs WHERE status = 'running' AND started_at < pg_postmaster_start_time()"),
	'0', 'after the restart no job of before the crash is running');
is(sql($content), '1:1,2:1,3:1', 'the overwrite sync still holds exactly its previous content');
system("curl -s -X POST '$mock/worker/version?v=2&delay=0' >/dev/null");
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 1 FROM nango.jobs WHERE sync_id = $v AND status = 'succeeded' AND started_at > pg_postmaster_start_time()"),
	'the sync completes after the restart');
is(sql($content), '1:2,2:2,3:2', 'and then holds version 2');
system("curl -s -X POST '$mock/worker/version?v=1&delay=0' >/dev/null");

$node->stop;
done_testing();
