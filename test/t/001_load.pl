# The library loads when preloaded and every setting shows its default.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'nango'\n");
$node->start;

my %defaults = (
	'nango.database'               => '',
	'nango.databases'              => '*',
	'nango.max_workers'            => '4',
	'nango.poll_interval'          => '1s',
	'nango.pizzly_base_url'        => '',
	'nango.pizzly_secret_key'      => '',
	'nango.http_timeout'           => '30s',
	'nango.max_response_size'      => '64MB',
	'nango.allow_private_networks' => 'off',
	'nango.log_level'              => 'info',
	'nango.job_retention'          => '30d',
);
for my $name (sort keys %defaults)
{
	is($node->safe_psql('postgres', "SHOW $name"), $defaults{$name}, "$name defaults to '$defaults{$name}'");
}

$node->safe_psql('postgres', 'CREATE EXTENSION nango');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'nango'"),
	'0.3.0', 'extension created in a preloaded cluster');
$node->stop;
done_testing();
