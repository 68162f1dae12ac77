# Rate limits shared across processes (docs/config.md): two syncs that send
# the same token to the same host, run at the same time by the background
# worker, share one budget, the smaller of their rate_limits (10 per
# second): the mock, which records when each request arrived, never gets
# more than 10 of their requests in any window of a second, and the waiting
# jobs show waiting_for = 'rate_limit' in nango.job_progress.  Without
# shared_preload_libraries, run_sync still honours a sync's own limit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('ratelimit');
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

`curl -s --noproxy '*' -X POST '$mock/__reset'`;

my $paging = '"response_path": "data", "paging_cursor_metadata_response_path": "next", '
  . '"paging_cursor_request_path": "page"';

# report($id): the arrival times (Unix seconds) the mock recorded for ?id=$id
sub report
{
	my ($id) = @_;
	my $r = `curl -s --noproxy '*' '$mock/rl/report?id=$id'`;
	my ($times) = $r =~ /"times": \[([^\]]*)\]/;
	return map { $_ + 0 } split /,\s*/, ($times // '');
}

# max_in_window($width, @times): the most requests in any [t, t + width)
sub max_in_window
{
	my ($width, @t) = @_;
	@t = sort { $a <=> $b } @t;
	my $max = 0;
	for my $i (0 .. $#t)
	{
		my $n = grep { $_ >= $t[$i] && $_ < $t[$i] + $width } @t;
		$max = $n if $n > $max;
	}
	return $max;
}

# The second sync starts once the first one's job is running (has sent a
# request), so that the first one's limit is known when the second one
# sends: the second's own limit is larger, so the first's applies to both.
my $cfg_a = qq({"auto_mapping": false, "headers": {"Authorization": "Bearer shared-token"}, )
  . qq("rate_limit": {"requests": 10, "per": "1 second"}, $paging});
my $cfg_b = qq({"auto_mapping": false, "headers": {"Authorization": "Bearer shared-token"}, )
  . qq("rate_limit": {"requests": 100, "per": "1 second"}, $paging});
my $s1 = sql("SELECT nango.add_sync('$mock/rl/pages?id=a&pages=40', '$cfg_a')");
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM nango.job_progress WHERE sync_id = $s1 AND page_count >= 1")
  or die 'the first sync did not start';
my $s2 = sql("SELECT nango.add_sync('$mock/rl/pages?id=b&pages=30', '$cfg_b')");

my $seen_wait = 0;
my $done = 0;
for (1 .. 600)
{
	$seen_wait = 1 if sql("SELECT count(*) FROM nango.job_progress
		WHERE sync_id IN ($s1, $s2) AND waiting_for = 'rate_limit'") > 0;
	$done = sql("SELECT count(*) FROM nango.jobs WHERE sync_id IN ($s1, $s2) AND status <> 'running'");
	last if $done == 2;
	usleep(50_000);
}
is($done, 2, 'both jobs ended');
is(sql("SELECT string_agg(status, ',') FROM nango.jobs WHERE sync_id IN ($s1, $s2)"),
	'succeeded,succeeded', 'both jobs succeeded');
ok($seen_wait, 'a job was seen waiting for the rate limit in nango.job_progress');

my @ta = report('a');
my @tb = report('b');
is(scalar(@ta) + scalar(@tb), 70, 'the mock got the 70 requests');
# The budget is shared while both jobs run: once the first (10 per second)
# has ended, the second's own limit (100 per second) applies, which a slow
# machine can reach; so only the second's requests up to the first's last
# one count.  Arrival times jitter a little around send times: windows of
# 0.95 s.
my $a_end = (sort { $a <=> $b } @ta)[-1];
my @shared = sort { $a <=> $b } (@ta, grep { $_ <= $a_end } @tb);
my $max = max_in_window(0.95, @shared);
cmp_ok($max, '<=', 10, "at most 10 requests of the two syncs in any second (max $max)");
my $min_span = (scalar(@shared) - 10) / 10 - 0.5;
cmp_ok($shared[-1] - $shared[0], '>=', $min_span,
	'the ' . scalar(@shared) . " requests sent while both jobs ran took $min_span seconds at least");
# the two jobs really overlapped (else the test proves nothing about sharing)
my ($ea, $sb) = ((sort { $a <=> $b } @ta)[-1], (sort { $a <=> $b } @tb)[0]);
my ($eb, $sa) = ((sort { $a <=> $b } @tb)[-1], (sort { $a <=> $b } @ta)[0]);
ok($sb < $ea && $sa < $eb, 'the two jobs ran at the same time');

# another token to the same host has a budget of its own: not slowed down
my $cfg_c = qq({"auto_mapping": false, "headers": {"Authorization": "Bearer other"}, $paging});
my $c = sql("SELECT nango.add_sync('$mock/rl/pages?id=c&pages=30', '$cfg_c')");
$node->poll_query_until('postgres',
	"SELECT status = 'succeeded' FROM nango.jobs WHERE sync_id = $c")
  or die 'the third sync did not succeed';
my @tc = sort { $a <=> $b } report('c');
cmp_ok($tc[-1] - $tc[0], '<', 3, 'a sync with other credentials is not held to that budget');

$node->stop;

# Without shared_preload_libraries the budget is the backend's own.
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->start;
my $cfg_d = qq({"auto_mapping": false, "rate_limit": {"requests": 4, "per": "1 second"}, $paging});
my $d = sql("SELECT nango.add_sync('$mock/rl/pages?id=d&pages=12', '$cfg_d')");
sql("SET client_min_messages = error; SELECT nango.run_sync($d)");
is(sql("SELECT status FROM nango.jobs WHERE sync_id = $d"), 'succeeded', 'run_sync succeeded without preload');
my @td = report('d');
is(scalar(@td), 12, 'the mock got the 12 requests');
cmp_ok(max_in_window(0.95, @td), '<=', 4, 'at most 4 requests in any second without preload');

$node->stop;
done_testing();
