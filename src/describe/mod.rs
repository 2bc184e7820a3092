//! Descriptive and preservation metadata as XML: the records `metadata` reads, written as
//! Dublin Core (and, as `qoima package` grows, METS, PREMIS and MIX).
//!
//! Every writer here goes through quick-xml's event `Writer`, never string formatting, so
//! escaping is done in one place; and each one is safe on its own — a value that would make
//! the XML ill-formed (a control character) is replaced, not trusted to have been caught by
//! `qoima check`. Output is deterministic: UTF-8, 2-space indentation, LF line endings.

pub mod dc;

pub use dc::{oai_dc, write_dc_elements};
