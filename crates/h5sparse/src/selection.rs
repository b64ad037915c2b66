//! Per-axis selections with numpy semantics, and the parser of their CLI text forms.
//!
//! Text forms (see the CLI spec): `:` / `a:b` / `a:b:s` with any part omitted and negative
//! values allowed, an integer list `3,1,1,-1`, a boolean mask `mask:0110`, and `@PATH` to read
//! any of these from a file. Parsing is strict: integers are `-?[0-9]+` within i64 (no `+`,
//! no spaces inside a slice or a mask), and a list has no empty item (`1,,2`, `1,`); list
//! items may be separated by white space too (one per line in a file).

use crate::error::{Error, Result};

/// A selection on one axis as written, before the axis length is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sel {
    /// The whole axis.
    All,
    /// A Python slice `start:stop:step` (parts optional).
    Slice {
        /// Start (negative counts from the end).
        start: Option<i64>,
        /// Stop, exclusive (negative counts from the end).
        stop: Option<i64>,
        /// Step (never 0; default 1).
        step: Option<i64>,
    },
    /// Integer positions in output order (duplicates and negatives allowed).
    List(Vec<i64>),
    /// Boolean mask, one entry per position of the axis.
    Mask(Vec<bool>),
}

fn sel_err(msg: impl Into<String>) -> Error {
    Error::Selection(msg.into())
}

/// An integer as the spec writes them: `-?[0-9]+` (no `+`, no spaces inside), in i64.
fn parse_int(s: &str, whole: &str) -> Result<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(sel_err(format!("{s:?} is not an integer in {whole:?}")));
    }
    s.parse::<i64>()
        .map_err(|_| sel_err(format!("{s:?} is out of range in {whole:?}")))
}

impl Sel {
    /// Parse the text form of a selection (reading the file for `@PATH`).
    pub fn parse(text: &str) -> Result<Sel> {
        let t = text.trim();
        if let Some(path) = t.strip_prefix('@') {
            let content = std::fs::read_to_string(path)
                .map_err(|e| sel_err(format!("cannot read selection file {path:?}: {e}")))?;
            let c = content.trim();
            if c.starts_with('@') {
                return Err(sel_err(format!(
                    "selection file {path:?} refers to another file"
                )));
            }
            return Sel::parse(c);
        }
        if let Some(bits) = t.strip_prefix("mask:") {
            let mut mask = Vec::with_capacity(bits.len());
            for (i, ch) in bits.chars().enumerate() {
                match ch {
                    '0' => mask.push(false),
                    '1' => mask.push(true),
                    c => {
                        return Err(sel_err(format!(
                            "mask character {c:?} at position {i} is not 0 or 1"
                        )))
                    }
                }
            }
            return Ok(Sel::Mask(mask));
        }
        if t.contains(':') {
            let parts: Vec<&str> = t.split(':').collect();
            if parts.len() > 3 {
                return Err(sel_err(format!("slice {t:?} has more than 3 parts")));
            }
            let part = |i: usize| -> Result<Option<i64>> {
                match parts.get(i).copied() {
                    None | Some("") => Ok(None),
                    Some(p) => parse_int(p, t).map(Some),
                }
            };
            let (start, stop, step) = (part(0)?, part(1)?, part(2)?);
            if step == Some(0) {
                return Err(sel_err("slice step cannot be zero"));
            }
            if start.is_none() && stop.is_none() && matches!(step, None | Some(1)) {
                return Ok(Sel::All);
            }
            return Ok(Sel::Slice { start, stop, step });
        }
        if t.is_empty() {
            return Err(sel_err("empty selection"));
        }
        // Items are separated by commas (spaces around them allowed) or by white space alone
        // (one per line in an `@PATH` file); an empty item (`1,,2`, `,1`, `1,`) is an error.
        let mut list = Vec::new();
        for piece in t.split(',') {
            let piece = piece.trim();
            if piece.is_empty() {
                return Err(sel_err(format!("empty item in the list {t:?}")));
            }
            for item in piece.split_whitespace() {
                list.push(parse_int(item, t)?);
            }
        }
        Ok(Sel::List(list))
    }

    /// Resolve against an axis of `len` positions.
    pub fn resolve(&self, len: u64) -> Result<Selection> {
        match self {
            Sel::All => Ok(Selection::all(len)),
            Sel::Slice { start, stop, step } => {
                slice_indices(*start, *stop, step.unwrap_or(1), len)
            }
            Sel::List(v) => {
                let n = i128::from(len);
                let mut out = Vec::new();
                out.try_reserve_exact(v.len())
                    .map_err(|_| Error::TooLarge {
                        what: "selection",
                        requested: v.len() as u64,
                    })?;
                for &i in v {
                    let j = if i < 0 {
                        i128::from(i) + n
                    } else {
                        i128::from(i)
                    };
                    if j < 0 || j >= n {
                        return Err(sel_err(format!(
                            "index {i} is out of range for an axis of length {len}"
                        )));
                    }
                    out.push(j as u64);
                }
                Ok(Selection::List(out))
            }
            Sel::Mask(m) => {
                if m.len() as u64 != len {
                    return Err(sel_err(format!(
                        "mask has {} entries for an axis of length {len}",
                        m.len()
                    )));
                }
                Ok(Selection::List(
                    m.iter()
                        .enumerate()
                        .filter(|(_, &b)| b)
                        .map(|(i, _)| i as u64)
                        .collect(),
                ))
            }
        }
    }
}

/// Python's `slice(start, stop, step).indices(len)` followed by the element count.
fn slice_indices(start: Option<i64>, stop: Option<i64>, step: i64, len: u64) -> Result<Selection> {
    if step == 0 {
        return Err(sel_err("slice step cannot be zero"));
    }
    let n = i128::from(len);
    let (lower, upper) = if step > 0 {
        (0i128, n)
    } else {
        (-1i128, n - 1)
    };
    let fix = |v: Option<i64>, default: i128| -> i128 {
        match v {
            None => default,
            Some(x) if x < 0 => (i128::from(x) + n).max(lower),
            Some(x) => i128::from(x).min(upper),
        }
    };
    let s = fix(start, if step > 0 { lower } else { upper });
    let e = fix(stop, if step > 0 { upper } else { lower });
    let st = i128::from(step);
    let count = if step > 0 {
        if s < e {
            (e - s - 1) / st + 1
        } else {
            0
        }
    } else if e < s {
        (s - e - 1) / (-st) + 1
    } else {
        0
    };
    if count == 0 {
        return Ok(Selection::Range {
            start: 0,
            step: 1,
            len: 0,
        });
    }
    // With count > 0, start is a valid position in 0..len.
    Ok(Selection::Range {
        start: s as u64,
        step: if count == 1 { 1 } else { step },
        len: count as u64,
    })
}

/// A selection resolved against an axis length: valid positions in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Positions `start + k*step` for `k in 0..len` (all valid).
    Range {
        /// First position.
        start: u64,
        /// Step (not 0).
        step: i64,
        /// Number of positions.
        len: u64,
    },
    /// Explicit positions (all valid), in output order.
    List(Vec<u64>),
}

impl Selection {
    /// Parse the CLI text form against an axis of `axis_len` positions.
    pub fn parse(text: &str, axis_len: u64) -> Result<Selection> {
        Sel::parse(text)?.resolve(axis_len)
    }

    /// The whole axis.
    pub fn all(len: u64) -> Selection {
        Selection::Range {
            start: 0,
            step: 1,
            len,
        }
    }

    /// Number of selected positions (the output length on this axis).
    pub fn len(&self) -> u64 {
        match self {
            Selection::Range { len, .. } => *len,
            Selection::List(v) => v.len() as u64,
        }
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th selected position.
    pub fn get(&self, k: u64) -> Option<u64> {
        match self {
            Selection::Range { start, step, len } => {
                if k >= *len {
                    return None;
                }
                let p = i128::from(*start) + i128::from(k) * i128::from(*step);
                u64::try_from(p).ok()
            }
            Selection::List(v) => usize::try_from(k).ok().and_then(|k| v.get(k).copied()),
        }
    }

    /// The selected positions in output order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).filter_map(move |k| self.get(k))
    }

    /// The contiguous increasing range this selection is, if it is one.
    pub fn as_range(&self) -> Option<std::ops::Range<u64>> {
        match self {
            Selection::Range { start, step, len } if *step == 1 || *len <= 1 => {
                Some(*start..start.saturating_add(*len))
            }
            Selection::Range { len: 0, .. } => Some(0..0),
            Selection::List(v) => {
                let first = *v.first()?;
                let ok = v.iter().enumerate().all(|(k, &p)| p == first + k as u64);
                ok.then(|| first..first + v.len() as u64)
            }
            _ => None,
        }
    }

    /// True when positions are strictly increasing (no reordering or duplication needed).
    pub fn is_increasing(&self) -> bool {
        match self {
            Selection::Range { step, len, .. } => *step > 0 || *len <= 1,
            Selection::List(v) => v.windows(2).all(|w| w[0] < w[1]),
        }
    }

    /// True when this is the whole axis of length `axis_len` in order.
    pub fn is_all(&self, axis_len: u64) -> bool {
        self.as_range() == Some(0..axis_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str, n: u64) -> Vec<u64> {
        Selection::parse(text, n).unwrap().iter().collect()
    }

    #[test]
    fn cli_examples() {
        assert_eq!(list(":", 4), vec![0, 1, 2, 3]);
        assert_eq!(list("1:3", 5), vec![1, 2]);
        assert_eq!(list("::2", 5), vec![0, 2, 4]);
        assert_eq!(list("-3:", 5), vec![2, 3, 4]);
        assert_eq!(list("5:1:-1", 7), vec![5, 4, 3, 2]);
        assert_eq!(list("3,1,1,-1", 5), vec![3, 1, 1, 4]);
        assert_eq!(list("mask:0110", 4), vec![1, 2]);
        assert_eq!(list("-1000:1000", 3), vec![0, 1, 2]);
        assert_eq!(list("::-1", 3), vec![2, 1, 0]);
        assert_eq!(list("10:", 3), Vec::<u64>::new());
        assert_eq!(list("::-2", 0), Vec::<u64>::new());
        assert_eq!(list("-1::-1", 4), vec![3, 2, 1, 0]);
        assert_eq!(list(":-10:-1", 4), vec![3, 2, 1, 0]);
        assert_eq!(list("7", 9), vec![7]);
        // Spaces around list items and around the whole text; white space separates too.
        assert_eq!(list(" 1, 2 ,3 ", 5), vec![1, 2, 3]);
        assert_eq!(list("1 2\n3", 5), vec![1, 2, 3]);
        assert_eq!(list("-0", 5), vec![0]);
        assert_eq!(list("mask:", 0), Vec::<u64>::new());
        assert_eq!(list("1:2:", 5), vec![1]);
        assert_eq!(list("::", 2), vec![0, 1]);
        assert_eq!(list("-9223372036854775808:", 2), vec![0, 1]);
    }

    #[test]
    fn errors() {
        for (t, n) in [
            ("::0", 5),
            ("1:2:0", 5),
            ("5", 5),
            ("-6", 5),
            ("mask:011", 4),
            ("mask:01a0", 4),
            ("a:b", 4),
            ("1,x", 4),
            ("", 4),
            ("1:2:3:4", 9),
            ("@/nonexistent/file/for/sure", 4),
            ("@", 4),
            // Empty list items, leading/trailing commas.
            ("1,,2", 4),
            (",1", 4),
            ("1,", 4),
            ("1, ,2", 4),
            (",", 4),
            // Signs and spaces inside numbers, overflow.
            ("+1", 4),
            ("1,+2", 4),
            ("+1:3", 4),
            ("1:+3", 4),
            ("1 :3", 4),
            ("1: 3", 4),
            ("- 1", 4),
            ("--1", 4),
            ("-", 4),
            ("1:-", 4),
            ("9223372036854775808", 4),
            ("1:9223372036854775808", 4),
            ("1e3", 4),
            ("0x1", 4),
            ("1.0", 4),
            // Masks: only 0/1, nothing else inside.
            ("mask: 0110", 4),
            ("mask:01 10", 4),
            ("mask:0110,", 4),
            ("mask:", 4),
        ] {
            assert!(
                matches!(Selection::parse(t, n), Err(Error::Selection(_))),
                "{t}"
            );
        }
    }

    #[test]
    fn from_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sel.txt");
        std::fs::write(&p, "3,\n1\n1,-1\n").unwrap();
        assert_eq!(list(&format!("@{}", p.display()), 5), vec![3, 1, 1, 4]);
        std::fs::write(&p, "mask:0110\n").unwrap();
        assert_eq!(list(&format!("@{}", p.display()), 4), vec![1, 2]);
    }

    /// Python's slice.indices + range, straightforwardly.
    fn py_slice(start: Option<i64>, stop: Option<i64>, step: i64, n: i64) -> Vec<u64> {
        let adj = |v: i64, lo: i64, hi: i64| if v < 0 { (v + n).max(lo) } else { v.min(hi) };
        let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
        let s = start.map_or(if step > 0 { lo } else { hi }, |v| adj(v, lo, hi));
        let e = stop.map_or(if step > 0 { hi } else { lo }, |v| adj(v, lo, hi));
        let mut out = vec![];
        let mut i = s;
        while (step > 0 && i < e) || (step < 0 && i > e) {
            out.push(i as u64);
            i += step;
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn slices_match_python(start in proptest::option::of(-12i64..12), stop in proptest::option::of(-12i64..12),
                               step in proptest::sample::select(vec![-3i64, -2, -1, 1, 2, 3]), n in 0u64..9) {
            let got: Vec<u64> = Sel::Slice { start, stop, step: Some(step) }.resolve(n).unwrap().iter().collect();
            proptest::prop_assert_eq!(got, py_slice(start, stop, step, n as i64));
        }
    }
}
