//! MatrixMarket coordinate format: a fast writer of selection results and a streaming reader.
//!
//! Writer: `%%MatrixMarket matrix coordinate real general` (or `integer` for integer and
//! boolean data), a size line `rows cols nnz`, then one 1-based `row col value` line per
//! stored entry (explicit zeros kept). Floats are printed in their shortest round-trip form
//! at their own precision (f32 values as f32); NaN and infinities as `nan`, `inf`, `-inf`.
//!
//! Reader: coordinate matrices of field real/integer/pattern, symmetry general/symmetric
//! (a symmetric file's off-diagonal entries are yielded twice, once per triangle), comments
//! and blank lines skipped; errors carry the line number.

use h5sparse::{SparseResult, Values};
use std::fmt;
use std::io::{self, BufRead, Write};

/// Write `m` as a MatrixMarket coordinate file. `w` should be buffered (e.g. `BufWriter`).
pub fn write_mtx<W: Write>(mut w: W, m: &SparseResult) -> io::Result<()> {
    if m.data.len() != m.indices.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "data and indices lengths differ",
        ));
    }
    let integer = m.data.elem().is_integer() || matches!(m.data, Values::Bool(_));
    writeln!(
        w,
        "%%MatrixMarket matrix coordinate {} general",
        if integer { "integer" } else { "real" }
    )?;
    writeln!(w, "{} {} {}", m.shape.0, m.shape.1, m.nnz())?;
    let mut ib = itoa::Buffer::new();
    let mut fb = zmij::Buffer::new();
    let mut line: Vec<u8> = Vec::with_capacity(64);
    for (r, c, p) in m.triplets() {
        line.clear();
        line.extend_from_slice(ib.format(r + 1).as_bytes());
        line.push(b' ');
        line.extend_from_slice(ib.format(c + 1).as_bytes());
        line.push(b' ');
        let v: &str = match &m.data {
            Values::I8(v) => ib.format(v[p]),
            Values::I16(v) => ib.format(v[p]),
            Values::I32(v) => ib.format(v[p]),
            Values::I64(v) => ib.format(v[p]),
            Values::U8(v) => ib.format(v[p]),
            Values::U16(v) => ib.format(v[p]),
            Values::U32(v) => ib.format(v[p]),
            Values::U64(v) => ib.format(v[p]),
            Values::Bool(v) => {
                if v[p] {
                    "1"
                } else {
                    "0"
                }
            }
            Values::F32(v) => float_str(&mut fb, v[p]),
            Values::F64(v) => float_str(&mut fb, v[p]),
        };
        line.extend_from_slice(v.as_bytes());
        line.push(b'\n');
        w.write_all(&line)?;
    }
    w.flush()
}

/// Shortest round-trip text of a float; `nan`, `inf`, `-inf` for non-finite values.
fn float_str<F: zmij::Float + Into<f64> + Copy>(b: &mut zmij::Buffer, x: F) -> &str {
    let d: f64 = x.into();
    if d.is_nan() {
        "nan"
    } else if d.is_infinite() {
        if d > 0.0 {
            "inf"
        } else {
            "-inf"
        }
    } else {
        b.format_finite(x)
    }
}

/// The value field of a MatrixMarket file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtxField {
    /// Floating-point values.
    Real,
    /// Integer values.
    Integer,
    /// No values (every entry is 1).
    Pattern,
}

/// The symmetry of a MatrixMarket file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtxSymmetry {
    /// Every entry is listed.
    General,
    /// Only one triangle is listed; the reader yields both.
    Symmetric,
}

/// The banner and size line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtxHeader {
    /// Number of rows.
    pub rows: u64,
    /// Number of columns.
    pub cols: u64,
    /// Number of entry lines in the file (before symmetric expansion).
    pub entries: u64,
    /// Value field.
    pub field: MtxField,
    /// Symmetry.
    pub symmetry: MtxSymmetry,
}

/// A value read from a MatrixMarket file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MtxValue {
    /// From a `real` file.
    Real(f64),
    /// From an `integer` file.
    Integer(i64),
    /// From a `pattern` file.
    Pattern,
}

/// One entry: 0-based row and column, and the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MtxEntry {
    /// 0-based row.
    pub row: u64,
    /// 0-based column.
    pub col: u64,
    /// The value.
    pub value: MtxValue,
}

/// A MatrixMarket reading error, with the 1-based line number (0 for I/O errors before any
/// line).
#[derive(Debug)]
pub struct MtxError {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for MtxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MatrixMarket line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for MtxError {}

/// Streaming reader of a MatrixMarket coordinate file.
#[derive(Debug)]
pub struct MtxReader<R: BufRead> {
    input: R,
    header: MtxHeader,
    line_no: u64,
    read_entries: u64,
    mirror: Option<MtxEntry>,
    buf: String,
}

impl<R: BufRead> MtxReader<R> {
    /// Read the banner, comments and size line.
    pub fn new(input: R) -> Result<Self, MtxError> {
        let mut rd = MtxReader {
            input,
            header: MtxHeader {
                rows: 0,
                cols: 0,
                entries: 0,
                field: MtxField::Real,
                symmetry: MtxSymmetry::General,
            },
            line_no: 0,
            read_entries: 0,
            mirror: None,
            buf: String::new(),
        };
        if !rd.next_line()? {
            return Err(rd.err("empty file, expected a %%MatrixMarket banner"));
        }
        let banner = rd.buf.trim().to_ascii_lowercase();
        let words: Vec<&str> = banner.split_whitespace().collect();
        if words.first() != Some(&"%%matrixmarket") || words.len() != 5 {
            return Err(
                rd.err("expected a banner `%%MatrixMarket matrix coordinate FIELD SYMMETRY`")
            );
        }
        if words[1] != "matrix" || words[2] != "coordinate" {
            return Err(rd.err(format!(
                "unsupported object/format `{} {}` (only `matrix coordinate`)",
                words[1], words[2]
            )));
        }
        let field = match words[3] {
            "real" | "double" => MtxField::Real,
            "integer" => MtxField::Integer,
            "pattern" => MtxField::Pattern,
            f => {
                return Err(rd.err(format!(
                    "unsupported field `{f}` (real, integer or pattern)"
                )))
            }
        };
        let symmetry = match words[4] {
            "general" => MtxSymmetry::General,
            "symmetric" => MtxSymmetry::Symmetric,
            s => return Err(rd.err(format!("unsupported symmetry `{s}` (general or symmetric)"))),
        };
        loop {
            if !rd.next_line()? {
                return Err(rd.err("missing size line `rows cols entries`"));
            }
            let t = rd.buf.trim();
            if t.is_empty() || t.starts_with('%') {
                continue;
            }
            let nums: Vec<Option<u64>> = t.split_whitespace().map(|x| x.parse().ok()).collect();
            let [Some(rows), Some(cols), Some(entries)] = nums[..] else {
                return Err(rd.err(format!("bad size line {t:?}, expected `rows cols entries`")));
            };
            if symmetry == MtxSymmetry::Symmetric && rows != cols {
                return Err(rd.err("a symmetric matrix must be square"));
            }
            rd.header = MtxHeader {
                rows,
                cols,
                entries,
                field,
                symmetry,
            };
            return Ok(rd);
        }
    }

    /// The header.
    pub fn header(&self) -> &MtxHeader {
        &self.header
    }

    fn err(&self, msg: impl Into<String>) -> MtxError {
        MtxError {
            line: self.line_no,
            msg: msg.into(),
        }
    }

    /// Read the next line into `buf`; false at end of input.
    fn next_line(&mut self) -> Result<bool, MtxError> {
        self.buf.clear();
        let n = self.input.read_line(&mut self.buf).map_err(|e| MtxError {
            line: self.line_no + 1,
            msg: e.to_string(),
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        Ok(true)
    }

    /// The next entry (0-based), or `None` after the last one.
    pub fn next_entry(&mut self) -> Result<Option<MtxEntry>, MtxError> {
        if let Some(m) = self.mirror.take() {
            return Ok(Some(m));
        }
        loop {
            if !self.next_line()? {
                if self.read_entries < self.header.entries {
                    return Err(self.err(format!(
                        "file ends after {} of {} entries",
                        self.read_entries, self.header.entries
                    )));
                }
                return Ok(None);
            }
            let t = self.buf.trim();
            if t.is_empty() || t.starts_with('%') {
                continue;
            }
            if self.read_entries == self.header.entries {
                return Err(self.err(format!(
                    "more than the {} entries announced",
                    self.header.entries
                )));
            }
            let mut it = t.split_whitespace();
            let (Some(i), Some(j)) = (it.next(), it.next()) else {
                return Err(self.err(format!("bad entry {t:?}")));
            };
            let idx = |s: &str, n: u64, what: &str| -> Result<u64, String> {
                match s.parse::<u64>() {
                    Ok(v) if v >= 1 && v <= n => Ok(v - 1),
                    _ => Err(format!("{what} index {s:?} is not in 1..={n}")),
                }
            };
            let row = idx(i, self.header.rows, "row").map_err(|m| self.err(m))?;
            let col = idx(j, self.header.cols, "column").map_err(|m| self.err(m))?;
            let value = match self.header.field {
                MtxField::Pattern => MtxValue::Pattern,
                MtxField::Real => {
                    let s = it.next().ok_or_else(|| self.err("missing value"))?;
                    MtxValue::Real(
                        s.parse()
                            .map_err(|_| self.err(format!("bad real value {s:?}")))?,
                    )
                }
                MtxField::Integer => {
                    let s = it.next().ok_or_else(|| self.err("missing value"))?;
                    MtxValue::Integer(
                        s.parse()
                            .map_err(|_| self.err(format!("bad integer value {s:?}")))?,
                    )
                }
            };
            if let Some(extra) = it.next() {
                return Err(self.err(format!("unexpected {extra:?} after the entry")));
            }
            self.read_entries += 1;
            if self.header.symmetry == MtxSymmetry::Symmetric && row != col {
                self.mirror = Some(MtxEntry {
                    row: col,
                    col: row,
                    value,
                });
            }
            return Ok(Some(MtxEntry { row, col, value }));
        }
    }
}

impl<R: BufRead> Iterator for MtxReader<R> {
    type Item = Result<MtxEntry, MtxError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use h5sparse::Format;

    fn sample(data: Values) -> SparseResult {
        // [[0, 1.5, 0], [0, 0, 0], [2, 0, -0.0]] with an explicit zero at (2, 2)
        SparseResult {
            format: Format::Csr,
            shape: (3, 3),
            indptr: Values::I64(vec![0, 1, 1, 3]),
            indices: Values::I32(vec![1, 0, 2]),
            data,
        }
    }

    #[test]
    fn writes_real_and_integer() {
        let mut out = vec![];
        write_mtx(&mut out, &sample(Values::F64(vec![1.5, 2.0, -0.0]))).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 2 1.5\n3 1 2.0\n3 3 -0.0\n"
        );
        let mut out = vec![];
        write_mtx(&mut out, &sample(Values::I64(vec![i64::MIN, 7, 0]))).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "%%MatrixMarket matrix coordinate integer general\n3 3 3\n1 2 {}\n3 1 7\n3 3 0\n",
                i64::MIN
            )
        );
        let mut out = vec![];
        write_mtx(
            &mut out,
            &sample(Values::F32(vec![0.1, f32::NAN, f32::NEG_INFINITY])),
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.ends_with("1 2 0.1\n3 1 nan\n3 3 -inf\n"), "{s}");
        // CSC: the same entries, column-major
        let mut csc = sample(Values::F64(vec![1.5, 2.0, -0.0]));
        csc.format = Format::Csc;
        let mut out = vec![];
        write_mtx(&mut out, &csc).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("2 1 1.5\n1 3 2.0\n3 3 -0.0\n"));
    }

    #[test]
    fn roundtrip_floats() {
        let vals = vec![
            1e-300,
            1.0 / 3.0,
            -2.5e17,
            123456789.0,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        let m = SparseResult {
            format: Format::Csr,
            shape: (1, vals.len()),
            indptr: Values::I64(vec![0, vals.len() as i64]),
            indices: Values::I64((0..vals.len() as i64).collect()),
            data: Values::F64(vals.clone()),
        };
        let mut out = vec![];
        write_mtx(&mut out, &m).unwrap();
        let rd = MtxReader::new(&out[..]).unwrap();
        let got: Vec<f64> = rd
            .map(|e| match e.unwrap().value {
                MtxValue::Real(v) => v,
                v => panic!("{v:?}"),
            })
            .collect();
        assert_eq!(got, vals);
    }

    #[test]
    fn reads_symmetric_pattern_with_comments() {
        let text = "%%MatrixMarket matrix coordinate pattern symmetric\n% a comment\n\n3 3 3\n1 1\n3 1\n% mid comment\n3 2\n";
        let rd = MtxReader::new(text.as_bytes()).unwrap();
        assert_eq!(rd.header().field, MtxField::Pattern);
        let e: Vec<(u64, u64)> = rd.map(|e| e.map(|e| (e.row, e.col)).unwrap()).collect();
        assert_eq!(e, vec![(0, 0), (2, 0), (0, 2), (2, 1), (1, 2)]);
        let text = "%%MatrixMarket matrix coordinate integer general\n2 2 1\n2 1 -7\n";
        let e: Vec<MtxEntry> = MtxReader::new(text.as_bytes())
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            e,
            vec![MtxEntry {
                row: 1,
                col: 0,
                value: MtxValue::Integer(-7)
            }]
        );
    }

    #[test]
    fn errors_have_line_numbers() {
        let cases = [
            ("", 0),
            ("%%MatrixMarket matrix array real general\n1 1\n", 1),
            ("%%MatrixMarket matrix coordinate complex general\n", 1),
            (
                "%%MatrixMarket matrix coordinate real general\n% c\n2 x 1\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 0 1.0\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 abc\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1.5\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 2\n",
                4,
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1\n",
                3,
            ),
            (
                "%%MatrixMarket matrix coordinate real symmetric\n2 3 1\n",
                2,
            ),
        ];
        for (text, line) in cases {
            let r =
                MtxReader::new(text.as_bytes()).and_then(|rd| rd.collect::<Result<Vec<_>, _>>());
            let e = r.expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
    }
}
