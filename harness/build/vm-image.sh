#!/usr/bin/env bash
# Builds the node VM image the integration tests boot under QEMU: Debian's own kernel package
# (real IPVS, IPIP, VXLAN, netfilter) and an initramfs with busybox, the host's network tools,
# netlab's guest agent (the exec channel) and, when it has been built, kube-proxy.
#
# Installs nothing: it names the missing host packages and stops. Output in $NETLAB_CACHE_DIR/vm
# (default .cache/vm in the project, git-ignored):
#   vmlinux, initrd-base.cpio.gz, initrd-kube-proxy.cpio.gz (base + a kube-proxy layer),
#   manifest.json (what the test harness reads). Stamp files make a second run take a few seconds.
# Exit codes: 0 built or up to date, 3 a host prerequisite is missing, anything else a failure.
# `vm-image.sh --check` only checks the prerequisites (the test suites use it to decide whether to skip).
set -euo pipefail
trap 'echo "vm-build: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${NETLAB_CACHE_DIR:-$ROOT/.cache}
VM=$CACHE/vm
KUBE_PROXY=$CACHE/bin/kube-proxy
SRC=$ROOT/harness/vm
mkdir -p "$VM"

log() { printf '[vm:build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'vm-build: %s\n' "$*" >&2; exit 1; }

# Host packages whose files go into the guest (and QEMU, which the tests run).
HOST_PACKAGES=(qemu-system-x86 busybox-static socat ipvsadm ipset iptables nftables iproute2 net-tools conntrack kmod cpio netbase xz-utils runc)
check_host() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "vm-build: missing host packages: ${missing[*]}" >&2
    echo "  install them with: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 3
  fi
  command -v go >/dev/null || { echo "vm-build: Go is not installed (the guest agent needs Go 1.26)" >&2; exit 3; }
}

# The kernel package is pinned to whatever Debian's linux-image-amd64 depends on right now.
kernel_package() {
  if [ -n "${NETLAB_VM_KERNEL_PACKAGE:-}" ]; then echo "$NETLAB_VM_KERNEL_PACKAGE"; return; fi
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | sed -n 1p)
  [ -n "$pkg" ] || { echo "vm-build: apt-cache knows no linux-image-amd64 dependency (run apt-get update)" >&2; exit 3; }
  echo "$pkg"
}

# Modules the tests and kube-proxy need; `modprobe --show-depends` adds their dependencies.
MODULES=(
  virtio_pci virtio_console e1000
  ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_mh
  nf_conntrack nf_nat nf_tables nft_compat nft_chain_nat nft_masq
  ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_hash_net
  ip_set_hash_netport ip_set_hash_netiface ip_set_bitmap_port ip_set_bitmap_ip
  xt_set xt_comment xt_mark xt_MASQUERADE xt_addrtype xt_conntrack xt_nat xt_multiport xt_tcpudp
  xt_statistic ipt_REJECT br_netfilter xt_physdev
  xt_recent nfnetlink_acct xt_nfacct
  nft_ct nft_nat nft_numgen nft_fib_ipv4 nft_fib_inet nft_reject_ipv4 nft_reject_inet
  dummy ipip veth vxlan
  9p 9pnet_virtio bridge
  overlay
)
# Userspace tools copied from the host, with their shared libraries.
TOOLS=(ip route ipvsadm xtables-nft-multi nft ipset conntrack socat)
XTABLES_LIBDIR=/usr/lib/x86_64-linux-gnu/xtables

fetch_kernel() { # package -> prints the extracted tree
  local pkg=$1 dir=$VM/kernel/$1
  if [ ! -f "$dir/.extracted" ]; then
    log "downloading $pkg (apt-get download)"
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && apt-get download "$pkg" > download.log 2>&1) || die "apt-get download $pkg failed: $(tail -3 "$dir/download.log")"
    dpkg-deb -x "$dir"/"$pkg"_*.deb "$dir/root"
    rm -f "$dir"/"$pkg"_*.deb
    local kver; kver=$(ls "$dir/root/lib/modules")
    depmod -b "$dir/root" "$kver"
    touch "$dir/.extracted"
  fi
  echo "$dir/root"
}

build_agent() { # -> path of the static agent binary
  local out=$VM/netlab-agent
  log "building the guest agent"
  (cd "$SRC/agent" && GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOTOOLCHAIN=local GOWORK=off GOFLAGS= \
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$out" .)
  echo "$out"
}

# QEMU boots an uncompressed ELF vmlinux through its PVH entry point: no BIOS, and no xz decompression
# inside the guest, which under TCG costs several seconds of every boot. Debian's bzImage holds the
# kernel as an xz stream (CONFIG_KERNEL_XZ) followed by its size, hence --single-stream.
extract_vmlinux() { # bzImage, output
  local offset
  offset=$(LC_ALL=C grep -obUa -m1 $'\xfd7zXZ' "$1" | LC_ALL=C sed -n '1s/:.*//p')
  [ -n "$offset" ] || die "$1 holds no xz-compressed kernel: cannot make the uncompressed vmlinux QEMU boots"
  # xz stops reading at the end of its stream: fed through a pipe, tail would die of SIGPIPE (and pipefail).
  xz -dc --single-stream < <(tail -c +$((offset + 1)) "$1") > "$2.tmp"
  [ "$(head -c 4 "$2.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || die "the kernel extracted from $1 is not an ELF file"
  mv "$2.tmp" "$2"
}

copy_with_libs() { # stage, file: the file and every library ldd names, at their host paths
  local stage=$1 file=$2 lib
  mkdir -p "$stage$(dirname "$file")"
  cp -L "$file" "$stage$file"
  for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true); do
    [ -e "$stage$lib" ] && continue
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
}

pack() { # dir, output.cpio.gz
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -6 > "$2.tmp"
  mv "$2.tmp" "$2"
}

build_base() { # kernel tree, kernel version, agent
  local ktree=$1 kver=$2 agent=$3 stage=$VM/stage-base
  rm -rf "$stage"; mkdir -p "$stage"
  (cd "$stage" && mkdir -p bin sbin usr/bin usr/sbin etc/netlab proc sys dev run tmp var/log root)

  # busybox first; a real tool of the same name replaces the applet link below.
  cp /bin/busybox "$stage/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
  done
  ln -s /bin/busybox "$stage/init"

  local tool path
  for tool in "${TOOLS[@]}"; do
    path=$(command -v "$tool") || die "$tool not found on the host"
    path=$(readlink -f "$path")
    rm -f "$stage/bin/$tool" "$stage/sbin/$tool" "$stage/usr/bin/$tool" "$stage/usr/sbin/$tool"
    copy_with_libs "$stage" "$path"
    [ "$(basename "$path")" = "$tool" ] || ln -s "$path" "$stage/usr/sbin/$tool"
  done
  for tool in iptables iptables-save iptables-restore; do
    ln -s xtables-nft-multi "$stage/usr/sbin/$tool"
  done
  local plugin
  for plugin in "$XTABLES_LIBDIR"/*.so; do copy_with_libs "$stage" "$plugin"; done
  cp /etc/protocols /etc/services "$stage/etc/"
  cp -r "$SRC/rootfs/." "$stage/"
  printf 'PATH=/usr/sbin:/usr/bin:/sbin:/bin\nHOME=/root\nXTABLES_LIBDIR=%s\n' "$XTABLES_LIBDIR" > "$stage/etc/netlab/agent.env"
  cp "$agent" "$stage/sbin/netlab-agent"

  # Modules: the load order for rcS, and a module tree so on-demand loading (busybox modprobe) works too.
  local mdir=$stage/lib/modules/$kver order=$stage/etc/netlab/modules line ko options rel
  mkdir -p "$mdir"
  : > "$order"
  while read -r line; do
    case $line in
      insmod\ *) ;;
      builtin\ *) continue ;;
      *) die "unexpected modprobe output: $line" ;;
    esac
    read -r _ ko options <<< "$line"
    rel=${ko#"$ktree/lib/modules/$kver/"}
    grep -q "^$rel\( \|$\)" "$order" && continue
    mkdir -p "$mdir/$(dirname "$rel")"
    cp "$ko" "$mdir/$rel"
    echo "$rel${options:+ $options}" >> "$order"
  done < <(modprobe -d "$ktree" -S "$kver" --show-depends -a "${MODULES[@]}")
  cp "$ktree/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$mdir/"
  depmod -b "$stage" "$kver"

  pack "$stage" "$VM/initrd-base.cpio.gz"
  extract_vmlinux "$ktree/boot/vmlinuz-$kver" "$VM/vmlinux"
  log "base initramfs: $(du -h "$VM/initrd-base.cpio.gz" | cut -f1), $(wc -l < "$order") modules"
  rm -rf "$stage"
}

build_kube_proxy_layer() { # a second cpio archive, appended to the base one (the kernel unpacks both)
  local stage=$VM/stage-kube-proxy
  rm -rf "$stage"; mkdir -p "$stage/usr/local/bin"
  cp "$KUBE_PROXY" "$stage/usr/local/bin/kube-proxy"
  pack "$stage" "$VM/kube-proxy.cpio.gz"
  cat "$VM/initrd-base.cpio.gz" "$VM/kube-proxy.cpio.gz" > "$VM/initrd-kube-proxy.cpio.gz.tmp"
  mv "$VM/initrd-kube-proxy.cpio.gz.tmp" "$VM/initrd-kube-proxy.cpio.gz"
  rm -rf "$stage" "$VM/kube-proxy.cpio.gz"
  log "kube-proxy initramfs: $(du -h "$VM/initrd-kube-proxy.cpio.gz" | cut -f1)"
}

# The node layer: what a kubelet node needs beyond kube-proxy that is small enough for the initramfs
# (Debian's runc with its libraries, the node's boot script). The large binaries (kubelet, containerd,
# flanneld, the CNI plugins) and the image archives reach the guest read-only over 9p from the cache.
build_node_layer() {
  local stage=$VM/stage-node
  rm -rf "$stage"; mkdir -p "$stage"
  copy_with_libs "$stage" "$(readlink -f "$(command -v runc)")"
  cp -r "$SRC/node/." "$stage/"
  pack "$stage" "$VM/node.cpio.gz"
  cat "$VM/initrd-kube-proxy.cpio.gz" "$VM/node.cpio.gz" > "$VM/initrd-node.cpio.gz.tmp"
  mv "$VM/initrd-node.cpio.gz.tmp" "$VM/initrd-node.cpio.gz"
  rm -rf "$stage" "$VM/node.cpio.gz"
  log "node initramfs: $(du -h "$VM/initrd-node.cpio.gz" | cut -f1)"
}

# Everything the base image is made from: a change to any of it rebuilds the image.
base_inputs() { # kernel package
  echo "kernel $1"
  dpkg-query -W "${HOST_PACKAGES[@]}" libc6
  go version
  printf '%s\n' "${MODULES[@]}" "${TOOLS[@]}"
  (cd "$ROOT" && find harness/build/vm-image.sh harness/vm/agent harness/vm/rootfs -type f | LC_ALL=C sort | xargs sha256sum)
}

check_host
pkg=$(kernel_package)
[ "${1:-}" = --check ] && exit 0

# Test files run in parallel jest workers: one build at a time, the others then find it up to date.
exec 9> "$VM/.lock"
flock 9
start=$(date +%s)
base_stamp=$(base_inputs "$pkg" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VM/base.stamp" 2>/dev/null)" != "$base_stamp" ] || [ ! -f "$VM/initrd-base.cpio.gz" ]; then
  ktree=$(fetch_kernel "$pkg")
  kver=$(ls "$ktree/lib/modules")
  agent=$(build_agent)
  build_base "$ktree" "$kver" "$agent"
  echo "$kver" > "$VM/kernel-version"
  echo "$base_stamp" > "$VM/base.stamp"
  rm -f "$VM/kube-proxy.stamp"
else
  log "base image up to date ($pkg)"
fi

kube_proxy_initrd=null
node_initrd=null
if [ -x "$KUBE_PROXY" ]; then
  kp_stamp="$base_stamp $(sha256sum < "$KUBE_PROXY" | cut -d' ' -f1)"
  if [ "$(cat "$VM/kube-proxy.stamp" 2>/dev/null)" != "$kp_stamp" ] || [ ! -f "$VM/initrd-kube-proxy.cpio.gz" ]; then
    build_kube_proxy_layer
    echo "$kp_stamp" > "$VM/kube-proxy.stamp"
  else
    log "kube-proxy image up to date"
  fi
  kube_proxy_initrd="\"$VM/initrd-kube-proxy.cpio.gz\""
  node_stamp="$kp_stamp $(cat "$(command -v runc)" <(find "$SRC/node" -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$VM/node.stamp" 2>/dev/null)" != "$node_stamp" ] || [ ! -f "$VM/initrd-node.cpio.gz" ]; then
    build_node_layer
    echo "$node_stamp" > "$VM/node.stamp"
  else
    log "node image up to date"
  fi
  node_initrd="\"$VM/initrd-node.cpio.gz\""
else
  rm -f "$VM/initrd-kube-proxy.cpio.gz" "$VM/kube-proxy.stamp" "$VM/initrd-node.cpio.gz" "$VM/node.stamp"
  log "no kube-proxy at $KUBE_PROXY (run 'npm run harness:build'): built only the base image"
fi

cat > "$VM/manifest.json.tmp" <<JSON
{
  "kernelPackage": "$pkg",
  "kernelVersion": "$(cat "$VM/kernel-version")",
  "kernel": "$VM/vmlinux",
  "initrdBase": "$VM/initrd-base.cpio.gz",
  "initrdKubeProxy": $kube_proxy_initrd,
  "initrdNode": $node_initrd
}
JSON
mv "$VM/manifest.json.tmp" "$VM/manifest.json"
log "VM image ready in $VM ($(( $(date +%s) - start ))s)"
