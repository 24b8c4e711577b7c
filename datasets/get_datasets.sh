#!/usr/bin/env bash
# Download and unpack CIFAR-10 (python version) into the data home, once.
#
#   datasets/get_datasets.sh
#
# The data home is $CS231N_DATA if set, else the folder of this script.
# Running it again does nothing once the batches are there; a partial or
# corrupt download is detected by its md5 and fetched again.
set -euo pipefail

URL="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5="c58f30108f718f92721af3b95e74349a"
ARCHIVE="cifar-10-python.tar.gz"
FOLDER="cifar-10-batches-py"
FILES="data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch batches.meta"

dest="${CS231N_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
mkdir -p "$dest"
cd "$dest"

unpacked() {
    local name
    for name in $FILES; do
        [ -f "$FOLDER/$name" ] || return 1
    done
}

md5_of() {
    if command -v md5sum >/dev/null 2>&1; then
        md5sum "$1" | cut -d' ' -f1
    else  # macOS
        md5 -q "$1"
    fi
}

if unpacked; then
    echo "CIFAR-10 is already in $dest/$FOLDER; nothing to do."
    exit 0
fi

if [ ! -f "$ARCHIVE" ] || [ "$(md5_of "$ARCHIVE")" != "$MD5" ]; then
    rm -f "$ARCHIVE" "$ARCHIVE.part"
    echo "Downloading $URL (163 MB) to $dest ..."
    if command -v curl >/dev/null 2>&1; then
        curl -fL --retry 3 -o "$ARCHIVE.part" "$URL"
    elif command -v wget >/dev/null 2>&1; then
        wget -O "$ARCHIVE.part" "$URL"
    else
        echo "error: neither curl nor wget is installed; install one and run again." >&2
        exit 1
    fi
    got="$(md5_of "$ARCHIVE.part")"
    if [ "$got" != "$MD5" ]; then
        rm -f "$ARCHIVE.part"
        echo "error: the download's md5 is $got, expected $MD5." >&2
        echo "The file was removed; run this script again (or check the URL)." >&2
        exit 1
    fi
    mv "$ARCHIVE.part" "$ARCHIVE"
fi

echo "Unpacking $ARCHIVE ..."
tar -xzf "$ARCHIVE"
if ! unpacked; then
    echo "error: $ARCHIVE did not contain $FOLDER/ with: $FILES" >&2
    exit 1
fi
rm -f "$ARCHIVE"
echo "CIFAR-10 is ready in $dest/$FOLDER."
