#!/usr/bin/env bash
# Builds the JNI library (Rust crate mqseal-jni) in release mode and copies it to
#   mqseal-java/native-build/META-INF/native/<os>-<arch>/libmqseal_jni-<version>.<ext>
# which the mqseal-java module packs into its jar. The version is the crate's, and must
# equal the Maven project version, because the Java loader looks the file up by it.
# Usage: bindings/java/build-native.sh   (from any directory; CARGO overrides cargo)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
cargo="${CARGO:-cargo}"

case "$(uname -s)" in
    Linux) os=linux; ext=so; prefix=lib ;;
    Darwin) os=macos; ext=dylib; prefix=lib ;;
    MINGW* | MSYS* | CYGWIN*) os=windows; ext=dll; prefix= ;;
    *) echo "build-native: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo "build-native: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

version="$(cd "${root}" && "${cargo}" pkgid -p mqseal-jni | sed 's/.*[#@]//')"
pom_version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "${here}/pom.xml" | head -n 1)"
if [ "${version}" != "${pom_version}" ]; then
    echo "build-native: crate mqseal-jni is ${version} but bindings/java/pom.xml is ${pom_version};" \
        "set both to the same version" >&2
    exit 1
fi

(cd "${root}" && "${cargo}" build --release -p mqseal-jni)

target_dir="$(cd "${root}" && "${cargo}" metadata --format-version 1 --no-deps |
    sed 's/.*"target_directory":"\([^"]*\)".*/\1/')"
built="${target_dir}/release/${prefix}mqseal_jni.${ext}"
dest_dir="${here}/mqseal-java/native-build/META-INF/native/${os}-${arch}"
dest="${dest_dir}/${prefix}mqseal_jni-${version}.${ext}"

mkdir -p "${dest_dir}"
cp "${built}" "${dest}.tmp"
mv -f "${dest}.tmp" "${dest}"
echo "build-native: ${dest}"
