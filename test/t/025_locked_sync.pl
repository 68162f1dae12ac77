# Scheduler isolation (docs/worker.md): a role that leaves open a transaction
# that ran update_sync (or pause, resume, trigger) on its sync holds that
# sync's row lock.  The launcher never waits for it: the locked sync is
# passed over, every other sync runs on time, and the locked sync runs
# again once the lock is gone.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('locked_sync');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
$node->safe_psql('postgres', 'CREATE ROLE lock_a LOGIN; CREATE ROLE lock_b LOGIN');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# add_sync($role, $name): a 1-second sync of $role against the mock.
sub add_sync
{
	my ($role, $name) = @_;
	return sql("SET ROLE $role; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1&tag=$name',"
		  . " '{\"response_path\": \"data\", \"frequency\": \"1 second\", \"friendly_name\": \"$name\"}')");
}

sub jobs { return sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $_[0]"); }

my $a = add_sync('lock_a', 'a');
my $b = add_sync('lock_b', 'b');
ok($node->poll_query_until('postgres',
	"SELECT count(DISTINCT sync_id) = 2 FROM nango.jobs WHERE sync_id IN ($a, $b) AND status = 'succeeded'"),
	'both syncs run');

# lock_a leaves a transaction open after changing its sync
my $open = $node->background_psql('postgres');
$open->query_safe('SET ROLE lock_a');
$open->query_safe('BEGIN');
$open->query_safe(qq{SELECT nango.update_sync($a, '{"friendly_name": "a renamed"}')});
# a job of a that had already started ends meanwhile
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM nango.jobs WHERE sync_id = $a AND status = 'running'");

my $a_before = jobs($a);
my $b_before = jobs($b);
my $lock_waits = 0;
for (1 .. 40)
{
	$lock_waits += sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher'"
		  . " AND wait_event_type = 'Lock'");
	usleep(200_000);
}
my $b_jobs = jobs($b) - $b_before;
cmp_ok($b_jobs, '>=', 6, "another role's 1-second sync keeps running ($b_jobs jobs in 8 s)");
is($lock_waits, 0, 'the launcher is never seen waiting on a lock');
is(jobs($a), $a_before, 'the locked sync is passed over');
is(sql("SELECT count(*) FROM nango.jobs WHERE status = 'failed'"), '0', 'no job failed');

$open->query_safe('COMMIT');
$open->quit;
ok($node->poll_query_until('postgres',
	"SELECT count(*) > $a_before FROM nango.jobs WHERE sync_id = $a AND status = 'succeeded'"),
	'the locked sync runs once the lock is gone');
is(sql("SELECT friendly_name FROM nango.syncs WHERE id = $a"), 'a renamed', 'its change is kept');

$node->stop;
done_testing();
