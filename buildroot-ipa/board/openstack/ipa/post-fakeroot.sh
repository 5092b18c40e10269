#!/usr/bin/env bash
#
# Post-fakeroot script of the IPA ramdisk (BR2_ROOTFS_POST_FAKEROOT_SCRIPT).
#
# Buildroot runs it under fakeroot, with a copy of the target directory as
# $1, for each filesystem image, after the ownership fix-ups and after
# "systemctl preset-all". It then hands over to the user's own
# scripts/post-fakeroot.sh, if present.

set -euo pipefail

# shellcheck source=SCRIPTDIR/hooks.sh
. "$(dirname "${BASH_SOURCE[0]}")/hooks.sh"
ipa_hook_args TARGET_DIR "$@"
target="$1"

# The agent is the reason the ramdisk exists: when the image has it, its
# unit and the units it relies on must be enabled by now (presets ran just
# before this script), and ctypes must be able to find libraries.
ipa_require_enabled() {
	local unit="$1" target_unit="$2"
	local wants="${target}/etc/systemd/system/${target_unit}.wants/${unit}"
	if [ ! -L "${wants}" ] && [ ! -e "${wants}" ]; then
		echo "${0##*/}: ${unit} is not enabled in ${target_unit}" \
			"(check /usr/lib/systemd/system-preset/ in the image)" >&2
		exit 1
	fi
}
if [ -x "${target}/usr/bin/ironic-python-agent" ]; then
	ipa_require_enabled ironic-python-agent.service multi-user.target
	ipa_require_enabled ipa-ldconfig.service sysinit.target
	ipa_require_enabled ipa-rescue.path paths.target
	ipa_require_enabled ipa-network-data.service sysinit.target
	if [ ! -x "${target}/sbin/ldconfig" ]; then
		echo "${0##*/}: the image has no /sbin/ldconfig: Python's ctypes cannot find" \
			"libudev and the agent stops at start (enable BR2_PACKAGE_GLIBC_UTILS," \
			"or put ldconfig into the overlay)" >&2
		exit 1
	fi
	if [ -L "${target}/etc/systemd/system/multi-user.target.wants/chrony.service" ]; then
		echo "${0##*/}: WARNING: chrony.service is enabled; it races the agent's own" \
			"clock sync (chronyc shutdown, chronyd -q) when ipa-ntp-server is set" >&2
	fi
fi

# Hand over to the user's hook, with the same arguments.
ipa_user_hook post-fakeroot "$@"
