# The network guard (nango.allow_private_networks): with the setting off,
# loopback, private, link-local and unique-local addresses are refused on
# the address actually connected to (names, IPv4-mapped IPv6 and redirects
# cannot get around it), without retries and with an error naming the
# setting; with it on, the same requests go through.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";
my ($mock_port) = $mock =~ /:(\d+)$/;

# A proxy in the server's environment is not used (through it the guard
# would see only the proxy): requests below still reach the mock directly.
$ENV{http_proxy} = 'http://127.0.0.1:9';
$ENV{all_proxy}  = 'http://127.0.0.1:9';

my $node = PostgreSQL::Test::Cluster->new('netguard');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'nango'\nlc_messages = 'C'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE guard');
$node->safe_psql('guard', 'CREATE EXTENSION nango');

is($node->safe_psql('guard', 'SHOW nango.allow_private_networks'), 'off', 'the guard is on by default');

# run_job(url, config): runs a new sync once; returns "status|error_message".
sub run_job
{
	my ($url, $config) = @_;
	$config //= '{}';
	return $node->safe_psql('guard', qq{
		SET client_min_messages = error;
		SELECT nango.run_sync(nango.add_sync('$url',
			'{"auto_mapping": false, "response_path": "data"}'::jsonb || '$config'::jsonb)) AS j \\gset
		SELECT status || '|' || coalesce(error_message, '') FROM nango.jobs WHERE id = :j;
	});
}

# Every refused form: loopback by IP and by name, the IPv6 forms, private,
# link-local (cloud metadata), CGNAT, "this network".
my @refused = (
	[ "http://127.0.0.1:$mock_port/sec/guard", 'loopback' ],
	[ "http://localhost:$mock_port/sec/guard", 'loopback' ],
	[ "http://[::1]:$mock_port/sec/guard", 'loopback' ],
	[ "http://[::ffff:127.0.0.1]:$mock_port/sec/guard", 'loopback' ],
	[ "http://127.1.2.3:$mock_port/sec/guard", 'loopback' ],
	[ "http://0.0.0.0:$mock_port/sec/guard", 'this network' ],
	[ "http://169.254.169.254/latest/meta-data/", 'link-local' ],
	[ "http://10.1.2.3/x", 'RFC 1918' ],
	[ "http://192.168.0.1/x", 'RFC 1918' ],
	[ "http://172.16.5.4/x", 'RFC 1918' ],
	[ "http://100.64.0.1/x", 'CGNAT' ],
	[ "http://[fd00::1]/x", 'unique-local' ],
	[ "http://[fe80::1]/x", 'link-local' ],
	[ "http://[::ffff:169.254.169.254]/x", 'link-local' ],
);
for my $r (@refused)
{
	my ($url, $range) = @$r;
	my $t0 = time;
	my $out = run_job($url, '{"retries": 5}');
	my $secs = time - $t0;
	like($out, qr/^failed\|.*refused by nango\.allow_private_networks: .*\Q$range\E/,
		"$url is refused as $range");
	ok($secs < 5, "$url: refused at once, no retries (${secs}s)");
}

# The mock saw none of those requests.
my $log = `curl -s --noproxy '*' '$mock/__requests?path=/sec/guard'`;
is($log, '[]', 'no refused request reached the server');

# A redirect from an allowed address to a refused one is refused.  The
# allowed address is one of this machine's addresses outside the refused
# ranges, served by a small redirector; skipped when there is none.
my $public;
for my $a (split /\s+/, `hostname -I 2>/dev/null`)
{
	next unless $a =~ /^(\d+)\.(\d+)\.\d+\.\d+$/;
	my ($x, $y) = ($1, $2);
	next if $x == 127 || $x == 10 || $x == 0 || ($x == 172 && $y >= 16 && $y < 32)
	  || ($x == 192 && $y == 168) || ($x == 169 && $y == 254) || ($x == 100 && $y >= 64 && $y < 128)
	  || $x >= 224 || ($x == 192 && $y == 0) || ($x == 198 && ($y == 18 || $y == 19));
	$public = $a;
	last;
}
# 192.0.0.0/24 is refused but 192.0.2.0/24 (documentation) is not
if (!defined $public)
{
	for my $a (split /\s+/, `hostname -I 2>/dev/null`)
	{
		if ($a =~ /^192\.0\.2\.\d+$/) { $public = $a; last; }
	}
}
SKIP:
{
	skip 'no local address outside the refused ranges', 5 unless defined $public;
	my $portfile = "$PostgreSQL::Test::Utils::tmp_check/redirector.port";
	my $script = qq{
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/data'):
            b = b'{"data": [{"id": 1}]}'
            self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
            return
        if self.path.startswith('/page'):
            b = ('{"data": [{"id": 1}], "next": "$mock/sec/guard"}').encode()
            self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
            return
        to = '$mock/sec/guard' if self.path.startswith('/to-loopback') else '/data'
        self.send_response(302); self.send_header('Location', to); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(('$public', 0), H)
open('$portfile', 'w').write(str(s.server_port))
s.serve_forever()
};
	my $pid = fork();
	if ($pid == 0) { exec('python3', '-c', $script) or exit 1; }
	my $port;
	for (1 .. 100)
	{
		if (-s $portfile) { $port = slurp_file($portfile); last; }
		select(undef, undef, undef, 0.1);
	}
	ok(defined $port, "redirector listening on $public");
	like(run_job("http://$public:$port/to-data"), qr/^succeeded\|$/,
		'an allowed address redirecting to an allowed address works');
	like(run_job("http://$public:$port/to-loopback", '{"retries": 3}'),
		qr/^failed\|.*refused by nango\.allow_private_networks: 127\.0\.0\.1 is a loopback address/,
		'a redirect from an allowed address to loopback is refused');
	like(run_job("http://$public:$port/page", '{"paging_url_path": "next"}'),
		qr/^failed\|.*refused by nango\.allow_private_networks: 127\.0\.0\.1 is a loopback address/,
		'a next URL (paging) pointing at loopback is refused');
	$log = `curl -s --noproxy '*' '$mock/__requests?path=/sec/guard'`;
	is($log, '[]', 'the redirect and next-URL target saw no request');
	kill 'TERM', $pid;
	waitpid($pid, 0);
}

# run_sync's WARNING names the setting; only a superuser may change it.
my ($ret, $stdout, $stderr) = $node->psql('guard', qq{
	SELECT nango.run_sync(nango.add_sync('$mock/sec/guard', '{"auto_mapping": false}'))});
like($stderr, qr/WARNING:.*refused by nango\.allow_private_networks: 127\.0\.0\.1 is a loopback address/,
	'run_sync warns naming the setting and the refused range');
$node->safe_psql('guard', 'CREATE ROLE guard_user LOGIN');
($ret, $stdout, $stderr) = $node->psql('guard', 'SET nango.allow_private_networks = on',
	extra_params => [ '-U', 'guard_user' ]);
like($stderr, qr/permission denied to set parameter "nango\.allow_private_networks"/,
	'a non-superuser cannot turn the guard off');

# With the setting on, the same requests go through.
$node->append_conf('postgresql.conf', "nango.allow_private_networks = on\n");
$node->reload;
like(run_job("http://127.0.0.1:$mock_port/sec/guard"), qr/^succeeded\|$/, 'loopback allowed when on');
like(run_job("http://localhost:$mock_port/sec/guard"), qr/^succeeded\|$/, 'localhost allowed when on');
like($node->safe_psql('guard', 'SELECT 1'), qr/1/, 'the server runs with http_proxy set to a dead proxy, which nango ignored');

$node->safe_psql('guard', 'DROP EXTENSION nango CASCADE');
$node->safe_psql('postgres', 'DROP ROLE guard_user');
$node->stop;
done_testing();
