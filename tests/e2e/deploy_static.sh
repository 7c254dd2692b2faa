#!/usr/bin/env bash
# deploy/ checked without a container runtime or a cluster (none here): every
# YAML parses; the Kubernetes manifests have the kinds, probes, ports,
# requests and scrape annotations, all agreeing with the configuration's
# http.listen; compose's files and Prometheus' target exist and agree; the
# Dockerfile is multi-stage, Debian 12 slim, non-root, builds with the
# README's scripts and copies only paths that exist; the configurations they
# ship pass `kpistream run --check-config`; the alert rules and the Grafana
# dashboard use only metrics docs/operations.md lists. What this cannot check: docs/operations.md.
# usage: deploy_static.sh KPISTREAM_BINARY SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 SRC=$2
. "$SRC/tests/e2e/lib.sh"
python3 -c 'import yaml' 2>/dev/null || e2e_fail "python3-yaml is not installed"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PLUGIN_DIR=$(dirname "$KPISTREAM")/../plugins
python3 - "$SRC" "$WORK" <<'PY'
import os, re, sys, yaml
src, work = sys.argv[1], sys.argv[2]
d = os.path.join(src, "deploy")
def fail(msg):
    print("E2E FAIL: " + msg, file=sys.stderr); sys.exit(1)
def load(p, multi=False):
    with open(os.path.join(d, p)) as f:
        return list(yaml.safe_load_all(f)) if multi else yaml.safe_load(f)
def port_of(listen):
    return int(listen.rsplit(":", 1)[1])

# Kubernetes
docs = [x for x in load("k8s/kpistream.yaml", True) if x]
kinds = {x["kind"]: x for x in docs}
for k in ("ConfigMap", "Deployment", "Service", "PodDisruptionBudget"):
    if k not in kinds: fail("k8s/kpistream.yaml has no " + k)
cm = kinds["ConfigMap"]["data"]["kpistream.yaml"]
open(os.path.join(work, "k8s.yaml"), "w").write(cm)
kcfg = yaml.safe_load(cm)
port = port_of(kcfg["http"]["listen"])
if not kcfg["http"]["listen"].startswith("0.0.0.0:"):
    fail("the pod's http.listen must listen on every interface for probes: " + kcfg["http"]["listen"])
dep = kinds["Deployment"]["spec"]["template"]
c = dep["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
if ports.get("http") != port: fail("containerPort http %s != http.listen port %d" % (ports.get("http"), port))
if c["livenessProbe"]["httpGet"]["path"] != "/healthz": fail("liveness probe is not /healthz")
if c["readinessProbe"]["httpGet"]["path"] != "/readyz": fail("readiness probe is not /readyz")
for p in ("livenessProbe", "readinessProbe", "startupProbe"):
    if c[p]["httpGet"]["port"] not in ("http", port): fail(p + " port")
if not c["resources"]["requests"].get("cpu") or not c["resources"]["requests"].get("memory"):
    fail("no resource requests")
ann = dep["metadata"]["annotations"]
if ann.get("prometheus.io/scrape") != "true" or int(ann.get("prometheus.io/port")) != port \
   or ann.get("prometheus.io/path") != "/metrics":
    fail("scrape annotations %s" % ann)
if not dep["spec"]["securityContext"].get("runAsNonRoot"): fail("pod may run as root")
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
if mounts.get("config") != "/etc/kpistream": fail("config mount is not /etc/kpistream")
sel = kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]
if sel != kinds["Deployment"]["spec"]["selector"]["matchLabels"]: fail("PDB selector")
svc = kinds["Service"]["spec"]["ports"][0]
if svc["port"] != port: fail("Service port")
shutdown = kcfg.get("shutdown", {}).get("timeout", "10s")
if int(str(shutdown).rstrip("s")) >= dep["spec"]["terminationGracePeriodSeconds"]:
    fail("terminationGracePeriodSeconds must exceed shutdown.timeout")

# Dockerfile
df = open(os.path.join(d, "Dockerfile")).read()
froms = re.findall(r"^FROM\s+(\S+)", df, re.M)
if len(froms) < 2 or froms[-1] != "debian:12-slim": fail("Dockerfile: not multi-stage ending on debian:12-slim: %s" % froms)
users = re.findall(r"^USER\s+(\S+)", df, re.M)
if not users or users[-1] in ("0", "root"): fail("Dockerfile: runs as root")
for script in ("scripts/deps.sh", "scripts/build.sh"):
    if script not in df: fail("Dockerfile does not build with " + script)
    if not os.path.exists(os.path.join(src, script)): fail(script + " does not exist")
readme = open(os.path.join(src, "README.md")).read()
if "scripts/" not in readme: fail("README.md does not name the scripts")
for m in re.finditer(r"^COPY\s+(?!--from)(\S+)\s+(\S+)", df, re.M):
    if m.group(1) != "." and not os.path.exists(os.path.join(src, m.group(1))):
        fail("Dockerfile copies a missing path " + m.group(1))
expose = [int(x) for x in re.findall(r"^EXPOSE\s+(\d+)", df, re.M)]
entry = re.search(r'^ENTRYPOINT\s+(\[.*\])', df, re.M).group(1)
if "/etc/kpistream/kpistream.yaml" not in entry: fail("ENTRYPOINT config path")

# compose
comp = load("compose/compose.yaml")
ks = comp["services"]["kpistream"]
ctx = os.path.normpath(os.path.join(d, "compose", ks["build"]["context"]))
if not os.path.exists(os.path.join(ctx, ks["build"]["dockerfile"])): fail("compose: dockerfile not found")
for svc_name, s in comp["services"].items():
    for v in s.get("volumes", []):
        host = v.split(":")[0]
        if host.startswith(".") and not os.path.exists(os.path.join(d, "compose", host)):
            fail("compose: %s mounts a missing %s" % (svc_name, host))
ccfg = load("compose/kpistream.yaml")
cport = port_of(ccfg["http"]["listen"])
if cport not in expose: fail("Dockerfile EXPOSE %s lacks the http.listen port %d" % (expose, cport))
if not any(p.endswith(":%d" % cport) for p in ks["ports"]): fail("compose: port %d not published" % cport)
bs = ccfg["kafka"]["bootstrap.servers"]
if bs.split(":")[0] not in comp["services"]: fail("compose: bootstrap %s is not a service" % bs)
prom = load("compose/prometheus.yml")
tg = prom["scrape_configs"][0]["static_configs"][0]["targets"][0]
if tg != "kpistream:%d" % cport: fail("prometheus target %s" % tg)
alerts = load("compose/alerts.yml")
names = set()
for g in alerts["groups"]:
    for r in g["rules"]:
        names |= set(re.findall(r"kpistream_[a-z_]+", r["expr"]))
graf = __import__("json").load(open(os.path.join(d, "grafana", "kpistream.json")))
for panel in graf["panels"]:
    for t in panel["targets"]:
        names |= set(re.findall(r"kpistream_[a-z_]+", t["expr"]))
ops = open(os.path.join(src, "docs", "operations.md")).read()
for n in sorted(names):
    if "`%s`" % n not in ops: fail("an alert rule or the dashboard uses %s, which docs/operations.md does not list" % n)
print("k8s: %s; compose: %s; alert rules and dashboard use %d metrics" % (sorted(kinds), sorted(comp["services"]), len(names)))
PY
for f in "$WORK/k8s.yaml" "$SRC/deploy/compose/kpistream.yaml"; do
  "$KPISTREAM" run -c "$f" --plugin-dir "$PLUGIN_DIR" --check-config --log-level warn > /dev/null ||
    e2e_fail "$f does not pass --check-config"
done
echo "deploy/ checked statically (not built or run: no container runtime here)"
