//! `h5sparse dump --json`: one JSON document for an object and everything below it.

use std::io::Write;

use h5format::value::Value;
use h5format::{Attribute, Dataset, Error, File, LinkTarget, Node, Object};
use serde_json::{json, Map, Value as Json};

use crate::json::{nest, value_to_json};
use crate::UserError;

/// Run the command.
pub fn run(
    out: &mut impl Write,
    file: &str,
    path: Option<&str>,
    no_data: bool,
) -> Result<(), UserError> {
    let f = crate::ls::open(file)?;
    let path = path.unwrap_or("/");
    let obj = f.object(path)?;
    let mut d = Dumper {
        file: &f,
        no_data,
        ancestors: Vec::new(),
    };
    let doc = d.object(&obj)?;
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

struct Dumper<'a> {
    file: &'a File,
    no_data: bool,
    /// Header addresses of the groups being dumped (hard-link cycle detection).
    ancestors: Vec<u64>,
}

impl Dumper<'_> {
    fn object(&mut self, obj: &Object) -> Result<Json, Error> {
        match obj {
            Object::Group(g) => {
                let addr = g.address();
                let attrs = self.attrs(g.node())?;
                if self.ancestors.contains(&addr) {
                    // A hard link back to an enclosing group: dumping it again would never end,
                    // so the members are left out and `cycle` names the group it repeats.
                    let target = self.file.path_of(addr).unwrap_or_default();
                    return Ok(
                        json!({"kind": "group", "attrs": attrs, "members": {}, "cycle": target}),
                    );
                }
                self.ancestors.push(addr);
                let mut members = Map::new();
                for link in g.links()?.iter() {
                    let node = match &link.target {
                        LinkTarget::Hard(_) => {
                            let child = g.member(&link.name)?;
                            self.object(&child)?
                        }
                        LinkTarget::Soft(t) => json!({"kind": "softlink", "target": t}),
                        LinkTarget::External { file, path } => {
                            json!({"kind": "extlink", "file": file, "target": path})
                        }
                        LinkTarget::UserDefined(t) => json!({"kind": "userlink", "type": t}),
                    };
                    members.insert(link.name.clone(), node);
                }
                self.ancestors.pop();
                Ok(json!({"kind": "group", "attrs": attrs, "members": members}))
            }
            Object::Dataset(d) => self.dataset(d),
            Object::Datatype(t) => {
                let attrs = self.attrs(t.node())?;
                Ok(json!({"kind": "datatype", "dtype": t.dtype().dtype_name(), "attrs": attrs}))
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

    fn dataset(&self, d: &Dataset) -> Result<Json, Error> {
        let mut m = Map::new();
        m.insert("kind".into(), "dataset".into());
        m.insert("dtype".into(), d.dtype().dtype_name().into());
        let null_space = matches!(d.space(), h5format::Dataspace::Null);
        m.insert(
            "shape".into(),
            if null_space {
                Json::Null
            } else {
                json!(d.shape())
            },
        );
        m.insert("attrs".into(), self.attrs(d.node())?);
        if !self.no_data {
            let data = if null_space {
                Json::Null
            } else {
                dataset_json(self.file, d)?
            };
            m.insert("data".into(), data);
        }
        Ok(Json::Object(m))
    }
}

fn is_unsupported(e: &Error) -> bool {
    match e {
        Error::Unsupported { .. } => true,
        Error::InObject { source, .. } => is_unsupported(source),
        _ => false,
    }
}

/// The JSON value of a dataset's data; `null` (with a note on stderr) if a feature is missing.
fn dataset_json(file: &File, d: &Dataset) -> Result<Json, Error> {
    if d.dtype().dtype_name().starts_with("unsupported:") {
        return Ok(Json::Null);
    }
    // Decoded values and their JSON take far more memory than the stored bytes: bound them
    // by the same budget as file-driven allocations, so a huge (or corrupt) shape is an error.
    let n = d.space().num_elements().unwrap_or(u64::MAX);
    let per_value = 4 * std::mem::size_of::<Json>() as u64;
    let limit = file.source().alloc_limit();
    if n.saturating_mul(per_value) > limit {
        return Err(Error::TooLarge {
            what: "dataset values for JSON",
            offset: d.address(),
            requested: n.saturating_mul(per_value),
            limit,
        }
        .in_object(d.path()));
    }
    let values = d.read_raw().and_then(|raw| {
        let n = d.space().num_elements().unwrap_or(0) as usize;
        h5format::value::decode(d.dtype(), &raw, n, file.sizes(), file)
    });
    match values {
        Ok(v) => Ok(nest(v, d.shape())),
        Err(e) if is_unsupported(&e) => {
            eprintln!("warning: {}: data not read: {e}", d.path());
            Ok(Json::Null)
        }
        Err(e) => Err(e.in_object(d.path())),
    }
}

/// The JSON value of an attribute.
pub fn attribute_json(file: &File, a: &Attribute) -> Result<Json, Error> {
    if matches!(a.space, h5format::Dataspace::Null)
        || a.dtype.dtype_name().starts_with("unsupported:")
    {
        return Ok(Json::Null);
    }
    let n = a.space.num_elements().unwrap_or(0) as usize;
    let values: Vec<Value> = h5format::value::decode(&a.dtype, &a.data, n, file.sizes(), file)?;
    Ok(if matches!(a.space, h5format::Dataspace::Scalar) {
        values
            .into_iter()
            .next()
            .map(|v| value_to_json(&v))
            .unwrap_or(Json::Null)
    } else {
        nest(values, a.space.dims())
    })
}
