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
# unit must be enabled by now (presets ran just before this script).
unit="${target}/usr/lib/systemd/system/ironic-python-agent.service"
wants="${target}/etc/systemd/system/multi-user.target.wants/ironic-python-agent.service"
if [ -x "${target}/usr/bin/ironic-python-agent" ] && [ -f "${unit}" ] &&
	[ ! -L "${wants}" ] && [ ! -e "${wants}" ]; then
	echo "${0##*/}: ironic-python-agent.service is not enabled in multi-user.target" \
		"(check /usr/lib/systemd/system-preset/ in the image)" >&2
	exit 1
fi

# Hand over to the user's hook, with the same arguments.
ipa_user_hook post-fakeroot "$@"
