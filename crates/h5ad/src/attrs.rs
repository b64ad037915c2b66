//! The attributes anndata puts on elements, decoded: strings, string arrays, booleans,
//! `encoding-type`.

use h5format::value::Value;
use h5format::Node;

use crate::error::{Context, Error, Result};

/// The decoded values of attribute `name` of `node` (`None` when absent).
pub(crate) fn attr_values(node: &Node, name: &str) -> Result<Option<Vec<Value>>> {
    let Some(a) = node.attribute(name).at(node.path())? else {
        return Ok(None);
    };
    let n = a.space.num_elements().unwrap_or(0);
    let n = usize::try_from(n)
        .map_err(|_| Error::element(node.path(), format!("attribute {name} too large")))?;
    let file = node.file();
    let v = h5format::value::decode(&a.dtype, &a.data, n, file.sizes(), file).at(node.path())?;
    Ok(Some(v))
}

/// A string attribute (`None` when absent; an error when not a string).
pub(crate) fn attr_string(node: &Node, name: &str) -> Result<Option<String>> {
    match attr_values(node, name)? {
        None => Ok(None),
        Some(v) => match v.as_slice() {
            [Value::Str(s)] => Ok(Some(s.clone())),
            _ => Err(Error::element(
                node.path(),
                format!("attribute {name}: expected a string"),
            )),
        },
    }
}

/// A 1-D string-array attribute (an empty array of any type counts as empty).
pub(crate) fn attr_strings(node: &Node, name: &str) -> Result<Option<Vec<String>>> {
    let Some(v) = attr_values(node, name)? else {
        return Ok(None);
    };
    v.into_iter()
        .map(|x| match x {
            Value::Str(s) => Ok(s),
            _ => Err(Error::element(
                node.path(),
                format!("attribute {name}: expected strings"),
            )),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// A boolean attribute (h5py bool, or an integer).
pub(crate) fn attr_bool(node: &Node, name: &str) -> Result<Option<bool>> {
    match attr_values(node, name)?.as_deref() {
        None => Ok(None),
        Some([Value::Bool(b)]) => Ok(Some(*b)),
        Some([Value::Int(i)]) => Ok(Some(*i != 0)),
        Some([Value::UInt(i)]) => Ok(Some(*i != 0)),
        Some(_) => Err(Error::element(
            node.path(),
            format!("attribute {name}: expected a boolean"),
        )),
    }
}

/// The `encoding-type` attribute of an object.
pub(crate) fn encoding_type(node: &Node) -> Result<Option<String>> {
    attr_string(node, "encoding-type")
}
