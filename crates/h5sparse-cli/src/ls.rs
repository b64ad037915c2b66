//! `h5sparse ls`: list objects like `h5ls`.

use std::io::Write;

use h5format::{Dataspace, File, LinkTarget, Node, Object};

use crate::UserError;

/// Run the command.
pub fn run(
    out: &mut impl Write,
    file: &str,
    path: Option<&str>,
    recursive: bool,
    verbose: bool,
) -> Result<(), UserError> {
    let f = crate::open::open(file)?;
    let path = path.unwrap_or("/");
    let obj = f.object(path)?;
    let mut l = Lister {
        file: &f,
        out,
        verbose,
        recursive,
        visited: Vec::new(),
    };
    match &obj {
        Object::Group(_) if recursive && (path == "/" || path.is_empty()) => {
            l.line("/", &obj)?;
            l.members(&obj, "")?;
        }
        Object::Group(_) => {
            if recursive {
                l.line(path, &obj)?;
            }
            let prefix = if path == "/" {
                ""
            } else {
                path.trim_end_matches('/')
            };
            l.members(&obj, prefix)?;
        }
        _ => l.line(path, &obj)?,
    }
    Ok(())
}

struct Lister<'a, W: Write> {
    file: &'a File,
    out: &'a mut W,
    verbose: bool,
    recursive: bool,
    visited: Vec<u64>,
}

impl<W: Write> Lister<'_, W> {
    fn members(&mut self, obj: &Object, prefix: &str) -> Result<(), UserError> {
        let Object::Group(g) = obj else { return Ok(()) };
        if self.visited.contains(&g.address()) {
            return Ok(());
        }
        self.visited.push(g.address());
        for link in g.links()?.iter() {
            let p = format!("{prefix}/{}", link.name);
            match &link.target {
                LinkTarget::Hard(_) => {
                    let child = g.member(&link.name)?;
                    self.line(&p, &child)?;
                    if self.recursive {
                        self.members(&child, &p)?;
                    }
                }
                LinkTarget::Soft(t) => writeln!(self.out, "{p:<24} Soft Link {{{t}}}")?,
                LinkTarget::External { file, path } => {
                    writeln!(self.out, "{p:<24} External Link {{{file}/{path}}}")?
                }
                LinkTarget::UserDefined(t) => {
                    writeln!(self.out, "{p:<24} User-defined link (type {t})")?
                }
            }
        }
        self.visited.pop();
        Ok(())
    }

    fn line(&mut self, path: &str, obj: &Object) -> Result<(), UserError> {
        match obj {
            Object::Group(_) => writeln!(self.out, "{path:<24} Group")?,
            Object::Datatype(_) => writeln!(self.out, "{path:<24} Type")?,
            Object::Dataset(d) => {
                let shape = shape_text(d.space(), self.verbose);
                match d.unresolved_extent() {
                    // Still one line per object: its stored extent and why (reading it stays
                    // an error).
                    Some(why) => writeln!(
                        self.out,
                        "{path:<24} Dataset {shape} (stored extent; virtual sources not \
                         resolved: {})",
                        why.to_string().replace('\n', " ")
                    )?,
                    None => writeln!(self.out, "{path:<24} Dataset {shape}")?,
                }
            }
        }
        if self.verbose {
            self.details(obj)?;
        }
        Ok(())
    }

    fn details(&mut self, obj: &Object) -> Result<(), UserError> {
        let node: &Node = obj.node();
        for a in node.attributes()? {
            let shape = match &a.space {
                Dataspace::Scalar => "scalar".to_string(),
                Dataspace::Null => "null".to_string(),
                s => shape_text(s, false),
            };
            writeln!(self.out, "    Attribute: {} {shape}", a.name)?;
            writeln!(self.out, "        Type:      {}", a.dtype.dtype_name())?;
            let v = crate::json::attribute_json(self.file, &a)?;
            writeln!(self.out, "        Data:      {}", data_text(&v))?;
        }
        writeln!(self.out, "    Location:  {}", node.address())?;
        if let Object::Dataset(d) = obj {
            writeln!(self.out, "    Type:      {}", d.dtype().dtype_name())?;
            for line in layout_lines(d) {
                writeln!(self.out, "    {line}")?;
            }
        }
        if let Object::Datatype(t) = obj {
            writeln!(self.out, "    Type:      {}", t.dtype().dtype_name())?;
        }
        Ok(())
    }
}

/// `{4, 3}`, `{100/Inf, 4/4}` (verbose shows max dims), `{SCALAR}`, `{NULL}`.
fn shape_text(space: &Dataspace, with_max: bool) -> String {
    match space {
        Dataspace::Scalar => "{SCALAR}".into(),
        Dataspace::Null => "{NULL}".into(),
        Dataspace::Simple { dims, max_dims } => {
            let parts: Vec<String> = dims
                .iter()
                .zip(max_dims)
                .map(|(d, m)| {
                    if *m == h5format::read::dataspace::UNLIMITED {
                        format!("{d}/Inf")
                    } else if with_max || m != d {
                        format!("{d}/{m}")
                    } else {
                        d.to_string()
                    }
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// An attribute's value as h5ls prints it: strings quoted, arrays comma-separated.
fn data_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(items) => {
            items.iter().map(data_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// Layout, chunk and filter lines of `ls -v`.
pub fn layout_lines(d: &h5format::Dataset) -> Vec<String> {
    use h5format::read::layout::Layout;
    let mut lines = Vec::new();
    match d.layout() {
        Layout::Compact { data } => {
            lines.push(format!("Layout:    compact ({} bytes)", data.len()))
        }
        Layout::Contiguous { address, size } => {
            if *address == h5format::cursor::UNDEF_ADDR {
                lines.push("Layout:    contiguous (not allocated)".into());
            } else {
                lines.push(format!("Layout:    contiguous at {address}, {size} bytes"));
            }
        }
        Layout::Chunked {
            chunk_dims, index, ..
        } => {
            let dims: Vec<String> = chunk_dims.iter().map(u64::to_string).collect();
            lines.push("Layout:    chunked".into());
            lines.push(format!(
                "Chunks:    {{{}}}, index: {}",
                dims.join(", "),
                index.name()
            ));
        }
        Layout::Virtual { .. } => lines.push("Layout:    virtual".into()),
    }
    if let Some(p) = d.filters() {
        lines.push(format!("Filters:   {}", p.describe()));
    }
    lines
}
