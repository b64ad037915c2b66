//! The writer's file safety: temporary file + rename, nothing left behind on error or drop.

use h5format::write::{DType, DatasetSpec, FileWriter};

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn write_error_then_drop_leaves_existing_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.h5");
    let original: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&target, &original).unwrap();

    let mut w = FileWriter::create(&target).unwrap();
    let ds = w
        .create_dataset("/x", DatasetSpec::new(DType::F64, [100]))
        .unwrap();
    w.write_all(ds, &[0u8; 800]).unwrap();
    // A wrong-sized buffer is an error, not a panic.
    let err = w.write_all(ds, &[0u8; 799]).unwrap_err();
    assert!(err.to_string().contains("bytes"), "{err}");
    drop(w);
    assert_eq!(std::fs::read(&target).unwrap(), original);
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn write_finish_replaces_target_and_removes_temp() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.h5");
    std::fs::write(&target, b"old").unwrap();
    let mut w = FileWriter::create(&target).unwrap();
    let ds = w
        .create_dataset("/x", DatasetSpec::new(DType::U8, [3]))
        .unwrap();
    w.write_all(ds, &[1, 2, 3]).unwrap();
    // Before finish the target is still the old file.
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
    w.finish().unwrap();
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(&bytes[..8], b"\x89HDF\r\n\x1a\n");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn write_usage_errors_do_not_panic() {
    let mut w = FileWriter::in_memory();
    assert!(w
        .create_dataset("/", DatasetSpec::new(DType::U8, [3]))
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]).deflate(3))
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]).chunked([0]))
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, []).chunked([1]))
        .is_err());
    assert!(w
        .create_dataset(
            "/a",
            DatasetSpec::new(DType::U8, [3]).chunked([2]).deflate(10)
        )
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [100_000]).compact())
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]).fill(vec![1, 2]))
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]).unlimited())
        .is_err());
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [u64::MAX, 2]))
        .is_err());
    let ds = w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]))
        .unwrap();
    assert!(w
        .create_dataset("/a", DatasetSpec::new(DType::U8, [3]))
        .is_err());
    assert!(w.create_group("/a/b").is_err());
    assert!(w.append(ds, &[1]).is_err());
    assert!(w.write_hyperslab(ds, &[2], &[2], &[1, 2]).is_err());
    assert!(w.write_hyperslab(ds, &[u64::MAX], &[2], &[1, 2]).is_err());
    assert!(w.write_typed(ds, &[1i32, 2, 3]).is_err());
    assert!(w.set_attr("/nope", "x", 1i32.into()).is_err());
    assert!(w.set_attr("/a", "", 1i32.into()).is_err());
    let c = w
        .create_dataset(
            "/c",
            DatasetSpec::new(DType::U8, [0])
                .max_shape([Some(4)])
                .chunked([2]),
        )
        .unwrap();
    assert!(w.append(c, &[1, 2, 3, 4, 5]).is_err());
    w.append(c, &[1, 2, 3, 4]).unwrap();
    // The writer is still usable after errors.
    w.write_all(ds, &[7, 8, 9]).unwrap();
    assert!(w.finish_to_vec().is_ok());
}
