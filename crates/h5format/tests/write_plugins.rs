//! Filter plugins written under their registered ids (LZF, zstd, LZ4, bitshuffle, Blosc), in
//! both formats: h5py with hdf5plugin reads our chunks, the stored client data equals what
//! h5py/hdf5plugin store for the same dataset, `h5dump` (libhdf5 1.10, with hdf5plugin's
//! plugin folder) dumps every value (LZF: the header only, it has no LZF plugin), and our reader reads them back.

mod support;

use std::process::Command;

use h5format::filter::{FilterInfo, ID_BITSHUFFLE, ID_BLOSC, ID_LZ4, ID_LZF, ID_ZSTD};
use h5format::write::{DType, DatasetSpec, FileWriter, Format};
use h5format::File;
use support::{check_py, python_ok, python_or_skip};

/// (name, filters given to the writer, the same dataset's filter arguments for h5py).
fn cases() -> Vec<(&'static str, DatasetSpec, &'static str)> {
    let base = || DatasetSpec::new(DType::I32, [40, 30]).chunked([16, 16]);
    let f = FilterInfo::new;
    vec![
        ("lzf", base().filter(f(ID_LZF, vec![])), "compression='lzf'"),
        (
            "shuffle_lzf",
            base().shuffle().filter(f(ID_LZF, vec![])),
            "compression='lzf', shuffle=True",
        ),
        (
            "zstd",
            base().filter(f(ID_ZSTD, vec![])),
            "**hdf5plugin.Zstd()",
        ),
        (
            "zstd9_fletcher",
            base().filter(f(ID_ZSTD, vec![9])).fletcher32(),
            "fletcher32=True, **hdf5plugin.Zstd(clevel=9)",
        ),
        (
            "lz4",
            base().filter(f(ID_LZ4, vec![])),
            "**hdf5plugin.LZ4()",
        ),
        (
            "bitshuffle",
            base().filter(f(ID_BITSHUFFLE, vec![])),
            "**hdf5plugin.Bitshuffle(cname='none')",
        ),
        (
            "bitshuffle_lz4",
            base().filter(f(ID_BITSHUFFLE, vec![0, 4, 0, 0, 2])),
            "**hdf5plugin.Bitshuffle(cname='lz4')",
        ),
        (
            "bitshuffle_zstd",
            base().filter(f(ID_BITSHUFFLE, vec![0, 4, 0, 0, 3])),
            "**hdf5plugin.Bitshuffle(cname='zstd')",
        ),
        (
            "blosc",
            base().filter(f(ID_BLOSC, vec![])),
            "**hdf5plugin.Blosc()",
        ),
        (
            "blosc_zstd_bit",
            base().filter(f(ID_BLOSC, vec![2, 2, 0, 0, 3, 2, 5])),
            "**hdf5plugin.Blosc(cname='zstd', clevel=3, shuffle=hdf5plugin.Blosc.BITSHUFFLE)",
        ),
        (
            "blosc_zlib_noshuffle",
            base().filter(f(ID_BLOSC, vec![2, 2, 0, 0, 5, 0, 4])),
            "**hdf5plugin.Blosc(cname='zlib', shuffle=hdf5plugin.Blosc.NOSHUFFLE)",
        ),
        (
            "blosc_lz4_unlimited",
            DatasetSpec::new(DType::I32, [40, 30])
                .chunked([16, 16])
                .max_shape([None, Some(30)])
                .filter(f(ID_BLOSC, vec![2, 2, 0, 0, 5, 1, 1])),
            "maxshape=(None, 30), **hdf5plugin.Blosc(cname='lz4')",
        ),
    ]
}

fn values() -> Vec<i32> {
    (0..1200).map(|i| (i * 7 % 1000) - 300).collect()
}

fn check(format: Format, tag: &str) {
    let mut w = FileWriter::in_memory();
    w.set_format(format).unwrap();
    for (name, spec, _) in cases() {
        let d = w.create_dataset(&format!("/{name}"), spec).unwrap();
        w.write_typed(d, &values()).unwrap();
    }
    let bytes = w.finish_to_vec().unwrap();
    let ours = File::from_bytes(bytes.clone()).expect("our reader opens it");
    for (name, _, _) in cases() {
        let got: Vec<i32> = ours.dataset(name).unwrap().read().unwrap();
        assert_eq!(got, values(), "{name}");
    }
    if !python_or_skip(
        "h5py, hdf5plugin",
        "skipping: python3 with h5py and hdf5plugin is not available",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{tag}.h5"));
    std::fs::write(&path, &bytes).unwrap();
    // The same datasets written by h5py + hdf5plugin, for the stored client data.
    let reference = dir.path().join("ref.h5");
    let mut gen = String::from(
        "import sys, h5py, hdf5plugin, numpy as np\n\
         v = ((np.arange(1200) * 7 % 1000) - 300).astype('<i4').reshape(40, 30)\n\
         with h5py.File(sys.argv[1], 'w') as f:\n",
    );
    for (name, _, args) in cases() {
        gen += &format!("    f.create_dataset('{name}', data=v, chunks=(16, 16), {args})\n");
    }
    python_ok("h5py reference file", &gen, &reference);
    check_py(
        &path,
        &format!(
            r#"
import hdf5plugin
v = ((np.arange(1200) * 7 % 1000) - 300).astype('<i4').reshape(40, 30)
f = h5py.File(p, 'r')
r = h5py.File({reference:?}, 'r')
def filters(d):
    pl = d.id.get_create_plist()
    # (id, client data), and the flags of plugins (our shuffle/deflate/fletcher32 are
    # mandatory where libhdf5 makes the first two optional).
    fs = [pl.get_filter(i) for i in range(pl.get_nfilters())]
    return [(i, cd, fl if i >= 256 else None) for (i, fl, cd, _) in fs]
for name in r:
    assert (f[name][()] == v).all(), name
    assert filters(f[name]) == filters(r[name]), (name, filters(f[name]), filters(r[name]))
"#
        ),
    );
    let plugins = python_ok(
        "hdf5plugin path",
        "import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)",
        "",
    );
    let plugin_path = String::from_utf8_lossy(&plugins.stdout).trim().to_string();
    // h5dump has no LZF plugin (h5py registers LZF in its own process only): the LZF
    // datasets get their header dumped, every other dataset its values.
    let mut runs: Vec<Vec<String>> = vec![vec!["-H".into()]];
    for (name, _, _) in cases() {
        if !name.contains("lzf") {
            runs.push(vec!["-d".into(), format!("/{name}")]);
        }
    }
    for args in runs {
        let Ok(out) = Command::new("h5dump")
            .env("HDF5_PLUGIN_PATH", &plugin_path)
            .args(&args)
            .arg(&path)
            .output()
        else {
            eprintln!("skipping h5dump: not installed");
            return;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "h5dump {args:?} failed: {stderr}"
        );
    }
}

#[test]
fn plugins_earliest() {
    check(Format::Earliest, "earliest");
}

#[test]
fn plugins_latest() {
    check(Format::Latest, "latest");
}
