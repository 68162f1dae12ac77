# Secrets never leak: known secret values (header values, a secret-looking
# query parameter in the URL and in query_params, a URL password, the
# Pizzly token and secret key, a secret of nango.set_secret) go through a failing and a succeeding job
# (with retries, a 401 and a token refresh) and must not appear in the
# server log, nango.jobs, what another role sees of nango's tables, or
# NOTIFY payloads.  An API that echoes the credentials JSON-escaped,
# percent-encoded or in base64 gets them redacted in those forms too, and
# credentials never go to another origin (a next URL on localhost instead of
# 127.0.0.1), which the log notes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MIME::Base64;

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";

my @secrets = qw(hdr-S3CRET-bearer1 xkey-S3CRET-2 urlkey-S3CRET-3 qp-S3CRET-4
  pw-S3CRET-5 sig-S3CRET-6 body-S3CRET-7 nextsig- pzt_ pzkey-s3cr3t refresh_s3cr3t cHprZXktczNjcjN0Og
  secretval-S3CRET);

# The forms in which /scope/echo writes its two secret headers.
my $echo_token = 'tap/S3CRET+echo==';
my $echo_key = 'tapkey/S3CRET two';
my @forms = (
	'tap\\/S3CRET\\u002becho',
	join('', map { sprintf('\\u%04x', ord($_)) } split //, $echo_key) =~ s/\\u002b/\\u002B/gr,
	'tap%2FS3CRET%2Becho', 'tapkey%2fS3CRET%20two',
	encode_base64($echo_token, ''), encode_base64("someone:$echo_token", ''),
	encode_base64($echo_key, '') =~ tr{+/}{-_}r =~ s/=+$//r);

my $node = PostgreSQL::Test::Cluster->new('secrets');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.databases = 'postgres'
nango.allow_private_networks = on
nango.log_level = debug
nango.pizzly_base_url = '$mock/pizzly'
nango.pizzly_secret_key = 'pzkey-s3cr3t'
log_min_messages = debug1
# the test's own statements carry the secrets: PostgreSQL's statement log is
# outside nango's control
log_statement = none
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE sec');
$node->safe_psql('sec', q{
	CREATE EXTENSION nango;
	CREATE ROLE sec_alice LOGIN;
	CREATE ROLE sec_mallory LOGIN;
	SELECT nango.grant_connection('github', c, 'sec_alice') FROM unnest(ARRAY['stale', 'ok', 'revoked']) c;
});
system("curl -s -X POST '$mock/__reset' >/dev/null");

my $hostport = $mock =~ s{^http://}{}r;
my %cfg = (
	headers => q{"headers": {"Authorization": "Bearer hdr-S3CRET-bearer1", "X-Api-Key": "xkey-S3CRET-2"}},
	params  => q{"query_params": {"access_token": "qp-S3CRET-4", "page": 1}},
);
my $common = qq{"auto_mapping": false, "response_path": "data", "retries": 1, $cfg{headers}, $cfg{params}};

# As sec_alice: a failing job (500s echoing the request, retried), a
# succeeding job, a Pizzly job whose first token is refused (401, refresh),
# a Pizzly job that fails, each with a NOTIFY listened to.
# (psql's stderr too: run_sync's WARNINGs)
my ($out, $err) = ('', '');
my $rc = $node->psql('sec', qq{
	SET client_min_messages = warning;
	LISTEN nango_jobs;
	SELECT nango.run_sync(nango.add_sync(
		'http://user:pw-S3CRET-5\@$hostport/sec/fail?api_key=urlkey-S3CRET-3&signature=sig-S3CRET-6&x=1',
		'{$common, "friendly_name": "failing"}'));
	SELECT nango.run_sync(nango.add_sync(
		'http://user:pw-S3CRET-5\@$hostport/sec/echo?api_key=urlkey-S3CRET-3&signature=sig-S3CRET-6',
		'{$common, "friendly_name": "succeeding"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/sec/fail',
		'{"auto_mapping": false, "response_path": "data", "retries": 0, "method": "POST",
		  "body": {"grant": {"client_secret": "body-S3CRET-7", "scope": "read"}}, "friendly_name": "failing post"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/sec/signed?page=1',
		'{"auto_mapping": false, "response_path": "data", "retries": 0, "paging_url_path": "next",
		  "friendly_name": "signed pages"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/pizzly/api/items?trace=\${pizzlyAccessToken}',
		'{"auto_mapping": false, "response_path": "data", "pizzly_connection_id": "stale",
		  "pizzly_provider_config_key": "github", "friendly_name": "pizzly ok"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/sec/fail?trace=\${nangoAccessToken}',
		'{"auto_mapping": false, "response_path": "data", "retries": 1, "pizzly_connection_id": "ok",
		  "pizzly_provider_config_key": "github", "friendly_name": "pizzly failing",
		  "headers": {"X-Token": "\${pizzlyAccessToken}"}}'));
	SELECT nango.run_sync(nango.add_sync('$mock/pizzly/api/items',
		'{"auto_mapping": false, "response_path": "data", "pizzly_connection_id": "revoked",
		  "pizzly_provider_config_key": "github", "friendly_name": "pizzly revoked"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/scope/echo',
		'{"auto_mapping": false, "response_path": "data", "retries": 0, "friendly_name": "echoing",
		  "headers": {"Authorization": "Bearer $echo_token", "X-Api-Key": "$echo_key"}}'));
	SELECT nango.run_sync(nango.add_sync('$mock/scope/pages?page=1',
		'{"auto_mapping": false, "response_path": "data", "paging_url_path": "next",
		  "friendly_name": "cross origin", $cfg{headers}}'));
	SELECT nango.set_secret('api_secret', 'secretval-S3CRET-8/+"q"');
	SELECT nango.run_sync(nango.add_sync('$mock/sec/fail?k=\${secret:api_secret}',
		'{"auto_mapping": false, "response_path": "data", "retries": 1, "method": "POST",
		  "headers": {"X-Secret": "v=\${secret:api_secret}"}, "query_params": {"q": "\${secret:api_secret}"},
		  "body": {"deep": ["\${secret:api_secret}"]}, "friendly_name": "secret failing"}'));
	SELECT nango.run_sync(nango.add_sync('$mock/sec/echo',
		'{"auto_mapping": false, "response_path": "data", "headers": {"X-Secret": "\${secret:api_secret}"},
		  "friendly_name": "secret ok"}'));
}, stdout => \$out, stderr => \$err, extra_params => [ '-U', 'sec_alice' ]);
is($rc, 0, 'the jobs ran');
$out .= "\n" . $err;

# The requests really carried the secrets (so the test means something).
my $sent = `curl -s '$mock/__requests?path=/sec/fail'`;
like($sent, qr/hdr-S3CRET-bearer1/, 'the API received the bearer header');
like($sent, qr/urlkey-S3CRET-3/, 'the API received the URL api_key');
like($sent, qr/qp-S3CRET-4/, 'the API received the access_token query parameter');
like($sent, qr/pzt_ok_1_s3cr3t/, 'the API received the Pizzly token');
like($sent, qr/body-S3CRET-7/, 'the API received the body secret');
like($sent, qr/secretval-S3CRET-8/, 'the API received the value of ${secret:api_secret}');
like(`curl -s '$mock/__requests?path=/sec/signed'`, qr/nextsig-20-S3CRET/, 'the API received the 20th signature');
like(`curl -s '$mock/__requests?path=/pizzly/connection/ok'`, qr/cHprZXktczNjcjN0Og/,
	'Pizzly received the secret key');
like(`curl -s '$mock/__requests?path=/scope/echo'`, qr{tap/S3CRET}, 'the echoing API received its token');
my $pages = `curl -s '$mock/__requests?path=/scope/pages'`;
my @with_creds = grep { /xkey-S3CRET-2|hdr-S3CRET/ } ($pages =~ /\{"method"[^{}]*\{[^{}]*\}/g);
is(scalar(() = $pages =~ /"method"/g), 4, 'the cross-origin sync made 4 requests');
is(scalar(@with_creds), 2, 'only the 2 requests on the origin carried the credentials');
unlike(join('', grep { /localhost/ } ($pages =~ /\{"method"[^{}]*\{[^{}]*\}/g)), qr/S3CRET/,
	'no credential went to the other origin');

my $statuses = $node->safe_psql('sec',
	q{SELECT string_agg(friendly_name || ':' || j.status, ',' ORDER BY j.id) FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id});
is($statuses, 'failing:failed,succeeding:succeeded,failing post:failed,signed pages:failed,pizzly ok:succeeded,pizzly failing:failed,pizzly revoked:failed,echoing:failed,cross origin:succeeded,secret failing:failed,secret ok:succeeded',
	'the jobs failed and succeeded as planned');

my $notifies = () = $out =~ /Asynchronous notification "nango_jobs"/g;
is($notifies, 11, 'eleven NOTIFY payloads received');
my $jobs = $node->safe_psql('sec', 'SELECT j::text FROM nango.jobs j');
my $job_errors = $node->safe_psql('sec', "SELECT string_agg(error_message || ' ' || coalesce(error_detail, ''), E'\\n') FROM nango.jobs");
like($job_errors, qr/REDACTED/, 'job errors show REDACTED where secrets were');
my $log = slurp_file($node->logfile);
like($log, qr/nango: sync \d+ \(failing\)/, 'the server log has nango lines');
like($log, qr/nango: sync \d+ \(cross origin\): 2 requests went to another origin without the sync's credentials/,
	'the log counts the requests sent to another origin without credentials');
like($out, qr/sync \d+ \(echoing\): job failed: HTTP 500/, 'the echoing job failed with a WARNING');
for my $f (@forms)
{
	unlike($log, qr/\Q$f\E/, "server log: no echoed form $f");
	unlike($jobs, qr/\Q$f\E/, "nango.jobs: no echoed form $f");
	unlike($out, qr/\Q$f\E/, "WARNINGs: no echoed form $f");
}

for my $s (@secrets)
{
	unlike($log, qr/\Q$s\E/, "server log: no $s");
	unlike($jobs, qr/\Q$s\E/, "nango.jobs: no $s");
	unlike($out, qr/\Q$s\E/, "NOTIFY payloads and WARNINGs: no $s");
}

# A secret cut by the body excerpt's end leaves no first bytes behind.
unlike($log . $jobs, qr/(?:hdr|xkey|urlkey|qp|pw|sig)-?S?3?C?R?E?T?-?\d?\.\.\./, 'no secret prefix before an excerpt cut');

# Another role sees nothing of sec_alice's syncs, jobs or raw rows.
my $seen = $node->safe_psql('sec', q{
	SELECT (SELECT count(*) FROM nango.syncs) || ',' || (SELECT count(*) FROM nango.jobs) || ',' ||
	       (SELECT count(*) FROM nango.raw) || ',' || (SELECT count(*) FROM nango._nango_syncs) || ',' ||
	       (SELECT count(*) FROM nango._nango_jobs) || ',' || (SELECT count(*) FROM nango._nango_raw)
}, extra_params => [ '-U', 'sec_mallory' ]);
is($seen, '0,0,0,0,0,0', 'another role sees no sync, job or raw row');
my ($ret, $o, $e) = $node->psql('sec', 'SHOW nango.pizzly_secret_key', extra_params => [ '-U', 'sec_mallory' ]);
unlike($o . $e, qr/pzkey/, 'another role cannot read nango.pizzly_secret_key');
like($e, qr/permission denied|must be superuser/, 'SHOW nango.pizzly_secret_key is refused');
my $settings = $node->safe_psql('sec', q{SELECT string_agg(name || '=' || setting, ',') FROM pg_settings WHERE name LIKE 'nango.%'},
	extra_params => [ '-U', 'sec_mallory' ]);
unlike($settings, qr/pzkey/, 'pg_settings does not show the secret key to another role');
# the owner sees its syncs' config (its own secrets), nobody else's
is($node->safe_psql('sec', 'SELECT count(*) FROM nango.syncs', extra_params => [ '-U', 'sec_alice' ]),
	'11', 'the owner sees its syncs');

# The same syncs run by the background worker (connected as their owner):
# restart with nango.database = 'sec', wait until every sync ran again.
$node->append_conf('postgresql.conf', "nango.database = 'sec'\nnango.poll_interval = '200ms'\n");
$node->restart;
ok($node->poll_query_until('sec', q{
	SELECT count(*) >= 22 AND bool_and(status <> 'running') FROM nango.jobs}),
	'the worker ran every sync again');
$jobs = $node->safe_psql('sec', 'SELECT j::text FROM nango.jobs j');
$log = slurp_file($node->logfile);
like($jobs, qr/REDACTED/, 'worker jobs: errors show REDACTED');
for my $s (@secrets)
{
	unlike($log, qr/\Q$s\E/, "server log after worker jobs: no $s");
	unlike($jobs, qr/\Q$s\E/, "nango.jobs after worker jobs: no $s");
}
for my $f (@forms)
{
	unlike($log, qr/\Q$f\E/, "server log after worker jobs: no echoed form $f");
	unlike($jobs, qr/\Q$f\E/, "nango.jobs after worker jobs: no echoed form $f");
}
$node->safe_psql('sec', 'UPDATE nango.syncs SET status = \'paused\'');

$node->safe_psql('sec', 'DROP EXTENSION nango CASCADE');
$node->safe_psql('postgres', 'DROP ROLE sec_alice; DROP ROLE sec_mallory');
$node->stop;
done_testing();
