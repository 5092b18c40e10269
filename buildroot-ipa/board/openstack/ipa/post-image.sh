#!/usr/bin/env bash
#
# Post-image script of the IPA ramdisk (BR2_ROOTFS_POST_IMAGE_SCRIPT).
#
# Buildroot runs it with the images directory as $1 once every image is
# made. It names the outputs the way Ironic operators know them:
#   ipa.kernel     the kernel (bzImage)
#   ipa.initramfs  the root filesystem as a compressed cpio archive
#   ipa.iso        the bootable ISO for virtual media, when one was built
#   SHA256SUMS     their checksums, for "sha256sum -c SHA256SUMS"
# prints their sizes, then hands over to the user's own
# scripts/post-image.sh, if present.

set -euo pipefail

# shellcheck source=SCRIPTDIR/hooks.sh
. "$(dirname "${BASH_SOURCE[0]}")/hooks.sh"
ipa_hook_args BINARIES_DIR "$@"
images="$1"

kernel="${images}/bzImage"
if [ ! -f "${kernel}" ]; then
	echo "${0##*/}: no kernel image ${kernel}" >&2
	exit 1
fi

# The defconfig makes an xz-compressed cpio; accept the other compressions
# Buildroot offers, so changing BR2_TARGET_ROOTFS_CPIO_* keeps working.
initramfs=""
for ext in .xz .zst .gz .lz4 .lzma .lzo .bz2 ""; do
	if [ -f "${images}/rootfs.cpio${ext}" ]; then
		initramfs="${images}/rootfs.cpio${ext}"
		break
	fi
done
if [ -z "${initramfs}" ]; then
	echo "${0##*/}: no initramfs (rootfs.cpio*) in ${images}" >&2
	exit 1
fi

cp -f "${kernel}" "${images}/ipa.kernel"
cp -f "${initramfs}" "${images}/ipa.initramfs"
outputs=(ipa.kernel ipa.initramfs)
if [ -f "${images}/rootfs.iso9660" ]; then
	cp -f "${images}/rootfs.iso9660" "${images}/ipa.iso"
	outputs+=(ipa.iso)
else
	rm -f "${images}/ipa.iso"
fi

(cd "${images}" && sha256sum -- "${outputs[@]}" >SHA256SUMS)

echo "IPA images in ${images}:"
for name in "${outputs[@]}"; do
	size="$(stat -c %s "${images}/${name}")"
	printf '  %-14s %12s bytes  %8s\n' "${name}" "${size}" \
		"$(numfmt --to=iec --suffix=B "${size}")"
done

# Hand over to the user's hook, with the same arguments.
ipa_user_hook post-image "$@"
