//! What every object has ([`Node`]: file, object header, path, attributes, datatype
//! message), committed datatypes ([`CommittedType`]) and attributes ([`Attribute`]), with
//! shared (committed or heap-stored) messages resolved.

use std::sync::Arc;

use crate::cursor::UNDEF_ADDR;
use crate::error::{Error, Result};
use crate::read::attribute::{AttributeInfo, AttributeMessage};
use crate::read::dataspace::Dataspace;
use crate::read::datatype::Datatype;
use crate::read::object_header::{msg, ObjectHeader};
use crate::read::shared::{SharedRef, SharedResolver, TypeRef};

use super::File;

/// What every object has: its file, header and path.
#[derive(Clone)]
pub struct Node {
    pub(super) file: File,
    pub(super) header: Arc<ObjectHeader>,
    pub(super) path: String,
}

impl Node {
    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }
    /// The object header.
    pub fn header(&self) -> &ObjectHeader {
        &self.header
    }
    /// Object header address (the object's identity in the file).
    pub fn address(&self) -> u64 {
        self.header.address
    }
    /// Path by which the object was opened.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(super) fn datatype_message(&self) -> Result<Datatype> {
        let m = self.header.first(msg::DATATYPE).ok_or_else(|| {
            Error::malformed("object header", self.address(), "no datatype message")
        })?;
        let tref =
            crate::read::shared::parse_type(&m.data, m.offset, m.is_shared(), self.file.sizes())?;
        self.file.resolve_type(tref)
    }

    /// The datatype message body of a dataset or committed datatype, exactly as stored
    /// (trailing padding removed); a shared (committed) type is resolved to the committed
    /// type's own message body.
    pub fn datatype_raw(&self) -> Result<Vec<u8>> {
        let m = self.header.first(msg::DATATYPE).ok_or_else(|| {
            Error::malformed("object header", self.address(), "no datatype message")
        })?;
        let tref =
            crate::read::shared::parse_type(&m.data, m.offset, m.is_shared(), self.file.sizes())?;
        match tref {
            TypeRef::Inline(_) => self.file.datatype_bytes(&m.data, m.offset),
            TypeRef::Shared(r) => self.file.shared_datatype_raw(r),
        }
    }

    /// The attributes of the object, in the order libhdf5 lists them (creation order when
    /// tracked, else name order for dense storage, storage order for compact).
    pub fn attributes(&self) -> Result<Vec<Attribute>> {
        let sizes = self.file.sizes();
        let mut out = Vec::new();
        for m in self.header.all(msg::ATTRIBUTE) {
            let am = AttributeMessage::parse_with(
                &mut m.cursor("attribute message", sizes),
                &self.file,
            )?;
            out.push(self.file.attribute_from(am)?);
        }
        if !self.header.attr_creation_order_tracked {
            // libhdf5 lists compact attributes by name unless creation order is tracked.
            out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        }
        if let Some(m) = self.header.first(msg::ATTRIBUTE_INFO) {
            let info = AttributeInfo::parse(&mut m.cursor("attribute info message", sizes))?;
            if info.heap_address != UNDEF_ADDR {
                for am in crate::read::dense::dense_attributes(
                    self.file.source(),
                    sizes,
                    &info,
                    &self.file,
                )? {
                    out.push(self.file.attribute_from(am)?);
                }
            }
        }
        Ok(out)
    }

    /// One attribute by name.
    pub fn attribute(&self, name: &str) -> Result<Option<Attribute>> {
        Ok(self.attributes()?.into_iter().find(|a| a.name == name))
    }
}

impl File {
    fn resolve_type(&self, tref: TypeRef) -> Result<Datatype> {
        match tref {
            TypeRef::Inline(t) => Ok(t),
            TypeRef::Shared(r) => {
                let (at, body) = self.shared_datatype_body(r)?;
                Datatype::parse(&mut crate::cursor::Cursor::new(
                    &body,
                    at,
                    "datatype message",
                    self.sizes(),
                ))
            }
        }
    }

    /// Where a shared datatype message lives: its file offset and body (committed datatype's
    /// object header, or the shared-message heap).
    fn shared_datatype_body(&self, r: SharedRef) -> Result<(u64, Vec<u8>)> {
        match r {
            SharedRef::ObjectHeader(addr) => {
                let h = self.header(addr)?;
                let m = h.first(msg::DATATYPE).ok_or_else(|| {
                    Error::malformed("committed datatype", addr, "no datatype message")
                })?;
                if m.is_shared() {
                    return Err(Error::malformed(
                        "committed datatype",
                        addr,
                        "datatype message is itself shared",
                    ));
                }
                Ok((m.offset, m.data.clone()))
            }
            SharedRef::Heap(id) => self.heap_message(msg::DATATYPE, &id),
        }
    }

    /// The bytes of the datatype encoded at the start of `data` (trailing padding cut off).
    fn datatype_bytes(&self, data: &[u8], offset: u64) -> Result<Vec<u8>> {
        let mut c = crate::cursor::Cursor::new(data, offset, "datatype message", self.sizes());
        Datatype::parse(&mut c)?;
        let used = c.offset().saturating_sub(offset) as usize;
        Ok(data.get(..used).unwrap_or(data).to_vec())
    }

    /// The datatype message body of the committed datatype a shared message points to.
    fn shared_datatype_raw(&self, r: SharedRef) -> Result<Vec<u8>> {
        let (at, body) = self.shared_datatype_body(r)?;
        self.datatype_bytes(&body, at)
    }

    fn attribute_from(&self, am: AttributeMessage) -> Result<Attribute> {
        let dtype_raw = match &am.dtype {
            TypeRef::Inline(_) => am.dtype_raw.clone(),
            TypeRef::Shared(r) => self.shared_datatype_raw(*r)?,
        };
        let dtype = self.resolve_type(am.dtype)?;
        Ok(Attribute {
            name: am.name,
            dtype,
            dtype_raw,
            space: am.space,
            data: am.data,
            offset: am.offset,
        })
    }
}

impl SharedResolver for File {
    fn heap_message(&self, kind: u16, heap_id: &[u8; 8]) -> Result<(u64, Vec<u8>)> {
        let table = self.shared_message_table()?.ok_or_else(|| {
            Error::malformed(
                "shared message",
                self.inner
                    .superblock
                    .extension_address
                    .unwrap_or(UNDEF_ADDR),
                "message in the shared message heap, but the file has no shared message table",
            )
        })?;
        let index = table.index_for(kind).ok_or_else(|| {
            Error::malformed(
                "shared message table",
                table.address,
                format!("no index holds messages of type {kind:#06x}"),
            )
        })?;
        let heap = self.sohm_heap(index.heap_address)?;
        Ok((index.heap_address, heap.get(&self.inner.source, heap_id)?))
    }
}

/// A committed datatype object.
#[derive(Clone)]
pub struct CommittedType {
    pub(super) node: Node,
    pub(super) dtype: Datatype,
}

impl CommittedType {
    /// The datatype.
    pub fn dtype(&self) -> &Datatype {
        &self.dtype
    }
    /// The common part.
    pub fn node(&self) -> &Node {
        &self.node
    }
}

/// An attribute with its raw value bytes.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name.
    pub name: String,
    /// Datatype (committed types resolved).
    pub dtype: Datatype,
    /// The datatype message body (committed types resolved to their own message body).
    pub dtype_raw: Vec<u8>,
    /// Shape.
    pub space: Dataspace,
    /// Raw value bytes.
    pub data: Vec<u8>,
    /// Offset of the attribute message (for errors).
    pub offset: u64,
}
