#!/usr/bin/env bash
# install-test-deps.sh installs what the tests need beyond Go: the non-Go
# Kafka clients that internal/interop drives as subprocesses — kcat
# (librdkafka), Debian's kafka-python for /usr/bin/python3, kafkajs in a
# project-local folder — and a JDK with Maven, which scripts/kafka.sh uses to
# fetch and run Apache Kafka for broker/kafka's tests.
#
# Idempotent: each piece is checked first, so a second run only checks. Meant
# for a Debian machine where it runs as root (apt-get needs it).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js_dir="$repo/internal/interop/js"

apt_packages=()
command -v kcat >/dev/null 2>&1 || apt_packages+=(kcat)
# Debian's python3-kafka installs for the system interpreter, which is not
# necessarily the python3 first on PATH.
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || apt_packages+=(python3-kafka)
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_packages+=(maven)

if ((${#apt_packages[@]} > 0)); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "install-test-deps: need root to apt-get install ${apt_packages[*]}" >&2
		exit 1
	fi
	echo "install-test-deps: apt-get install ${apt_packages[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# kafkajs: installed exactly as package-lock.json pins it, again only when
# the installed version differs from the one package.json asks for.
kafkajs_current() {
	node -e '
		const [dir] = process.argv.slice(1);
		const want = require(dir + "/package.json").dependencies.kafkajs;
		let have = "";
		try { have = require(dir + "/node_modules/kafkajs/package.json").version; } catch {}
		process.exit(have === want ? 0 : 1);
	' "$js_dir"
}
if ! kafkajs_current; then
	echo "install-test-deps: npm ci in ${js_dir#"$repo"/}"
	(cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

kcat -V 2>/dev/null | grep -m1 Version
/usr/bin/python3 -c 'import kafka; print("kafka-python", kafka.__version__)'
node -e 'console.log("kafkajs", require(process.argv[1]).version)' "$js_dir/node_modules/kafkajs/package.json"
