//! `h5sparse edit FILE ACTION …`: one in-place change of an HDF5 file through
//! `h5format::edit::Editor` (an extension of the CLI contract: interrupted at any moment, the
//! file reads as before or after the change).

use clap::Subcommand;
use h5format::edit::Editor;
use h5format::write::AttrValue;
use serde_json::Value;

use crate::UserError;

/// The change to make.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Add or overwrite an attribute; VALUE is JSON: an integer (int64), a float (float64),
    /// a string, or a non-empty list of one of these.
    SetAttr {
        /// Object path.
        path: String,
        /// Attribute name.
        name: String,
        /// The value, as JSON.
        value: String,
    },
    /// Delete an attribute.
    DelAttr {
        /// Object path.
        path: String,
        /// Attribute name.
        name: String,
    },
    /// Create an empty group (its parent must exist).
    Mkgroup {
        /// Group path.
        path: String,
    },
    /// Delete a link (the object stays in the file, unreachable if it was its only link).
    Rm {
        /// Link path.
        path: String,
    },
}

/// Turn a JSON value into an attribute value.
fn attr_value(text: &str) -> Result<AttrValue, UserError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| UserError(format!("attribute value {text:?} is not JSON: {e}")))?;
    let bad = || {
        UserError(format!(
            "attribute value {text}: not a number, string or list of them"
        ))
    };
    Ok(match &v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => AttrValue::scalar(i),
            None => AttrValue::scalar(n.as_f64().ok_or_else(bad)?),
        },
        Value::String(s) => AttrValue::String(s.clone()),
        Value::Array(items) if !items.is_empty() => {
            if items.iter().all(Value::is_string) {
                AttrValue::Strings(
                    items
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect(),
                )
            } else if let Some(ints) = items.iter().map(Value::as_i64).collect::<Option<Vec<_>>>() {
                AttrValue::array(&ints)
            } else {
                let floats = items
                    .iter()
                    .map(Value::as_f64)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(bad)?;
                AttrValue::array(&floats)
            }
        }
        _ => return Err(bad()),
    })
}

/// Run `h5sparse edit FILE ACTION`.
pub fn run(file: &str, action: &Action) -> Result<(), UserError> {
    let mut ed = Editor::open(file).map_err(|e| UserError(format!("{file}: {e}")))?;
    let r = match action {
        Action::SetAttr { path, name, value } => ed.set_attr(path, name, attr_value(value)?),
        Action::DelAttr { path, name } => ed.delete_attr(path, name),
        Action::Mkgroup { path } => ed.create_group(path),
        Action::Rm { path } => ed.delete_link(path),
    };
    r.map_err(|e| UserError(format!("{file}: {e}")))
}
