# Job workers reused for the next due job of the same owner: 30 syncs of
# one owner due at once with nango.max_workers = 2 all run, each exactly
# once, in fewer job worker processes than jobs; syncs of two owners due
# together never share a process (each process runs only its own role's
# jobs, and connects as that role, or becomes it when it has no LOGIN); a worker that ran a job of a sync runs
# the next one named in pg_stat_activity's application_name, with a
# session reset (no setting or advisory lock of the previous job left); cancelling a
# job on a reused worker cancels that job only, and the worker then runs
# the next job.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('reuse');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.max_workers = 2
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN');
$node->safe_psql('postgres', 'GRANT CREATE ON SCHEMA nango TO alice, bob');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# add_many($role, $n, $tag): $n one-page syncs of $role added in one
# transaction, so all are due at once; returns the ids as "a,b,...".
sub add_many
{
	my ($role, $n, $tag) = @_;
	return sql("SET ROLE $role; SELECT string_agg(nango.add_sync(
	    '$mock/worker/slow?delay=0&n=1&tag=$tag' || i,
	    '{\"response_path\": \"data\", \"frequency\": \"1 day\"}')::text, ',')
	  FROM generate_series(1, $n) i");
}

# all_ended($ids, $n): wait until the syncs $ids have $n ended jobs.
sub all_ended
{
	my ($ids, $n) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = $n FROM nango.jobs WHERE sync_id IN ($ids) AND status <> 'running'");
}

# --- one owner, 30 due syncs, two workers ------------------------------------
my $ids = add_many('alice', 30, 'a');
ok(all_ended($ids, 30), '30 due syncs of one owner all ran with max_workers = 2');
is(sql("SELECT count(*) FILTER (WHERE status = 'succeeded') || '/' || count(DISTINCT sync_id)
        FROM nango.jobs WHERE sync_id IN ($ids)"),
	'30/30', 'each sync ran exactly once and succeeded');
my $procs = sql("SELECT count(DISTINCT pid) FROM nango.jobs WHERE sync_id IN ($ids)");
cmp_ok($procs, '<', 30, "fewer job worker processes ($procs) than jobs: workers were reused");
is(sql("SELECT count(*) FROM nango.syncs WHERE id IN ($ids)
          AND next_run_at > now() + interval '23 hours'"),
	'30', 'every sync has its next run a day later');

# --- two owners due together never share a process ----------------------------
my $a = add_many('alice', 12, 'x');
my $b = add_many('bob', 12, 'y');
ok(all_ended("$a,$b", 24), 'syncs of two owners due together all ran');
is(sql("SELECT count(*) FROM (SELECT j.pid FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id
          WHERE j.sync_id IN ($a,$b) GROUP BY j.pid HAVING count(DISTINCT s.owner) > 1) x"),
	'0', 'no process ran jobs of both owners');
is(sql("SELECT count(*) FILTER (WHERE status = 'succeeded') FROM nango.jobs WHERE sync_id IN ($a,$b)"),
	'24', 'all their jobs succeeded');

# --- a reused worker starts each job with a clean session ----------------------
sql("ALTER SYSTEM SET nango.max_workers = 1");
sql("SELECT pg_reload_conf()");
$node->poll_query_until('postgres', "SELECT current_setting('nango.max_workers') = '1'");
# The first sync's trigger leaves a session advisory lock and a session
# setting behind; the next sync's trigger notes what its session holds.
sql(qq{CREATE SCHEMA r AUTHORIZATION alice;
SET ROLE alice;
CREATE TABLE r.seen (pid int, work_mem text, locked bool);
CREATE FUNCTION r.leave() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_advisory_lock(4242); PERFORM set_config('work_mem', '1234kB', false);
RETURN NULL; END \$\$;
CREATE FUNCTION r.look() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO r.seen SELECT pg_backend_pid(), current_setting('work_mem'),
  EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242
          AND pid = pg_backend_pid());
RETURN NULL; END \$\$;
CREATE TABLE r.a (); CREATE TABLE r.b ();
CREATE TRIGGER leave AFTER INSERT ON r.a FOR EACH STATEMENT EXECUTE FUNCTION r.leave();
CREATE TRIGGER look AFTER INSERT ON r.b FOR EACH STATEMENT EXECUTE FUNCTION r.look();});
my ($leaves, $looks) = split /\|/, sql("SET ROLE alice;
SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1&tag=leave', '{\"response_path\": \"data\", \"mapped_table\": \"r.a\", \"frequency\": \"1 day\"}'),
       nango.add_sync('$mock/worker/slow?delay=0&n=1&tag=look', '{\"response_path\": \"data\", \"mapped_table\": \"r.b\", \"frequency\": \"1 day\"}')");
ok(all_ended("$leaves,$looks", 2), 'two syncs of one owner ran one after the other');
is(sql("SELECT string_agg(status, ',' ORDER BY sync_id) FROM nango.jobs WHERE sync_id IN ($leaves,$looks)"),
	'succeeded,succeeded', 'both succeeded');
my $leaver = sql("SELECT pid FROM nango.jobs WHERE sync_id = $leaves");
is(sql("SELECT pid = $leaver FROM nango.jobs WHERE sync_id = $looks"), 't',
	'the second ran in the worker of the first');
is(sql("SELECT (pid = $leaver) || ' ' || work_mem || ' ' || locked FROM r.seen"),
	'true ' . sql("SHOW work_mem") . ' false',
	"it saw neither the first job's session setting nor its advisory lock");

# --- an owner without LOGIN: its worker is reused too ----------------------------
sql("CREATE ROLE grp NOLOGIN; GRANT CREATE ON SCHEMA nango TO grp");
my $g = add_many('grp', 4, 'g');
ok(all_ended($g, 4), 'four syncs of a role without LOGIN ran');
is(sql("SELECT count(*) FILTER (WHERE status = 'succeeded') || ' ' || (count(DISTINCT pid) < 4)
        FROM nango.jobs WHERE sync_id IN ($g)"),
	'4 true', 'they succeeded, in fewer processes than jobs');

# --- cancel a job on a reused worker -------------------------------------------
my ($first, $slow, $after) = split /\|/, sql("SET ROLE alice;
SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1&tag=first', '{\"response_path\": \"data\", \"frequency\": \"1 day\"}'),
       nango.add_sync('$mock/worker/pages?delay=1&pages=30', '{\"response_path\": \"data\", \"paging_number_request_path\": \"page\", \"frequency\": \"1 day\"}'),
       nango.add_sync('$mock/worker/slow?delay=0&n=1&tag=after', '{\"response_path\": \"data\", \"frequency\": \"1 day\"}')");
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 1 FROM nango.job_progress WHERE sync_id = $slow"),
	'the slow sync runs');
my $slow_job = sql("SELECT id FROM nango.jobs WHERE sync_id = $slow");
my $pid = sql("SELECT pid FROM nango.jobs WHERE sync_id = $slow");
is(sql("SELECT pid FROM nango.jobs WHERE sync_id = $first"), $pid,
	'it runs in the worker that ran the sync before it');
is(sql("SELECT application_name || ' ' || usename FROM pg_stat_activity WHERE pid = $pid"),
	"nango job: sync $slow in postgres alice",
	"the worker's application_name names the current job's sync; it runs as the owner");
is(sql("SELECT nango.cancel_job($slow_job)"), 't', 'cancel_job cancels it');
ok(all_ended("$first,$slow,$after", 3), 'the three jobs ended');
is(sql("SELECT string_agg(status, ',' ORDER BY sync_id) FROM nango.jobs WHERE sync_id IN ($first,$slow,$after)"),
	'succeeded,cancelled,succeeded', 'only the cancelled job was cancelled; the next one succeeded');
is(sql("SELECT pid FROM nango.jobs WHERE sync_id = $after"), $pid,
	'the worker ran the next job after the cancel');

$node->stop;
done_testing();
