# Without shared_preload_libraries every SQL function works, and CREATE
# EXTENSION and add_sync warn (once per session) that nothing runs on a
# schedule.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->start;

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION nango');
like($stderr, qr/WARNING:  nango is not in shared_preload_libraries: syncs will not run on a schedule/,
	'CREATE EXTENSION warns that syncs will not run on a schedule');

# Two add_sync calls in one session: one WARNING.
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT nango.add_sync('https://api.example.com/a') > 0;
	SELECT nango.add_sync('https://api.example.com/b') > 0;
});
is($ret, 0, 'add_sync works without the preloaded library');
is($stdout, "t\nt", 'both syncs were added');
my @warnings = ($stderr =~ /WARNING:  nango is not in shared_preload_libraries: syncs will not run on a schedule/g);
is(scalar @warnings, 1, 'the WARNING is raised once per session');
like($stderr, qr/HINT:  Add nango to shared_preload_libraries/, 'the WARNING has a hint');

# A new session warns again.
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT nango.add_sync('https://api.example.com/c') > 0});
like($stderr, qr/WARNING:  nango is not in shared_preload_libraries/, 'a new session is warned again');

# The other API functions do not warn.
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT nango.pause_sync(1); SELECT nango.resume_sync(1); SELECT nango.trigger_sync(1);
	SELECT nango.update_sync(1, '{"frequency": 5}'); SELECT nango.delete_sync(2);
	SELECT count(*) FROM nango.syncs;
});
is($ret, 0, 'the rest of the API works');
is($stderr, '', 'and does not warn');
like($stdout, qr/2$/, 'two syncs left');

# Without shared memory nango.job_progress is empty, nango.sync_status
# shows no running job and nango.cancel_job finds nothing running, all
# without an error.
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT count(*) FROM nango.job_progress;
	SELECT count(*) FROM nango.sync_status WHERE running_job_id IS NULL AND health = 'never_run';
	INSERT INTO nango.jobs (sync_id, status, ended_at) VALUES (1, 'succeeded', now());
	SELECT nango.cancel_job(max(id)) FROM nango.jobs;
});
is($ret, 0, 'the monitoring views work without the preloaded library');
is($stdout, "0\n2\nf", 'with no running job');

# A failed add_sync does not use up the warning.
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT nango.add_sync('ftp://x');
	SELECT nango.add_sync('https://api.example.com/d') > 0;
}, on_error_stop => 0);
like($stderr, qr/WARNING:  nango is not in shared_preload_libraries/, 'warned after a refused add_sync');

$node->stop;
done_testing();
