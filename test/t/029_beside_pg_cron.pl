# nango beside pg_cron (Debian's postgresql-15-cron), both preloaded and
# both scheduling in the same database, with max_worker_processes counted
# tight: pg_cron's job runs at every tick while nango keeps starting jobs
# up to nango.max_workers, neither starves the other of a worker slot, and
# pg_stat_activity shows both launchers all along.  Skipped (with a
# message) when pg_cron is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

# The test runner installs pg_cron into its private PostgreSQL when it can.
my $libdir = `pg_config --pkglibdir`;
my $sharedir = `pg_config --sharedir`;
chomp($libdir, $sharedir);
plan skip_all => "pg_cron is not installed (Debian package postgresql-15-cron: no $libdir/pg_cron.so)"
  unless -f "$libdir/pg_cron.so" && -f "$sharedir/extension/pg_cron.control";

# Worker slots, counted: the logical replication launcher 1, pg_cron's
# launcher 1, nango's supervisor 1 and launcher 1 (one served database),
# nango's job workers 2 (nango.max_workers), pg_cron's job run 1 (a
# background worker: cron.use_background_workers), and a margin of 1.
my $node = PostgreSQL::Test::Cluster->new('pg_cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron,nango'
cron.database_name = 'postgres'
cron.use_background_workers = on
nango.databases = 'postgres'
nango.max_workers = 2
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 8
});
$node->start;

sub sql
{
	return $node->safe_psql('postgres', $_[0]);
}

sql('CREATE EXTENSION pg_cron');
sql('CREATE EXTENSION nango');
sql('CREATE TABLE public.cron_ticks (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');

# pg_cron 1.4 (Debian 12) schedules by the minute: its job runs at every
# minute's start.
sql("SELECT cron.schedule('tick', '* * * * *', 'INSERT INTO public.cron_ticks DEFAULT VALUES')");

# Three nango syncs due every second, each job holding its worker for a
# moment: nango always wants more job slots than nango.max_workers.
my @syncs;
for my $i (1 .. 3)
{
	push @syncs, sql("SELECT nango.add_sync('$mock/worker/slow?delay=0.3&n=2&tag=$i',"
		  . " '{\"response_path\": \"data\", \"frequency\": \"1 second\"}')");
}

my $launchers = "SELECT string_agg(backend_type || ':' || pid, ',' ORDER BY backend_type)"
  . " FROM pg_stat_activity WHERE backend_type IN ('pg_cron launcher', 'nango launcher')";
ok($node->poll_query_until('postgres',
	"SELECT count(DISTINCT backend_type) = 2 FROM pg_stat_activity"
	  . " WHERE backend_type IN ('pg_cron launcher', 'nango launcher') AND datname = 'postgres'"),
	"pg_stat_activity shows pg_cron's launcher and nango's launcher");
my $launchers_before = sql($launchers);

ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 1 FROM nango.jobs WHERE status = 'succeeded'"),
	"nango's jobs run");

# Two ticks of pg_cron (up to two minutes), nango's jobs running meanwhile.
ok($node->poll_query_until('postgres', "SELECT count(*) >= 2 FROM public.cron_ticks"),
	"pg_cron's job runs repeatedly beside nango");

is(sql("SELECT count(*) FROM cron.job_run_details WHERE status <> 'succeeded'"), '0',
	"every run of pg_cron's job got a worker and succeeded");
cmp_ok(sql("SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'"), '>=', 2,
	"pg_cron recorded its runs as succeeded");

# Between pg_cron's first and second tick nango kept running its syncs.
cmp_ok(sql("SELECT count(*) FROM nango.jobs WHERE status = 'succeeded'"
	  . " AND started_at > (SELECT min(at) FROM public.cron_ticks)"
	  . " AND started_at < (SELECT max(at) FROM public.cron_ticks)"), '>=', 10,
	"nango's jobs kept running between pg_cron's ticks");
for my $s (@syncs)
{
	cmp_ok(sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $s AND status = 'succeeded'"),
		'>=', 3, "nango's sync $s ran repeatedly (no sync starved by the others)");
}
is(sql("SELECT count(*) FROM nango.jobs WHERE status = 'failed'"), '0', "no nango job failed");

is(sql($launchers), $launchers_before,
	'both launchers kept running all along (same processes)');
my $log = slurp_file($node->logfile);
unlike($log, qr/no free background worker slot/,
	'nango never found the worker slots full');
unlike($log, qr/could not start background process|out of background worker slots/,
	'pg_cron never found the worker slots full');

$node->stop;
done_testing();
