#!/usr/bin/env bash
#
# Post-build script of the IPA ramdisk (BR2_ROOTFS_POST_BUILD_SCRIPT).
#
# Buildroot runs it with the target directory as $1 once the packages and
# both rootfs overlays are in place, before any filesystem image is made.
# It then hands over to the user's own scripts/post-build.sh, if present.
# No network access: everything here works on the target directory only.

set -euo pipefail

# shellcheck source=SCRIPTDIR/hooks.sh
. "$(dirname "${BASH_SOURCE[0]}")/hooks.sh"
ipa_hook_args TARGET_DIR "$@"
target="$1"

# The user overlay (overlay/ at the project root) keeps a README.md under
# version control that explains the overlay; it is not part of the image.
readme="${project}/overlay/README.md"
if [ -f "${target}/README.md" ] && [ -f "${readme}" ] &&
	cmp -s "${readme}" "${target}/README.md"; then
	rm -f "${target}/README.md"
fi

# SSH: overlays land group- and world-readable, and sshd ignores keys and
# authorized_keys files that others can read or write.
shopt -s nullglob
ssh_dir="${target}/etc/ssh"
for key in "${ssh_dir}"/ssh_host_*_key; do
	chmod 0600 "${key}"
done
for pub in "${ssh_dir}"/ssh_host_*_key.pub; do
	chmod 0644 "${pub}"
done
shopt -u nullglob

root_home="${target}/root"
if [ -d "${root_home}" ]; then
	chmod 0700 "${root_home}"
fi
if [ -d "${root_home}/.ssh" ]; then
	chmod 0700 "${root_home}/.ssh"
	find "${root_home}/.ssh" -type f -exec chmod 0600 {} +
fi

# Root may log in over SSH with a key, and only with a key, when the image
# carries authorized keys for root. A drop-in rather than an edit of
# sshd_config, so a user's own sshd_config or drop-ins stay untouched.
dropin="${ssh_dir}/sshd_config.d/50-ipa-root-keys.conf"
if [ -f "${root_home}/.ssh/authorized_keys" ]; then
	mkdir -p "${ssh_dir}/sshd_config.d"
	cat >"${dropin}" <<'CONF'
# Written by post-build.sh: /root/.ssh/authorized_keys is in the image.
PermitRootLogin prohibit-password
CONF
	chmod 0644 "${dropin}"
else
	rm -f "${dropin}"
fi

if [ -f "${ssh_dir}/sshd_config" ] &&
	! grep -Eqi '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/' "${ssh_dir}/sshd_config"; then
	echo "${0##*/}: WARNING: ${ssh_dir}/sshd_config does not include /etc/ssh/sshd_config.d/*.conf;" \
		"the SSH drop-ins of the image have no effect" >&2
fi

# Rescue mode: IPA's finalize_rescue writes the rescue password's hash
# into this directory, and ipa-rescue.path watches for it.
install -d -m 0700 "${target}/etc/ipa-rescue-config"

# ctypes.util.find_library needs ldconfig (ipa-ldconfig.service builds the
# cache at boot). Buildroot's own glibc installs it (the agent package
# selects BR2_PACKAGE_GLIBC_UTILS); with an external glibc toolchain, take
# the one of its sysroot.
if [ ! -x "${target}/sbin/ldconfig" ] && [ -n "${STAGING_DIR:-}" ] &&
	[ -x "${STAGING_DIR}/sbin/ldconfig" ]; then
	install -D -m 0755 "${STAGING_DIR}/sbin/ldconfig" "${target}/sbin/ldconfig"
fi

# Private certificate authorities ("ipabr ca add"; doc/image.md, "TLS"):
# the project's ca-certificates/ replaces /usr/share/ca-certificates/ipabr
# on every build, so that a certificate removed there leaves the image
# too, and the agent's configuration comes with them. Buildroot's
# ca-certificates package builds the trust store before the overlays are
# copied, so it is brought up to date here the same way: a .pem link per
# certificate, the hash links OpenSSL looks up, and the bundle. Links to
# certificates that are gone are dropped; other files in /etc/ssl/certs
# (from an overlay) stay.
ca_store="${project}/ca-certificates"
ca_dir="${target}/usr/share/ca-certificates/ipabr"
ca_conf="${target}/etc/ironic-python-agent.d/00-ipabr-ca.conf"
shopt -s nullglob
ca_certs=("${ca_store}"/*.crt)
shopt -u nullglob
if [ -d "${ca_dir}" ] || [ "${#ca_certs[@]}" -gt 0 ]; then
	rm -rf "${ca_dir}" "${ca_conf}"
	if [ "${#ca_certs[@]}" -gt 0 ]; then
		if [ ! -f "${ca_store}/ironic-python-agent.conf" ]; then
			echo "${0##*/}: ${ca_store} has certificates but no ironic-python-agent.conf;" \
				"'ipabr ca add' writes it (add one of the certificates again)" >&2
			exit 1
		fi
		install -d -m 0755 "${ca_dir}"
		install -m 0644 "${ca_certs[@]}" "${ca_dir}/"
		install -D -m 0644 "${ca_store}/ironic-python-agent.conf" "${ca_conf}"
	fi
	certs="${target}/etc/ssl/certs"
	install -d -m 0755 "${certs}"
	find "${certs}" -maxdepth 1 -xtype l -delete
	rm -f "${certs}/ca-certificates.crt"
	bundle="$(mktemp "${target}/etc/ssl/.ca-certificates.crt.XXXXXX")"
	(
		cd "${target}"
		find usr/share/ca-certificates -name '*.crt' | LC_COLLATE=C sort |
			while read -r crt; do
				ln -sf "../../../${crt}" "etc/ssl/certs/$(basename "${crt}" .crt).pem"
				cat "${crt}"
			done
	) >"${bundle}"
	if [ -n "${HOST_DIR:-}" ] && [ -x "${HOST_DIR}/bin/c_rehash" ]; then
		"${HOST_DIR}/bin/c_rehash" "${certs}" >/dev/null
	elif command -v openssl >/dev/null; then
		openssl rehash "${certs}"
	else
		echo "${0##*/}: WARNING: neither \$HOST_DIR/bin/c_rehash nor openssl: no hash links" \
			"in /etc/ssl/certs (the bundle ca-certificates.crt still works)" >&2
	fi
	chmod 0644 "${bundle}"
	mv -f "${bundle}" "${certs}/ca-certificates.crt"
fi

# Hand over to the user's hook, with the same arguments.
ipa_user_hook post-build "$@"
