# Shell functions shared by test/run_tests.sh, test/demo.sh and
# bench/run_bench.sh (sourced, not run).

# install_missing_packages PKG...: installs the Debian packages that are not
# installed yet (with sudo when not root).  Returns non-zero when apt fails.
install_missing_packages() {
	local p missing=() sudo=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# private_install DEST PGVER PG_CONFIG: copies the system's PostgreSQL PGVER
# to DEST/usr/... and installs the built extension there (make install
# DESTDIR=DEST).  PostgreSQL finds its share and lib directories relative
# to its binaries, so DEST/usr/lib/postgresql/PGVER/bin runs as a complete,
# separate installation and the system's is never touched.
private_install() {
	local dest=$1 pgver=$2 pg_config=$3
	mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql" &&
		cp -a "/usr/lib/postgresql/$pgver" "$dest/usr/lib/postgresql/" &&
		cp -a "/usr/share/postgresql/$pgver" "$dest/usr/share/postgresql/" &&
		make -s PG_CONFIG="$pg_config" install DESTDIR="$dest" >/dev/null
}

# install_optional_packages PKG...: like install_missing_packages, for
# packages that only some tests need (pg_cron for the test that runs nango
# beside it): a failure is reported on one line and not fatal; the tests
# that need a missing package skip with a message.  Install them before
# private_install, which copies the whole PostgreSQL installation (so
# pg_cron's library and extension files come along).
install_optional_packages() {
	local p
	for p in "$@"; do
		install_missing_packages "$p" ||
			echo "== could not install $p: the tests that need it are skipped"
	done
	return 0
}
