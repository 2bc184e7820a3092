//! RFC 8493 BagIt: the bag model, its tag files, the writer and the validator.
//!
//! qoima reads BagIt 0.93 to 1.x and writes 1.0. Parsers report problems (with codes from
//! [`crate::error`]) and go on; only an unusable source is an `Err`.

pub mod baginfo;
pub mod create;
pub mod declaration;
pub mod fetch;
pub mod inplace;
pub mod manifest;
pub mod movable;
pub mod text;
pub mod transcode;
pub mod update;
pub mod update_journal;
pub mod validate;

pub use baginfo::{BagInfo, Oxum};
pub use create::{BagError, BagOptions, BagSummary, create_bag};
pub use declaration::Version;
pub use inplace::{bag_in_place, rollback};
pub use update::{UpdateOptions, UpdateSummary, update_bag};
pub use validate::{BagReport, Mode, ValidateOptions, validate};
