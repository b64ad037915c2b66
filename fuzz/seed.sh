#!/bin/sh
# Build the seed corpora of the fuzz targets from testdata/ (run from fuzz/).
set -e
cd "$(dirname "$0")"
for t in walk chunks sparse_select; do
    mkdir -p corpus/$t
    cp ../testdata/*.h5 ../testdata/*.h5ad corpus/$t/
done
mkdir -p corpus/object_header
python3 - <<'PY'
import glob, os
n = 0
for path in sorted(glob.glob("../testdata/*.h5") + glob.glob("../testdata/*.h5ad")):
    data = open(path, "rb").read()
    i = data.find(b"OHDR")
    k = 0
    while i >= 0 and k < 8:
        # First byte 8 selects 8-byte addresses and lengths; the header sits at address 0.
        open(f"corpus/object_header/{os.path.basename(path)}.{k}", "wb").write(b"\x08" + data[i:i + 1024])
        n += 1
        k += 1
        i = data.find(b"OHDR", i + 4)
print(f"{n} object header seeds")
PY
mkdir -p corpus/nbit corpus/scaleoffset corpus/szip
python3 - <<'PY'
# One seed per stored chunk of the n-bit / scale-offset / szip fixtures whose only filter is that one:
# [number of client data values][values, u32 LE][the chunk as stored].
import struct
import h5py
n = 0
for fname, fid, target in (("nbit.h5", 5, "nbit"), ("scaleoffset.h5", 6, "scaleoffset"),
                           ("szip.h5", 4, "szip")):
    with h5py.File("../testdata/" + fname, "r") as f:
        for name, d in f.items():
            plist = d.id.get_create_plist()
            if plist.get_nfilters() != 1:
                continue
            got, _, cd, _ = plist.get_filter(0)
            if got != fid:
                continue
            head = bytes([len(cd)]) + b"".join(struct.pack("<I", v) for v in cd)
            for i in range(min(d.id.get_num_chunks(), 4)):
                info = d.id.get_chunk_info(i)
                _, raw = d.id.read_direct_chunk(info.chunk_offset)
                open(f"corpus/{target}/{name}.{i}", "wb").write(head + raw)
                n += 1
print(f"{n} filter seeds")
PY
mkdir -p corpus/blosc2
python3 - <<'PY'
# Every stored chunk (up to 6 per dataset) of the Blosc2 fixtures with its client data:
# [number of client data values][values, u32 LE][the chunk as stored].
import struct
import h5py
n = 0
for fname in ("blosc2.h5", "b2nd.h5"):
    with h5py.File("../testdata/" + fname, "r") as f:
        def visit(name, d):
            global n
            if not isinstance(d, h5py.Dataset) or d.chunks is None:
                return
            plist = d.id.get_create_plist()
            if plist.get_nfilters() != 1 or plist.get_filter(0)[0] != 32026:
                return
            cd = plist.get_filter(0)[2]
            head = bytes([len(cd)]) + b"".join(struct.pack("<I", v) for v in cd)
            for i in range(min(d.id.get_num_chunks(), 6)):
                info = d.id.get_chunk_info(i)
                if info.filter_mask:
                    continue
                _, raw = d.id.read_direct_chunk(info.chunk_offset)
                open("corpus/blosc2/%s.%s.%d" % (fname, name.replace("/", "_"), i), "wb").write(head + raw)
                n += 1
        f.visititems(visit)
print(f"{n} blosc2 seeds")
PY
mkdir -p corpus/virtual_mapping
python3 - <<'PY'
# The virtual datasets' global heap objects (checksum cut off: the target appends it).
import struct
n = 0
for fname in ("vds.h5", "vds_latest.h5", "vds_unlim.h5", "hostile/vds_printf.h5"):
    data = open("../testdata/" + fname, "rb").read()
    i = data.find(b"GCOL")
    while i >= 0:
        size = struct.unpack_from("<Q", data, i + 8)[0]
        p, end = i + 16, i + size
        while p + 16 <= end:
            idx, _, _, ln = struct.unpack_from("<HHIQ", data, p)
            if idx == 0:
                break
            obj = data[p + 16:p + 16 + ln]
            open(f"corpus/virtual_mapping/{fname.replace('/', '_')}.{i}.{idx}", "wb").write(obj[:-4])
            n += 1
            p += 16 + (ln + 7) // 8 * 8
        i = data.find(b"GCOL", i + 4)
print(f"{n} virtual mapping seeds")
PY
