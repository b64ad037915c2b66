//! `h5sparse dump --json`: one JSON document for an object and everything below it.

use std::io::Write;

use h5format::value::Value;
use h5format::{Dataset, Error, File, LinkTarget, Node, Object};
use serde_json::{json, Map, Value as Json};

use crate::json::{attribute_json, value_to_json};
use crate::UserError;

/// Elements decoded to values at a time while streaming a dataset's data.
const BLOCK_ELEMS: u64 = 1 << 16;

/// Run the command.
///
/// The document is written as it is walked: attributes are small and built as JSON values,
/// dataset data is streamed block by block (one chunk band of rows at most), so memory does
/// not grow with the size of the data. The first [`HOLD_BYTES`] of output are held back, so
/// an error in a document smaller than that prints nothing but the error (as before
/// streaming); past it, the output stops where the error happened.
pub fn run(
    out: &mut impl Write,
    file: &str,
    path: Option<&str>,
    no_data: bool,
) -> Result<(), UserError> {
    let f = crate::open::open(file)?;
    let path = path.unwrap_or("/");
    let obj = f.object(path)?;
    let mut d = Dumper {
        file: &f,
        no_data,
        ancestors: Vec::new(),
    };
    let mut held = HeldBack {
        out,
        buf: Vec::new(),
        streaming: false,
    };
    d.object(&mut held, &obj)?;
    writeln!(held)?;
    held.release()?;
    Ok(())
}

/// Output held back in memory while it is smaller than this.
const HOLD_BYTES: usize = 32 << 20;

/// A writer that keeps the first [`HOLD_BYTES`] in memory, then writes through.
struct HeldBack<'a, W: Write> {
    out: &'a mut W,
    buf: Vec<u8>,
    streaming: bool,
}

impl<W: Write> HeldBack<'_, W> {
    /// Write out what is held.
    fn release(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf = Vec::new();
        self.streaming = true;
        Ok(())
    }
}

impl<W: Write> Write for HeldBack<'_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.streaming {
            return self.out.write(b);
        }
        self.buf.extend_from_slice(b);
        if self.buf.len() >= HOLD_BYTES {
            self.release()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.streaming {
            self.out.flush()
        } else {
            Ok(())
        }
    }
}

struct Dumper<'a> {
    file: &'a File,
    no_data: bool,
    /// Header addresses of the groups being dumped (hard-link cycle detection).
    ancestors: Vec<u64>,
}

/// Write `v` as compact JSON (serde_json's formatting, as the rest of the document).
fn put(out: &mut dyn Write, v: &Json) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, v).map_err(|e| Error::Usage(format!("writing JSON: {e}")))
}

/// Write raw JSON text.
fn raw(out: &mut dyn Write, s: &str) -> Result<(), Error> {
    out.write_all(s.as_bytes()).map_err(|e| Error::Io {
        offset: 0,
        source: e,
    })
}

impl Dumper<'_> {
    fn object(&mut self, out: &mut dyn Write, obj: &Object) -> Result<(), Error> {
        match obj {
            Object::Group(g) => {
                let addr = g.address();
                let attrs = self.attrs(g.node())?;
                if self.ancestors.contains(&addr) {
                    // A hard link back to an enclosing group: dumping it again would never end,
                    // so the members are left out and `cycle` names the group it repeats.
                    let target = self.file.path_of(addr).unwrap_or_default();
                    return put(
                        out,
                        &json!({"kind": "group", "attrs": attrs, "members": {}, "cycle": target}),
                    );
                }
                self.ancestors.push(addr);
                raw(out, r#"{"kind":"group","attrs":"#)?;
                put(out, &attrs)?;
                raw(out, r#","members":{"#)?;
                for (i, link) in g.links()?.iter().enumerate() {
                    if i > 0 {
                        raw(out, ",")?;
                    }
                    put(out, &Json::String(link.name.clone()))?;
                    raw(out, ":")?;
                    match &link.target {
                        LinkTarget::Hard(_) => {
                            let child = g.member(&link.name)?;
                            self.object(out, &child)?;
                        }
                        LinkTarget::Soft(t) => put(out, &json!({"kind": "softlink", "target": t}))?,
                        LinkTarget::External { file, path } => put(
                            out,
                            &json!({"kind": "extlink", "file": file, "target": path}),
                        )?,
                        LinkTarget::UserDefined(t) => {
                            put(out, &json!({"kind": "userlink", "type": t}))?
                        }
                    }
                }
                self.ancestors.pop();
                raw(out, "}}")
            }
            Object::Dataset(d) => self.dataset(out, d),
            Object::Datatype(t) => {
                let attrs = self.attrs(t.node())?;
                put(
                    out,
                    &json!({"kind": "datatype", "dtype": t.dtype().dtype_name(), "attrs": attrs}),
                )
            }
        }
    }

    fn attrs(&self, node: &Node) -> Result<Json, Error> {
        let mut m = Map::new();
        for a in node.attributes().map_err(|e| e.in_object(node.path()))? {
            let v = attribute_json(self.file, &a)
                .map_err(|e| e.in_object(&format!("{}@{}", node.path(), a.name)))?;
            m.insert(a.name.clone(), v);
        }
        Ok(Json::Object(m))
    }

    fn dataset(&self, out: &mut dyn Write, d: &Dataset) -> Result<(), Error> {
        // Attributes and the first block of data are read before anything of the dataset is
        // written: most errors (unreadable storage, a corrupt first chunk) print nothing of it.
        let attrs = self.attrs(d.node())?;
        let null_space = matches!(d.space(), h5format::Dataspace::Null);
        let data =
            if self.no_data || null_space || d.dtype().dtype_name().starts_with("unsupported:") {
                None
            } else {
                let mut blocks = Blocks::new(d);
                match blocks.next_block() {
                    Ok(first) => Some(Some((blocks, first))),
                    Err(e) if is_unsupported(&e) => {
                        eprintln!("warning: {}: data not read: {e}", d.path());
                        Some(None)
                    }
                    Err(e) => return Err(e.in_object(d.path())),
                }
            };
        raw(out, r#"{"kind":"dataset","dtype":"#)?;
        put(out, &json!(d.dtype().dtype_name()))?;
        raw(out, r#","shape":"#)?;
        if null_space {
            raw(out, "null")?;
        } else {
            put(out, &json!(d.shape()))?;
        }
        raw(out, r#","attrs":"#)?;
        put(out, &attrs)?;
        if !self.no_data {
            raw(out, r#","data":"#)?;
            match data {
                Some(Some((blocks, first))) => write_data(out, self.file, d, blocks, first)?,
                _ => raw(out, "null")?,
            }
        }
        raw(out, "}")
    }
}

fn is_unsupported(e: &Error) -> bool {
    match e {
        Error::Unsupported { .. } => true,
        Error::InObject { source, .. } => is_unsupported(source),
        _ => false,
    }
}

/// Blocks of a dataset's elements in row-major order: whole bands of rows along the first
/// axis (a chunk's rows for chunked data, else about [`BLOCK_ELEMS`] elements).
struct Blocks<'a> {
    d: &'a Dataset,
    /// Elements per row (product of all but the first dimension; 1 for rank <= 1).
    row: u64,
    /// Rows per block.
    rows: u64,
    /// Next row (or element, rank 1) to read.
    next: u64,
    /// Rows in total.
    total: u64,
}

impl<'a> Blocks<'a> {
    fn new(d: &'a Dataset) -> Self {
        let shape = d.shape();
        let total = shape.first().copied().unwrap_or(1);
        let row: u64 = shape.iter().skip(1).product();
        let rows = match d.layout() {
            h5format::read::layout::Layout::Chunked { chunk_dims, .. } if shape.len() > 1 => {
                chunk_dims.first().copied().unwrap_or(1).max(1)
            }
            _ => (BLOCK_ELEMS / row.max(1)).max(1),
        };
        Blocks {
            d,
            row,
            rows,
            next: 0,
            total,
        }
    }

    /// The raw bytes of the next block (`None` at the end).
    fn next_block(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let shape = self.d.shape();
        if shape.is_empty() {
            if self.next > 0 {
                return Ok(None);
            }
            self.next = 1;
            return self.d.read_raw().map(Some);
        }
        if self.next >= self.total || self.row == 0 {
            return Ok(None);
        }
        let take = self.rows.min(self.total - self.next);
        let start = self.next;
        self.next += take;
        if shape.len() == 1 {
            let range = start..start + take;
            return self
                .d
                .read_ranges_raw(std::slice::from_ref(&range))
                .map(Some);
        }
        let mut s = vec![0; shape.len()];
        let mut c = shape.to_vec();
        s[0] = start;
        c[0] = take;
        let step = vec![1; shape.len()];
        self.d.read_hyperslab_raw(&s, &c, &step).map(Some)
    }
}

/// Stream the data of `d` as nested JSON lists (the same text as [`nest`] of all values),
/// from its `blocks` whose `first` block is already read.
fn write_data(
    out: &mut dyn Write,
    file: &File,
    d: &Dataset,
    blocks: Blocks<'_>,
    first: Option<Vec<u8>>,
) -> Result<(), Error> {
    let esize = d.dtype().size().max(1);
    let mut stream = ValueStream {
        file,
        d,
        blocks,
        pending: first,
        values: Vec::new().into_iter(),
        esize,
    };
    let n = d.space().num_elements().unwrap_or(0);
    let shape = d.shape();
    let mut budget = (shape.len() as u64 + 1)
        .saturating_mul(n)
        .saturating_add(crate::json::MAX_EXTRA_NODES);
    let r = write_nested(out, shape, &mut stream, &mut budget);
    r.map_err(|e| e.in_object(d.path()))
}

/// The dataset's values one at a time, decoded a block (at most [`BLOCK_ELEMS`]) at a time.
struct ValueStream<'a> {
    file: &'a File,
    d: &'a Dataset,
    blocks: Blocks<'a>,
    /// Raw bytes read but not decoded yet.
    pending: Option<Vec<u8>>,
    values: std::vec::IntoIter<Value>,
    esize: usize,
}

impl ValueStream<'_> {
    fn next_value(&mut self) -> Result<Option<Value>, Error> {
        loop {
            if let Some(v) = self.values.next() {
                return Ok(Some(v));
            }
            let Some(mut bytes) = self.pending.take() else {
                match self.blocks.next_block()? {
                    Some(b) => self.pending = Some(b),
                    None => return Ok(None),
                }
                continue;
            };
            if bytes.is_empty() {
                continue;
            }
            let cut = (BLOCK_ELEMS as usize * self.esize).min(bytes.len());
            let rest = bytes.split_off(cut);
            if !rest.is_empty() {
                self.pending = Some(rest);
            }
            let count = bytes.len() / self.esize;
            let v = h5format::value::decode(
                self.d.dtype(),
                &bytes,
                count,
                self.file.sizes(),
                self.file,
            )?;
            self.values = v.into_iter();
        }
    }
}

/// Nested lists by `shape` (as [`crate::json::nest`] builds them, node budget included).
fn write_nested(
    out: &mut dyn Write,
    shape: &[u64],
    vals: &mut ValueStream<'_>,
    budget: &mut u64,
) -> Result<(), Error> {
    *budget = budget.saturating_sub(1);
    match shape.split_first() {
        None => match vals.next_value()? {
            Some(v) => put(out, &value_to_json(&v)),
            None => raw(out, "null"),
        },
        Some((&n, rest)) => {
            raw(out, "[")?;
            for i in 0..n {
                if *budget == 0 {
                    break;
                }
                if i > 0 {
                    raw(out, ",")?;
                }
                write_nested(out, rest, vals, budget)?;
            }
            raw(out, "]")
        }
    }
}
