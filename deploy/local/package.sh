#!/usr/bin/env bash
# The Debian package and the deployment files, as CI checks them:
#  1. cpack -G DEB in build/ (the release build), then apt-get install ./cshield_*.deb;
#  2. the installed programs run (--version) and the package holds the units and the docs;
#  3. the systemd units: systemd-analyze verify, and systemd-analyze security with an overall
#     exposure of at most 2.0 (on a 0-10 scale; 1.2 "OK" when written);
#  4. the Kubernetes manifests parse, and their probes ask /health on the metrics port that
#     the configuration listens on.
# Needs root or sudo (it installs the package). Exit status: non-zero if anything failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$CS_ROOT"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

[ -f build/build.ninja ] || cs_die "no release build in build/ (deploy/local/build.sh release)"
rm -f build/cshield_*.deb
(cd build && cpack -G DEB >/dev/null) || cs_die "cpack -G DEB failed"
deb=$(ls build/cshield_*.deb)
cs_log "built $deb ($(du -h "$deb" | cut -f1)); depends: $(dpkg-deb -f "$deb" Depends)"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --allow-downgrades "./$deb" >/dev/null \
	|| cs_die "apt-get install $deb failed"
for p in cshield-ingest cshield-report cshield-alerts cshield-ioc cshield-bench cshield-taxii; do
	/usr/bin/$p --version >/dev/null || cs_die "/usr/bin/$p --version failed"
done
for f in /lib/systemd/system/cshield-ingest@.service /lib/systemd/system/cshield-report@.service \
	/lib/systemd/system/cshield-report@.timer /lib/systemd/system/cshield-taxii@.service \
	/lib/systemd/system/cshield-sightings@.service /lib/systemd/system/cshield-sightings@.timer \
	/usr/share/doc/cshield/OPERATIONS.md /usr/share/doc/cshield/SHARING.md \
	/usr/share/doc/cshield/examples/ingest.conf.example; do
	dpkg -S "$f" >/dev/null 2>&1 || [ -e "$f" ] || cs_die "the package lacks $f"
done
cs_log "installed: $(dpkg-query -W -f='${Package} ${Version}' cshield); the programs run"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp deploy/systemd/cshield-ingest@.service "$tmp/cshield-ingest@ci.service"
cp deploy/systemd/cshield-report@.service "$tmp/cshield-report@ci.service"
cp deploy/systemd/cshield-report@.timer "$tmp/cshield-report@ci.timer"
cp deploy/systemd/cshield-taxii@.service "$tmp/cshield-taxii@ci.service"
cp deploy/systemd/cshield-sightings@.service "$tmp/cshield-sightings@ci.service"
cp deploy/systemd/cshield-sightings@.timer "$tmp/cshield-sightings@ci.timer"
out=$(cd "$tmp" && systemd-analyze verify --man=no ./cshield-ingest@ci.service ./cshield-report@ci.service \
	./cshield-report@ci.timer ./cshield-taxii@ci.service ./cshield-sightings@ci.service \
	./cshield-sightings@ci.timer 2>&1) || cs_die "systemd-analyze verify: $out"
[ -z "$out" ] || cs_die "systemd-analyze verify: $out"
for u in cshield-ingest@ci.service cshield-report@ci.service cshield-taxii@ci.service cshield-sightings@ci.service; do
	level=$(systemd-analyze security --offline=yes --threshold=20 "$tmp/$u" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	systemd-analyze security --offline=yes --threshold=20 "$tmp/$u" >/dev/null 2>&1 \
		|| cs_die "$u: systemd-analyze security exposure ${level:-?} is above 2.0"
	cs_log "$u: verified; exposure $level"
done

/usr/bin/python3 - deploy/k8s/cshield-ingest.yaml deploy/k8s/topics.yaml <<'PY' || cs_die "the Kubernetes manifests"
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
kinds = {}
for d in docs:
    kinds.setdefault(d["kind"], []).append(d)
conf = kinds["ConfigMap"][0]["data"]["ingest.conf"]
listen = dict(l.split("=", 1) for l in conf.splitlines() if "=" in l)["metrics.listen"]
port = int(listen.rsplit(":", 1)[1])
dep = kinds["Deployment"][0]
c = dep["spec"]["template"]["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
for probe in ("livenessProbe", "readinessProbe"):
    g = c[probe]["httpGet"]
    assert g["path"] == "/health", (probe, g)
    assert ports[g["port"]] == port, (probe, g, ports, port)
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"]["drop"] == ["ALL"]
assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
topics = {t["metadata"]["name"] for t in kinds["KafkaTopic"]}
for key in ("dlq.topic", "alerts.topic", "escalations.topic", "indicators.topic"):
    v = dict(l.split("=", 1) for l in conf.splitlines() if "=" in l)[key]
    assert v in topics, (key, v, topics)
print("[cshield] k8s: %d objects; probes on /health:%d; topics %s" % (len(docs), port, ", ".join(sorted(topics))))
PY
cs_log "deployment files checked"
