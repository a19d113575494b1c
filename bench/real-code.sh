#!/usr/bin/env bash
# connlint on the Python sources of open-source packages that talk to databases, to review its
# findings by hand (README "Findings on real code"). Downloads pinned wheels from PyPI into
# bench/work/real/ (a scratch venv supplies pip), unpacks them, runs one
# `connlint check --no-cache --format json` over all of them, and prints the findings per
# package and rule, then every finding on one line. Findings are the point here: the exit
# status is 0 whatever is found (2 on a set-up error).
#
# Needs: cargo, python3 with venv and pip, network access to PyPI the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=bench/work/real
packages=(
  aiopg==1.4.0 aiosql==15.0 alembic==1.20.1 apache-airflow-providers-postgres==7.1.1
  apache-airflow-providers-mysql==6.7.1 apache-airflow-providers-common-sql==2.4.0
  apscheduler==3.11.3 asyncpg==0.32.0 celery==5.7.0 dagster-postgres==0.29.27 databases==0.9.0
  dataset==2.0.0 dbt-postgres==1.11.0 django==5.2.20 flask-sqlalchemy==3.1.1
  mlflow-skinny==3.18.0 optuna==5.1.0 peewee==4.5.3 pgcli==4.7.1 pgqueuer==1.6.0
  piccolo==1.38.0 procrastinate==3.10.0 psycopg==3.3.9 psycopg-pool==3.3.3
  pytest-postgresql==10.0.0 records==0.6.0 sqlmodel==0.0.50 tortoise-orm==1.1.9
  advanced-alchemy==1.12.0 asyncpg-listen==0.0.9 fastapi-users-db-sqlalchemy==7.0.0
  litestar==2.25.0 ormar==0.26.0 pgmq==1.1.4 prefect==3.9.1 saq==0.26.4 sqladmin==0.32.0
  sqlalchemy-utils==0.43.0 testcontainers==4.15.0 barman==3.19.1 datasette==0.65.5
  litecli==1.17.1 patroni==4.1.5 sqlite-utils==4.2.1 yoyo-migrations==9.0.0
  trino==0.340.0 pyathena==4.2.1 ibis-framework==12.0.0 agate-sql==0.7.3
  langchain-community==0.4.2
)
mkdir -p "$root/wheels" "$root/src"
if [ ! -x "$root/venv/bin/pip" ]; then
  python3 -m venv "$root/venv" || { echo "real-code: cannot make a venv" >&2; exit 2; }
fi
for p in "${packages[@]}"; do
  name=${p%%==*}
  if ! ls "$root/wheels/" 2>/dev/null | grep -qi "^${name//-/_}-${p##*==}-"; then
    "$root/venv/bin/pip" download --quiet --no-deps --only-binary :all: -d "$root/wheels" "$p" \
      || { echo "real-code: cannot download $p" >&2; exit 2; }
  fi
done
for w in "$root"/wheels/*.whl; do
  base=$(basename "$w")
  dest="$root/src/${base%%-*}"
  [ -d "$dest" ] || python3 -m zipfile -e "$w" "$dest"
done
cargo build --quiet --release -p connlint
set +e
target/release/connlint check --no-cache --format json "$root/src" > "$root/findings.json"
status=$?
set -e
if [ "$status" -ge 2 ]; then
  echo "real-code: connlint failed (exit $status)" >&2
  exit 2
fi
python3 - "$root/findings.json" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
findings = report["findings"]
per = collections.Counter()
for f in findings:
    package = f["path"].split("/src/", 1)[1].split("/", 1)[0]
    per[(package, f["code"])] += 1
print(f"{len(findings)} findings, {len(report['problems'])} problems, "
      f"{report['files']} files")
for code, n in sorted(collections.Counter(f["code"] for f in findings).items()):
    print(f"  {code}: {n}")
print()
for (package, code), n in sorted(per.items()):
    print(f"{package:40} {code} {n}")
print()
for f in findings:
    path = f["path"].split("/src/", 1)[1]
    print(f"{f['code']} {path}:{f['line']} {f.get('function') or ''}: {f['message'][:110]}")
PY
