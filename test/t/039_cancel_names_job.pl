# A cancel names a job, not a process: a job worker runs one job after
# another, and a nango.cancel_job that found a job which ends before the
# cancel is delivered must not stop the next job the same worker runs.
# The canceller is held between finding the job and signalling it (its
# role membership check waits for a lock on pg_auth_members) while the
# job ends and the worker starts the next job of another sync: that job
# succeeds and cancel_job says the job was not running.  A worker sent a
# targeted cancel (SIGUSR2) that names a job it no longer runs ignores it;
# a run_sync session does too.  nango.cancel_job, pg_cancel_backend and
# delete_sync still cancel the job they aim at.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('cancel_target');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.max_workers = 1
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
# carol manages alice's syncs as a member of alice (not as alice herself)
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN; CREATE ROLE carol LOGIN IN ROLE alice');
$node->safe_psql('postgres', 'GRANT CREATE ON SCHEMA nango TO alice');

sub sql { return $node->safe_psql('postgres', $_[0]); }

my $cfg = '{"response_path": "data", "paging_number_request_path": "page", "frequency": "1 day"}';

# add($path): a sync of alice on the mock's $path, due now; returns its id.
sub add
{
	my ($path) = @_;
	return sql("SET ROLE alice; SELECT nango.add_sync('$mock$path', '$cfg')");
}

# running($sync): wait until a job of $sync shows a stored page; returns
# "job_id|pid".
sub running
{
	my ($sync) = @_;
	$node->poll_query_until('postgres',
		"SELECT page_count >= 1 FROM nango.job_progress WHERE sync_id = $sync")
	  or die "sync $sync does not run";
	return sql("SELECT job_id || '|' || pid FROM nango.job_progress WHERE sync_id = $sync");
}

# ended($sync): wait until $sync has a job and none running; returns the
# statuses of its jobs.
sub ended
{
	my ($sync) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 AND count(*) FILTER (WHERE status = 'running') = 0
		   FROM nango.jobs WHERE sync_id = $sync")
	  or die "sync $sync did not end";
	return sql("SELECT string_agg(status, ',' ORDER BY id) FROM nango.jobs WHERE sync_id = $sync");
}

# --- a cancel delayed past the end of its job does not stop the next one ------
my $a = add('/worker/pages?delay=1&pages=6&tag=a');
my ($job_a, $pid) = split /\|/, running($a);
# due now, it waits for the only worker, which takes it when a's job ends
my $b = add('/worker/pages?delay=1&pages=8&tag=b');

my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE pg_catalog.pg_auth_members IN ACCESS EXCLUSIVE MODE');
my ($co, $ce) = ('', '');
my $canceller = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-U', 'carol', '-c',
	  "SELECT nango.cancel_job($job_a) AS cancel_a" ],
	'>', \$co, '2>', \$ce);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	  WHERE NOT l.granted AND l.relation = 'pg_catalog.pg_auth_members'::pg_catalog.regclass
	    AND a.query LIKE '%AS cancel_a'"),
	'cancel_job of a running job waits to check the caller\'s membership');
is(sql("SELECT status FROM nango.jobs WHERE id = $job_a"), 'running',
	'the job it found was still running');
my ($job_b, $pid_b) = split /\|/, running($b);
is($pid_b, $pid, 'that job ended and its worker runs the next job, of another sync');
is(sql("SELECT status FROM nango.jobs WHERE id = $job_a"), 'succeeded', 'the first job succeeded');
$locker->query_safe('COMMIT');
$locker->quit;
$canceller->finish;
is($co, "f\n", 'cancel_job, let go, says the job it named is not running');
is(ended($b), 'succeeded', 'the next job of the worker was not cancelled');

# --- a stale targeted cancel is ignored; a current one cancels ----------------
my $c = add('/worker/pages?delay=1&pages=30&tag=c');
my ($job_c, $pid_c) = split /\|/, running($c);
my $d = add('/worker/pages?delay=1&pages=5&tag=d');
is(sql("SELECT nango.cancel_job($job_c)"), 't', 'cancel_job cancels a running worker job');
is(ended($c), 'cancelled', 'it ends as cancelled');
my ($job_d, $pid_d) = split /\|/, running($d);
is($pid_d, $pid_c, 'the worker runs the next job');
# the worker's entry still names the cancelled job: a signal now is stale
ok(kill('USR2', $pid_d), 'a targeted cancel naming the ended job is sent to the worker');
is(ended($d), 'succeeded', 'the worker ignores it: its job succeeds');

# --- pg_cancel_backend still cancels whatever job the process runs -----------
my $e = add('/worker/pages?delay=1&pages=30&tag=e');
my ($job_e, $pid_e) = split /\|/, running($e);
sql("SELECT pg_cancel_backend($pid_e)");
is(ended($e), 'cancelled', 'pg_cancel_backend cancels the job a worker runs');

# --- delete_sync cancels the running job of the sync it deletes ---------------
my $f = add('/worker/pages?delay=1&pages=30&tag=f');
my ($job_f) = split /\|/, running($f);
sql("SET ROLE alice; SELECT nango.delete_sync($f)");
is(sql("SELECT count(*) FROM nango.job_progress WHERE job_id = $job_f"), '0',
	'delete_sync cancelled the running job of the sync');

# --- a run_sync session ignores a targeted cancel of its ended job -----------
my $g = sql("BEGIN; SET LOCAL ROLE alice;
SELECT nango.add_sync('$mock/worker/pages?delay=1&pages=30&tag=g', '$cfg') AS id \\gset
SELECT :id FROM nango.pause_sync(:id);
COMMIT;");
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $spid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_until(qr/started/, "\\echo started\nSELECT nango.run_sync($g);\n");
my ($job_g) = split /\|/, running($g);
is(sql("SELECT nango.cancel_job($job_g)"), 't', 'cancel_job cancels a run_sync job');
is(ended($g), 'cancelled', 'it ends as cancelled');
# run_sync has returned once the session reads the next line
$session->query_until(qr/sleeping/, "\\echo sleeping\nSELECT pg_sleep(2);\n");
$session->{stderr} = '';
ok(kill('USR2', $spid), 'the session, in its next statement, gets a targeted cancel naming that job');
like($session->query('SELECT 1 AS after_sleep'), qr/^1$/m, 'the session goes on');
unlike($session->{stderr}, qr/canceling statement/, 'its statement was not cancelled');
$session->quit;

$node->stop;
done_testing();
