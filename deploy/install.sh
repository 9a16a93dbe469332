#!/usr/bin/env bash
# Installs the resizer daemon on Amazon Linux 2023 (or any systemd Linux):
# the resizer user, its folders, the binary, the configuration, the recipes
# and the systemd unit, then enables and starts the service.
#
#   sudo deploy/install.sh --binary ./resizer [--config config.yaml]
#        [--recipes recipes/] [--no-start] [--root DIR]
#
# Run from an unpacked release archive (see deploy/package.sh) or from a
# clone with a built binary. Running it again upgrades the binary and the
# unit; an existing /etc/resizer/config.yaml is replaced only when --config
# is given, and recipes only when --recipes is given.
#
# --root DIR installs into DIR as if it were / and skips what needs a real
# system (the user, ownership, systemctl): for packaging and tests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=""
config=""
recipes=""
start=1
root=""

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --recipes) recipes=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    --root) root=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$binary" ]; then
  echo "install.sh: --binary is required" >&2; exit 2
fi
if [ ! -x "$binary" ]; then
  echo "install.sh: $binary is not an executable" >&2; exit 2
fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or with --root DIR)" >&2; exit 2
fi

# own USER:GROUP PATH... changes ownership on a real system only.
own() {
  if [ -z "$root" ]; then chown "$@"; fi
}

if [ -z "$root" ] && ! id resizer >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/resizer --no-create-home \
    --shell /sbin/nologin --comment "resizer daemon" resizer
fi

install -d -m 0755 "$root/etc/resizer" "$root/etc/resizer/recipes" "$root/usr/local/bin" \
  "$root/usr/lib/resizer/plugins" "$root/etc/systemd/system"
install -d -m 0750 "$root/var/lib/resizer"
install -d -m 0700 "$root/var/lib/resizer/tmp"
own resizer:resizer "$root/var/lib/resizer" "$root/var/lib/resizer/tmp"

# Replace the binary atomically: a running daemon keeps its old file.
install -m 0755 "$binary" "$root/usr/local/bin/resizer.new"
mv -f "$root/usr/local/bin/resizer.new" "$root/usr/local/bin/resizer"

if [ -n "$config" ]; then
  install -m 0640 "$config" "$root/etc/resizer/config.yaml"
elif [ ! -e "$root/etc/resizer/config.yaml" ]; then
  # The reference deployment's names, with this layout's folders.
  cat > "$root/etc/resizer/config.yaml" <<'EOF'
# resizer configuration: every setting and its default is in
# /etc/resizer/resizer.example.yaml.
recipes_dir: /etc/resizer/recipes
temp_dir: /var/lib/resizer/tmp
log_format: json
metrics_addr: ":9464"
EOF
  chmod 0640 "$root/etc/resizer/config.yaml"
fi
own root:resizer "$root/etc/resizer/config.yaml"
if [ -e "$here/resizer.example.yaml" ]; then
  install -m 0644 "$here/resizer.example.yaml" "$root/etc/resizer/resizer.example.yaml"
fi

if [ -n "$recipes" ]; then
  find "$root/etc/resizer/recipes" -maxdepth 1 -name '*.yaml' -delete
  for f in "$recipes"/*.yaml; do
    [ -e "$f" ] || continue
    install -m 0644 "$f" "$root/etc/resizer/recipes/"
  done
fi

install -m 0644 "$here/resizer.service" "$root/etc/systemd/system/resizer.service"

if [ -n "$root" ]; then
  echo "installed into $root"
  exit 0
fi

# Refuse to enable a daemon whose configuration or plugins do not load.
if ! (cd /var/lib/resizer && runuser -u resizer -- /usr/local/bin/resizer plugins list --config /etc/resizer/config.yaml >/dev/null); then
  echo "install.sh: resizer cannot load /etc/resizer/config.yaml; fix it and run again" >&2
  exit 1
fi

systemctl daemon-reload
if [ "$start" -eq 1 ]; then
  systemctl enable resizer.service
  systemctl restart resizer.service
  echo "resizer is running: systemctl status resizer; journalctl -u resizer -f"
else
  systemctl enable resizer.service
  echo "resizer is installed and enabled; start it with: systemctl start resizer"
fi
