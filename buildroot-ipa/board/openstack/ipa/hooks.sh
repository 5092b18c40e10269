# shellcheck shell=bash
#
# Sourced by the board's post-build, post-fakeroot and post-image scripts:
# the argument check, the paths they share, and the hand-over to the user's
# own scripts/<name>.sh.

# ipa_hook_args WHAT "$@": the first argument must be a directory (WHAT
# names it in the usage message).
ipa_hook_args() {
	local what="$1"
	shift
	if [ "$#" -lt 1 ] || [ ! -d "$1" ]; then
		echo "usage: ${0##*/} ${what} [ARGS...]" >&2
		exit 2
	fi
}

ipa_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The external tree, and the project above it (overlay/, scripts/).
external="${BR2_EXTERNAL_IPA_PATH:-$(cd "${ipa_here}/../../.." && pwd)}"
project="$(cd "${external}/.." && pwd)"
export external project

# ipa_user_hook NAME "$@": run the user's scripts/NAME.sh with the same
# arguments, if there is one; it must be executable.
ipa_user_hook() {
	local hook="${project}/scripts/$1.sh"
	shift
	if [ -e "${hook}" ]; then
		if [ ! -x "${hook}" ]; then
			echo "${0##*/}: ${hook} exists but is not executable (chmod +x it)" >&2
			exit 1
		fi
		exec "${hook}" "$@"
	fi
}
