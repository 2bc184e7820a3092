//! Problem codes: every finding qoima reports about the material has a stable code, a kind
//! (what it does to the verdict), a one-line meaning and a hint that says what to do.
//!
//! A *problem* is data, collected in a report; validation goes on past it. An `Err` is kept
//! for "could not run at all" and lives in each module's own error type.
//!
//! The table below is the single source of the codes; `docs/errors.md` documents each one
//! and a test keeps the two in step.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// What a problem does to the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Worth knowing; the material still passes (fails only under `--strict`).
    Warning,
    /// Something required is absent: the bag is incomplete.
    Incomplete,
    /// Something present is wrong: the bag is invalid.
    Invalid,
    /// qoima could not read something, so it could not judge it.
    Unreadable,
    /// qoima refuses to create from this input.
    Refused,
}

/// Error or warning, as the report prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Does not change the verdict (unless `--strict`).
    Warning,
    /// Changes the verdict.
    Error,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $kind:ident, $hint:literal; )*) => {
        /// A stable problem code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable string, e.g. `BAG-036`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// What the problem does to the verdict.
            pub fn kind(self) -> Kind {
                match self { $( Code::$variant => Kind::$kind, )* }
            }

            /// What to do about it.
            pub fn hint(self) -> &'static str {
                match self { $( Code::$variant => $hint, )* }
            }
        }
    };
}

codes! {
    // ---- bag declaration and layout ----
    /// `bagit.txt` is missing.
    BagitTxtMissing = "BAG-001", Incomplete, "Every bag needs bagit.txt at its root; if this is not a bag, create one with `qoima bag`.";
    /// `bagit.txt` does not have the exact two-line form.
    BagitTxtMalformed = "BAG-002", Invalid, "bagit.txt must be exactly `BagIt-Version: M.N` then `Tag-File-Character-Encoding: ENC`, one space after each colon.";
    /// `bagit.txt` starts with a byte-order mark.
    BagitTxtBom = "BAG-003", Invalid, "Remove the byte-order mark (EF BB BF) from the start of bagit.txt.";
    /// The BagIt version is not one qoima reads.
    UnsupportedVersion = "BAG-004", Invalid, "qoima reads BagIt 0.93 to 1.x; re-bag the content with a current tool.";
    /// The tag file encoding is not one qoima reads.
    UnsupportedEncoding = "BAG-005", Unreadable, "qoima reads tag files in UTF-8, UTF-16, ISO-8859-1 and the other encodings of the WHATWG Encoding Standard, named by their usual labels; check the spelling of Tag-File-Character-Encoding in bagit.txt, or re-encode the tag files as UTF-8 and update bagit.txt.";
    /// The `data/` directory is missing.
    DataDirMissing = "BAG-006", Incomplete, "Every bag needs a data/ directory, even when it is empty.";
    /// No payload manifest.
    NoPayloadManifest = "BAG-007", Incomplete, "A bag needs at least one manifest-<algorithm>.txt; recreate the manifests with `qoima bag`.";
    /// No payload manifest uses an algorithm qoima can compute.
    NoCheckableManifest = "BAG-008", Invalid, "Add a manifest with sha256 or sha512 (or md5/sha1/sha224/sha384/blake3) so the payload can be verified.";
    /// The path given is not a bag directory or archive.
    NotABag = "BAG-009", Unreadable, "Give the path of a bag directory (the folder holding bagit.txt).";

    // ---- reading tag files ----
    /// A tag file is not valid in its declared encoding.
    BadEncoding = "BAG-010", Invalid, "The named line is not valid UTF-8; re-save the tag file as UTF-8.";
    /// A tag-file line is longer than qoima accepts.
    LineTooLong = "BAG-011", Invalid, "A tag-file line is longer than 64 KiB; no legitimate manifest or bag-info line is that long. Inspect the file: it may be corrupt or hostile.";
    /// A tag file could not be read.
    TagFileUnreadable = "BAG-012", Unreadable, "Check the file's permissions and the storage, then validate again.";
    /// A tag file's bytes cannot be decoded in the encoding bagit.txt declares.
    TagFileUndecodable = "BAG-130", Unreadable, "The file is not text in the encoding bagit.txt declares (the message gives the offset), so what it lists could not be checked. Find out which encoding the bag's maker used (a UTF-16 file starts with FE FF or FF FE), correct Tag-File-Character-Encoding, or re-encode the tag files as UTF-8.";

    // ---- bag-info.txt ----
    /// A bag-info line is not `Label: value` or a continuation.
    BagInfoMalformed = "BAG-020", Invalid, "Each bag-info.txt line must be `Label: value` (label without leading/trailing spaces) or a continuation line starting with a space or tab.";
    /// `Payload-Oxum` is not `OctetCount.StreamCount`.
    OxumMalformed = "BAG-021", Invalid, "Payload-Oxum must be two decimal numbers joined by a dot: total payload bytes, then number of payload files.";
    /// `Payload-Oxum` appears more than once.
    OxumRepeated = "BAG-022", Invalid, "Keep a single Payload-Oxum line.";
    /// The payload does not add up to `Payload-Oxum`.
    OxumMismatch = "BAG-023", Incomplete, "Payload files were added, removed or changed size since bagging; compare with the manifests (full validation names the files).";
    /// Payload-Oxum is absent, so `--fast` cannot judge the bag.
    NoOxum = "BAG-024", Unreadable, "bag-info.txt has no Payload-Oxum; only full (or --completeness-only) validation can judge this bag.";

    // ---- manifests ----
    /// A manifest line is not `checksum whitespace path`.
    ManifestLineMalformed = "BAG-030", Invalid, "Each manifest line must be a hexadecimal checksum of the algorithm's length, one or more spaces or tabs, then the path.";
    /// A path in a manifest or fetch.txt leaves the bag or is otherwise unsafe.
    UnsafePath = "BAG-031", Invalid, "Paths must be relative, use `/`, and stay inside the bag: no `..`, no leading `/` or `~`, no drive letters, no NUL. Do not process this bag further without inspecting it.";
    /// The same path is listed twice with different checksums.
    DuplicateEntryConflict = "BAG-032", Invalid, "Keep one line per file; the two checksums disagree, so at most one can be right.";
    /// The same path is listed twice with the same checksum (BagIt 1.0).
    DuplicateEntry = "BAG-033", Invalid, "Remove the repeated line; BagIt 1.0 lists each file once per manifest.";
    /// A file listed in a manifest is absent.
    FileMissing = "BAG-034", Incomplete, "Restore the file from a copy, or re-bag if its removal was intended.";
    /// A payload file is not listed in a payload manifest.
    FileNotInManifest = "BAG-035", Incomplete, "Remove the stray file, or re-bag so that every manifest lists it.";
    /// A checksum does not match the file.
    ChecksumMismatch = "BAG-036", Invalid, "The file's content changed since bagging; restore it from a good copy. Do not update the manifest unless the change is known to be legitimate.";
    /// A manifest lists a directory.
    ManifestListsDirectory = "BAG-037", Invalid, "Manifests list files only; remove the directory's line.";
    /// A payload manifest lists a path outside `data/`.
    PayloadOutsideData = "BAG-038", Invalid, "Payload manifests list files under data/ only.";
    /// A percent sign in a 1.0 manifest path is not a valid `%25`, `%0A` or `%0D` escape.
    BadPercentEncoding = "BAG-039", Invalid, "In BagIt 1.0 a `%` in a file name is written `%25`; re-bag with a conforming tool.";

    // ---- tag manifests ----
    /// A tag manifest does not list a payload manifest.
    TagManifestMissesManifest = "BAG-040", Invalid, "Every tag manifest must list every payload manifest; regenerate the tag manifests.";
    /// A tag manifest lists a payload file.
    TagManifestListsPayload = "BAG-041", Invalid, "Tag manifests must not list files under data/; regenerate the tag manifests.";
    /// A tag manifest lists a tag manifest.
    TagManifestListsTagManifest = "BAG-042", Invalid, "Tag manifests must not list tag manifests; regenerate the tag manifests.";

    // ---- fetch.txt ----
    /// A fetch.txt line is not `url length path`.
    FetchLineMalformed = "BAG-050", Invalid, "Each fetch.txt line must be an absolute URL, a length (digits or `-`) and a data/ path, separated by whitespace.";
    /// A file listed in fetch.txt has not been fetched yet.
    FetchPending = "BAG-051", Incomplete, "Fetch the listed files into the bag (the URLs are in fetch.txt), then validate again.";
    /// A fetch.txt entry is not in every payload manifest.
    FetchNotInManifest = "BAG-052", Invalid, "Every file in fetch.txt must be listed in every payload manifest.";
    /// A fetch.txt entry points outside `data/`.
    FetchOutsideData = "BAG-053", Invalid, "fetch.txt may only list payload files (under data/).";

    // ---- qoima fetch ----
    /// A fetch.txt URL of a scheme qoima does not fetch.
    FetchUnsupportedUrl = "BAG-120", Unreadable, "qoima fetches http:, https: and file: URLs; get the file another way, put it at its path in the bag, and validate.";
    /// A download failed (network, HTTP status, truncated) after every retry.
    FetchFailed = "BAG-121", Unreadable, "Check the URL and the network, then run `qoima fetch` again: a partial download is kept and resumed where the server allows it.";
    /// The downloaded bytes do not match the manifests or the declared length.
    FetchWrongBytes = "BAG-122", Invalid, "The server sent other bytes than the bag's manifests describe; nothing was put in the bag. Ask the bag's maker whether the URL still serves the original file.";
    /// The server sent more bytes than declared, or than --max-bytes.
    FetchTooLarge = "BAG-123", Invalid, "The transfer was cut off at the declared length (or --max-bytes) and nothing was put in the bag; check the URL, or raise --max-bytes if the file is genuinely that large.";
    /// A redirect to another host, or from https to http, was not followed.
    FetchRedirectRefused = "BAG-124", Invalid, "The server redirected to another host (or from https to http); qoima follows such redirects only with --allow-redirects. Check where it leads before allowing it.";
    /// The path a file would be written to is unsafe: a link or a non-folder on the way, or a non-file at the end.
    FetchTargetUnsafe = "BAG-125", Invalid, "qoima writes fetched files only to plain paths under data/; remove the link or the entry in the way (after checking why it is there) and fetch again.";
    /// A file already at a fetch.txt path does not match the manifests; it was left untouched.
    FetchPresentDiffers = "BAG-126", Invalid, "The file already in the bag is not the one the manifests describe; qoima never overwrites it. Move it aside (after checking it) and fetch again.";
    /// A fetch.txt entry no manifest lets qoima verify.
    FetchUnverifiable = "BAG-127", Invalid, "A fetched file must be checked before it enters the bag: list it in a payload manifest of an algorithm qoima computes (sha256, sha512, …).";

    // ---- the filesystem ----
    /// A symbolic link inside the bag points outside it (or is broken).
    SymlinkEscapes = "BAG-060", Invalid, "qoima never follows links out of a bag; replace the link with the file itself.";
    /// A FIFO, socket or device sits in the bag.
    SpecialFile = "BAG-061", Invalid, "Bags hold regular files only; remove the special file.";
    /// A file could not be read.
    FileUnreadable = "BAG-062", Unreadable, "Check the file's permissions and the storage, then validate again.";
    /// A file changed size while qoima read it.
    FileChanged = "BAG-063", Unreadable, "Something is writing to the bag; wait until it is done and validate again.";
    /// A file name is not valid UTF-8 and cannot be listed in a manifest.
    NonUtf8Name = "BAG-064", Invalid, "Rename the file to a UTF-8 name; BagIt manifests are text.";

    // ---- creation ----
    /// Two names differ only by Unicode normalization, and the destination merges them.
    NormalizationCollision = "BAG-070", Refused, "The destination's filesystem treats two source names that differ only in Unicode form (NFC/NFD) as one, so one file would be lost; rename one of them in the source, or write the bag to a filesystem that keeps both.";
    /// Two names differ only by case, and the destination merges them.
    CaseCollision = "BAG-071", Refused, "The destination's filesystem is case-insensitive and two source names differ only by letter case, so one file would be lost; rename one of them in the source, or write the bag to a case-sensitive filesystem.";
    /// The source holds a symbolic link and `--follow-links` was not given.
    SymlinkInSource = "BAG-072", Refused, "Replace the link with the file, or pass --follow-links to bag the content it points to.";
    /// An in-place run was interrupted and its journal is present.
    InterruptedInPlace = "BAG-073", Incomplete, "Rerun `qoima bag --in-place` on the same folder to finish, or `--rollback` to undo.";
    /// A top-level name that bagging in place reserves for itself is the user's.
    InPlaceReservedName = "BAG-090", Refused, "qoima reserves this name at the top of a folder bagged in place (its journal, its staging folder, their temporaries): rename your entry, or bag into a new place with -o. Nothing was moved.";
    /// A top-level entry cannot be moved by rename(2) (read-only folder, immutable file).
    InPlaceUnmovable = "BAG-091", Refused, "Make the entry movable (`chmod u+w` on a read-only folder, `chattr -i -a` on an immutable one) and run again; or bag into a new place with -o. If a run already moved some entries, `qoima bag --rollback` undoes it.";

    // ---- updating a bag (`qoima bag --update`) ----
    /// The folder cannot be updated as a bag: no bagit.txt, no data/, a manifest of an algorithm qoima cannot compute, or a link or special file among the tag files.
    UpdateNotUpdatable = "BAG-140", Refused, "qoima updates BagIt 0.97 and 1.x bags in UTF-8 whose tag files are plain files; make the bag valid first (or bag the content again), and remove a manifest of an algorithm qoima does not compute by hand.";
    /// `.qoima-update.json` is not the journal of an interrupted update.
    UpdateJournal = "BAG-141", Refused, "The file is not a journal qoima wrote: if it is yours, rename it; if qoima wrote it, it is damaged: inspect the bag by hand. Nothing was changed.";
    /// The bag has a fetch.txt: its payload is not all present.
    UpdateHoley = "BAG-142", Refused, "Complete the bag with `qoima fetch` first: updating it now would drop every file fetch.txt still owes from the manifests.";
    /// The algorithm options would leave the bag without a payload manifest.
    UpdateNoAlgorithm = "BAG-143", Refused, "A bag needs at least one manifest: add the algorithm you want (--add-algorithm) in the same run as you remove the last one.";
    /// A sealed bag (seal/ or custody/) would be changed without --force, or without --sign.
    UpdateSealed = "BAG-144", Refused, "Updating breaks the seal. If the change is deliberate, run again with --force and --sign KEY --agent NAME: the change is recorded, signed, in the custody log, and verify-seal reports it.";
    /// A packaged bag (mets.xml at its root) would be changed without --force, or its payload changed.
    UpdatePackaged = "BAG-145", Refused, "The METS describes every payload file with its checksum and qoima cannot rewrite it without the collection's metadata: package the collection again with `qoima package`. With --force, only changes that keep the METS true (algorithms, tag files) are made.";
    /// verify-seal: the bag was changed after it was sealed.
    ChangedAfterSeal = "BAG-146", Invalid, "The bag is no longer what was sealed: the seal's signatures verify the tag manifests kept in seal/, not the bag's. Read the custody entry that records the change (who, when, which files) and decide whether to accept it; to restore trust, seal the bag again.";
    /// `qoima bag --update --force` broke a seal.
    UpdateSealBroken = "BAG-W080", Warning, "The bag no longer matches its seal; the tag manifests as sealed are kept in seal/ and the change is in the custody log. Seal the bag again if it is to be trusted as it is now.";
    /// An algorithm the bag's profile requires was kept although --remove-algorithm named it.
    UpdateProfileAlgorithmKept = "BAG-W081", Warning, "The bag's BagIt-Profile-Identifier names a profile that requires this manifest; it was kept. Change the profile identifier first if the bag should leave that profile.";
    /// The bag was BagIt 0.97 (or another pre-1.0 version) and is now written as BagIt 1.0.
    UpdateVersionRaised = "BAG-W082", Warning, "qoima writes BagIt 1.0: bagit.txt now says so, and manifest paths use 1.0's percent-encoding. Check that the bag's recipients read BagIt 1.0.";

    // ---- a packaged bag's METS ----
    /// mets.xml cannot be read as XML.
    MetsUnreadable = "BAG-080", Invalid, "mets.xml is damaged; restore it from a copy of the bag, or package the collection again.";
    /// A file the METS lists is not in the bag.
    MetsFileMissing = "BAG-081", Invalid, "The METS and the payload disagree: restore the file, or package the collection again if its removal was intended.";
    /// A METS CHECKSUM differs from the manifest's.
    MetsChecksumMismatch = "BAG-082", Invalid, "The METS and the manifests disagree about a file's content; find which one was edited (the tag manifests tell whether mets.xml changed).";

    // ---- outputs ----
    /// An output would be, contain or lie inside the input it is made from.
    OutputOverlapsInput = "BAG-083", Refused, "Writing there would overwrite or delete the input, or write into it while it is read; choose an output outside the input that does not contain it.";
    /// A file's bytes changed between hashing and archiving: the archive would not match its manifests.
    ArchiveSourceChanged = "BAG-084", Refused, "Something wrote to the source while it was bagged; nothing was kept. Wait until nothing writes to it and run again.";

    // ---- photos ----
    /// A photo file of zero bytes.
    PhotoEmpty = "PHOTO-001", Invalid, "The file is empty; restore it from a copy or from where it was downloaded.";
    /// A "photo" that is text (an HTML error page, XML, plain text).
    PhotoNotImage = "PHOTO-002", Invalid, "The file holds text, not a picture (often the error page of a failed download); fetch or copy the image again.";
    /// An image extension, but content that is no image format qoima knows.
    PhotoUnrecognised = "PHOTO-003", Invalid, "The start of the file is damaged or it is another kind of file; compare it with a copy, and identify it with a tool such as `file` or siegfried.";
    /// A JPEG without its end-of-image marker.
    JpegTruncated = "PHOTO-010", Invalid, "The JPEG is cut short (an interrupted download or copy); restore it from a complete copy. The visible part may be salvageable, but the file is not whole.";
    /// A JPEG marker segment with an impossible length, or garbage where a marker is due.
    JpegBadSegment = "PHOTO-011", Invalid, "The JPEG's segment structure is damaged; restore it from a copy. Do not re-save it from an editor, which would hide the damage.";
    /// A JPEG without a frame header (SOF).
    JpegNoFrame = "PHOTO-012", Invalid, "The JPEG declares no image; restore it from a copy.";
    /// A JPEG without a scan (SOS).
    JpegNoScan = "PHOTO-013", Invalid, "The JPEG has a header but no image data; restore it from a copy.";
    /// A damaged PNG signature.
    PngBadSignature = "PHOTO-020", Invalid, "The first 8 bytes are wrong, typically after a text-mode (ASCII) transfer; copy the file again in binary mode.";
    /// A PNG chunk whose CRC does not match.
    PngBadCrc = "PHOTO-021", Invalid, "The named chunk is damaged; restore the file from a copy.";
    /// IHDR missing, not first, or invalid.
    PngBadIhdr = "PHOTO-022", Invalid, "The image header is missing, misplaced or impossible; the file was written by a faulty tool or damaged. Restore it from a copy.";
    /// A PNG without IEND: truncated.
    PngNoIend = "PHOTO-023", Invalid, "The PNG is cut short; restore it from a complete copy.";
    /// A PNG without IDAT: no image data.
    PngNoIdat = "PHOTO-024", Invalid, "The PNG holds no image data; restore it from a copy.";
    /// A PNG chunk with an impossible length or type, or out of order.
    PngBadChunk = "PHOTO-025", Invalid, "The PNG's chunk structure is damaged; restore it from a copy.";
    /// A TIFF header that points nowhere.
    TiffBadHeader = "PHOTO-030", Invalid, "The TIFF header is damaged; restore the file from a copy.";
    /// A TIFF directory (IFD), or a value it points to, beyond the end of the file.
    TiffOutOfBounds = "PHOTO-031", Invalid, "The TIFF points past its own end: it is truncated or its directory is damaged. Restore it from a complete copy.";
    /// A chain of TIFF directories that loops.
    TiffIfdLoop = "PHOTO-032", Invalid, "The TIFF's directories point back at each other, which can hang readers; restore it from a copy.";
    /// TIFF strips or tiles (pixel data) beyond the end of the file.
    TiffDataBeyondEof = "PHOTO-033", Invalid, "The TIFF's pixel data lies past the end of the file: it is truncated. Restore it from a complete copy.";
    /// A TIFF directory that lacks required tags or is inconsistent.
    TiffBadIfd = "PHOTO-034", Invalid, "The TIFF directory is incomplete or inconsistent; the file was written by a faulty tool or damaged. Restore it from a copy.";
    /// A GIF, WebP, JPEG 2000 or HEIF file whose container structure is damaged.
    PhotoDamaged = "PHOTO-040", Invalid, "The file's structure is damaged or cut short; restore it from a complete copy.";
    /// The image data does not decode (with `--decode`).
    PhotoDecodeFailed = "PHOTO-050", Invalid, "The container is whole but the compressed image data is corrupt; restore the file from a copy.";
    /// A JPEG scan runs out of entropy-coded data before its last block.
    JpegScanTruncated = "PHOTO-051", Invalid, "A scan of the JPEG ends before its last block: the image data was cut short or overwritten (often with zeros), and decoders fill the rest with grey. Restore the file from a complete copy.";
    /// The extension names another format than the content.
    PhotoExtensionMismatch = "PHOTO-W001", Warning, "Rename the file to the extension of its real format; some software trusts the name and will refuse it.";
    /// The content is no format qoima knows, and neither is the extension.
    PhotoUnidentified = "PHOTO-W002", Warning, "The file was not checked; identify it with a tool such as `file` or siegfried, and keep it only if it belongs in the collection.";
    /// Bytes after the image's end marker.
    PhotoTrailingData = "PHOTO-W003", Warning, "Readers ignore the extra bytes; they may be left by a tool or hide other data. Inspect them if the file's provenance matters.";
    /// Exif metadata that cannot be parsed.
    ExifUnreadable = "PHOTO-W004", Warning, "The image may be fine but its Exif block is damaged; dates and camera details cannot be taken from it. Check it with ExifTool.";
    /// `--decode`: the image would need more memory than the decoding budget; not decoded.
    PhotoOverDecodeBudget = "PHOTO-W005", Warning, "The image was not decoded because its header asks for more memory than --decode-memory allows (1G by default); if the dimensions are genuine, check it again with a larger --decode-memory, else the header is damaged or hostile.";
    /// Part of an Exif block (a directory, or some entries) that cannot be read; the rest is kept.
    ExifPartlyUnreadable = "PHOTO-W009", Warning, "The tags in the named Exif directory are lost to every reader; the others were read. If the lost part held the date, camera or position, record them in the metadata by hand (ExifTool -v3 shows the damage).";
    /// A GPS coordinate that is present but cannot be read, or was read with an assumption.
    GpsUnreadable = "PHOTO-W010", Warning, "The photo's position is missing or uncertain for the reason given; check it with ExifTool (`exiftool -n -gps:all FILE`) and put the place in `coverage` or `spatial` by hand.";
    /// `--decode`: no decoder for the format or this variant of it; only the structure was checked.
    PhotoNotDecoded = "PHOTO-W020", Warning, "The structure was checked but the image data was not decoded, because qoima has no decoder for this format or variant (the message says which). This is not damage; to prove the pixels, open the file in a program that reads it (e.g. ImageMagick, libheif, OpenJPEG).";

    // ---- serialized bags (zip, tar, tar.gz) ----
    /// The archive cannot be read as zip or tar.
    ArchiveUnreadable = "ARC-001", Unreadable, "The file is not a zip, tar or tar.gz, or it is truncated or damaged; transfer it again and compare its sha256 with the sender's.";
    /// An entry's name leaves the bag (zip-slip).
    ArchiveUnsafeName = "ARC-002", Invalid, "An entry is named with `..`, an absolute path or a drive letter, which could write outside the folder it is unpacked into; the archive is hostile or damaged — do not unpack it with other tools.";
    /// A symbolic or hard link entry.
    ArchiveLinkEntry = "ARC-003", Invalid, "A bag holds files, not links; serialize the bag again from a folder whose links are resolved.";
    /// The same name twice.
    ArchiveDuplicateEntry = "ARC-004", Invalid, "Two entries share a name, so which one is the bag's file depends on the tool; serialize the bag again.";
    /// Entries beside the bag's single top-level folder.
    ArchiveSeveralTops = "ARC-005", Invalid, "A serialized bag holds exactly one folder (RFC 8493 §4.4); serialize one bag per archive.";
    /// A device, FIFO or sparse entry.
    ArchiveSpecialEntry = "ARC-006", Invalid, "Only files and folders belong in a serialized bag; serialize the bag again from a plain folder.";
    /// An encrypted entry.
    ArchiveEncryptedEntry = "ARC-007", Invalid, "qoima cannot check encrypted entries; decrypt the archive with the tool that made it, or serialize the bag again without a password (use a sealed evidence bundle for confidentiality).";
    /// An entry compressed with a method qoima does not read.
    ArchiveUnsupportedMethod = "ARC-008", Unreadable, "Repack the archive with stored or deflated entries (`qoima serialize` writes those).";
    /// A likely decompression bomb.
    ArchiveBomb = "ARC-009", Invalid, "The archive would expand far beyond its size; if it is genuine, raise the limit with --max-ratio or --max-size.";
    /// An entry whose data disagrees with its header.
    ArchiveEntryDamaged = "ARC-010", Invalid, "The entry's data does not match its declared size or CRC, or does not decompress; transfer the archive again from a good copy.";
    /// A sparse tar entry (GNU `S` type, or `GNU.sparse.*` PAX keys).
    ArchiveSparseEntry = "ARC-019", Unreadable, "qoima does not expand sparse tar entries, whose stored bytes are a map of the file rather than the file; serialize the bag again without --sparse (`qoima serialize` never writes sparse entries), or unpack it with GNU tar and validate the folder.";
    /// The bag's tag files lie at the archive's root instead of inside one folder.
    ArchiveBagAtRoot = "ARC-023", Invalid, "The serialization breaks RFC 8493 §4.4 (Archivematica writes zip bags this way); the content was still judged, and `content_verdict` in --json gives that answer on its own. To make the archive conform, unpack it into a folder named like the archive and run `qoima serialize` on that folder.";
    /// The top-level folder is not named after the archive.
    ArchiveNameMismatch = "ARC-W001", Warning, "RFC 8493 §4.4 asks that the folder inside be named like the archive; rename the archive, or serialize the bag again.";

    // ---- BagIt Profiles ----
    /// The bag does not name a profile in `BagIt-Profile-Identifier`.
    ProfileIdMissing = "PROF-001", Invalid, "A bag conforming to a BagIt profile names it in bag-info.txt as `BagIt-Profile-Identifier: URI`; add the line (and update the tag manifests), or re-bag with --profile.";
    /// The bag names other profiles than the one it is checked against.
    ProfileIdMismatch = "PROF-002", Invalid, "The bag was made for another profile; check it against the profile it names, or re-bag it for this one.";
    /// A tag the profile requires is absent.
    ProfileTagMissing = "PROF-003", Invalid, "Add the tag to the named tag file (re-bag with --info LABEL=VALUE), with one of the allowed values if the profile lists them.";
    /// A tag the profile requires is present but empty.
    ProfileTagEmpty = "PROF-004", Invalid, "Give the tag a value; the profile requires one.";
    /// A tag holds a value the profile does not allow.
    ProfileTagValue = "PROF-005", Invalid, "Use one of the values the profile allows (the message lists them); values are compared exactly, letter case included.";
    /// A tag the profile says is not repeatable appears more than once.
    ProfileTagRepeated = "PROF-006", Invalid, "Keep one line for the tag; the profile does not allow it to be repeated.";
    /// A payload manifest the profile requires is absent.
    ProfileManifestMissing = "PROF-010", Invalid, "Re-bag with the algorithm the profile requires (e.g. --md5), or with --profile, which adds it.";
    /// A payload manifest uses an algorithm the profile does not allow.
    ProfileManifestNotAllowed = "PROF-011", Invalid, "Re-bag with only the algorithms the profile allows (the message lists them).";
    /// A tag manifest the profile requires is absent.
    ProfileTagManifestMissing = "PROF-012", Invalid, "Re-bag with the algorithm the profile requires; qoima writes a tag manifest for each manifest algorithm.";
    /// A tag manifest uses an algorithm the profile does not allow.
    ProfileTagManifestNotAllowed = "PROF-013", Invalid, "Re-bag with only the algorithms the profile allows for tag manifests.";
    /// `fetch.txt` is present but the profile does not allow it.
    ProfileFetchNotAllowed = "PROF-020", Invalid, "Fetch the listed files into the bag, then remove fetch.txt and update the tag manifests (or re-bag the complete content).";
    /// The profile requires `fetch.txt` and the bag has none.
    ProfileFetchRequired = "PROF-021", Invalid, "The profile is for holey bags: list the payload to fetch in fetch.txt, as the profile's owner describes.";
    /// `Data-Empty` is set but `data/` holds files.
    ProfileDataNotEmpty = "PROF-022", Invalid, "The profile is for bags without payload: data/ may be empty or hold a single zero-byte file.";
    /// The profile requires a serialized bag and this one is a folder.
    ProfileSerializationRequired = "PROF-030", Invalid, "Serialize the bag into one of the archive types the profile accepts (e.g. a tar file) before delivering it.";
    /// The profile forbids serialization and this bag is an archive.
    ProfileSerializationForbidden = "PROF-031", Invalid, "Extract the archive and deliver the bag as a folder.";
    /// The bag is serialized in a type the profile does not accept.
    ProfileSerializationNotAccepted = "PROF-032", Invalid, "Serialize the bag again in one of the archive types the profile accepts (the message lists them).";
    /// The bag's BagIt version is not one the profile accepts.
    ProfileBagItVersion = "PROF-033", Invalid, "Re-bag the content with a tool that writes a BagIt version the profile accepts (qoima writes 1.0).";
    /// A serialized bag's folder is not named like the archive, as the profile requires.
    ProfileFolderName = "PROF-034", Invalid, "Rename the archive to the folder's name (plus its extension), or serialize the bag again under the name the profile expects.";
    /// A tag file the profile requires is absent.
    ProfileTagFileMissing = "PROF-040", Invalid, "Add the tag file the profile requires (and list it in the tag manifests); the message says what it must hold.";
    /// A tag file the profile does not allow.
    ProfileTagFileNotAllowed = "PROF-041", Invalid, "Remove the tag file (and its tag-manifest lines), or check the bag against a profile that allows it.";
    /// A payload file or folder the profile requires is absent.
    ProfilePayloadFileMissing = "PROF-042", Invalid, "Add the payload file (or a file in the folder) the profile requires and re-bag.";
    /// A payload file the profile does not allow.
    ProfilePayloadFileNotAllowed = "PROF-043", Invalid, "Move the file out of the payload, or re-bag with only the files the profile allows.";

    // ---- sealed bags ----
    /// The bag failed validation, so it was not sealed.
    SealBagInvalid = "SEAL-001", Refused, "Only a valid bag can be sealed: fix the problems listed (or re-bag the material), then seal again.";
    /// A sealed bag (or one to be sealed) has a fetch.txt.
    SealFetch = "SEAL-002", Invalid, "A sealed bag must hold its whole payload: fetch the files, remove fetch.txt, re-validate, then seal.";
    /// A file name in a sealed bag needs BagIt percent-encoding (`%`, CR or LF).
    SealEncodedName = "SEAL-003", Invalid, "Names holding `%`, CR or LF are written percent-encoded in manifests, which `sha256sum -c` cannot read; rename the file and re-bag before sealing.";
    /// A symbolic link inside a sealed bag.
    SealSymlink = "SEAL-004", Invalid, "A sealed bag holds plain files only; replace the link with the file it points to, re-bag, and seal again.";
    /// The bag's tag files are not UTF-8, or a tag manifest uses no algorithm qoima computes.
    SealUnsupportedBag = "SEAL-005", Invalid, "qoima seals bags whose tag files are UTF-8 and whose manifests use sha256 or sha512; re-bag with `qoima bag`.";
    /// The bag to seal already has a custody log.
    SealHasCustody = "SEAL-006", Refused, "The bag's custody log chains to its signed tag manifests, which sealing again would rewrite: the log would no longer verify. To encrypt it as it is sealed, run `qoima seal BAG --sign KEY --to RECIPIENT -o DIR` with the key that sealed it.";
    /// The bag to seal is already time-stamped.
    SealHasTimestamps = "SEAL-007", Refused, "seal/ holds time-stamps over the current seal, which sealing again would replace: they would prove nothing any more. Keep the bag as it is; or, if it must be sealed again, move the .tsr files out of seal/ (keep them: they prove when the old seal existed), seal, and time-stamp again.";
    /// bag-info.txt lacks the seal fields, or they are malformed.
    SealInfoMissing = "SEAL-010", Invalid, "The bag is not sealed (no valid Seal-Version and Seal-Signer-Key in bag-info.txt); seal it with `qoima seal`, or ask the sender for the sealed bag.";
    /// A tag manifest has no signature, or no sha256/sha512 tag manifest is signed.
    SealSignatureMissing = "SEAL-011", Invalid, "Every tag manifest needs its signature in seal/ (seal/tagmanifest-<alg>.txt.minisig), and a sha256 or sha512 one must be signed; ask the sender to seal the bag again.";
    /// A signature does not verify against its tag manifest.
    SealSignatureInvalid = "SEAL-012", Invalid, "The tag manifest is not the one the signer signed: the bag (or the signature) was altered or swapped. Do not rely on this bag; get a good copy from the sender.";
    /// A signature was made by another key than Seal-Signer-Key.
    SealSignatureWrongKey = "SEAL-013", Invalid, "The signature was made by a key other than the one bag-info.txt names; someone re-signed or swapped it. Do not rely on this bag.";
    /// Seal-Signer-Key is not in the trusted-keys list.
    SealUntrustedKey = "SEAL-014", Invalid, "The signature may be sound, but the key is not one you trust: check the key with its owner through another channel (key id, printed card) before adding it to --trusted-keys.";
    /// The signed trusted comment does not match this tag manifest or this bag.
    SealCommentMismatch = "SEAL-015", Invalid, "The signed statement names another tag manifest digest or another bag; the signature was moved from another bag. Do not rely on this bag.";
    /// metadata/keys/sealer.minisign.pub is missing or differs from Seal-Signer-Key.
    SealKeyFileMismatch = "SEAL-016", Invalid, "The key file in metadata/keys/ must hold the key that bag-info.txt names; the bag was altered after sealing.";
    /// A signature file cannot be read or parsed.
    SealSignatureUnreadable = "SEAL-017", Invalid, "The .minisig file is damaged or not a minisign signature; get a good copy from the sender.";
    /// A signed tag manifest does not cover bag-info.txt or the sealer's key file.
    SealNotCovered = "SEAL-018", Invalid, "A qoima seal lists bag-info.txt and metadata/keys/sealer.minisign.pub in every tag manifest; this one does not, so it is not a complete seal.";
    /// A file outside data/, seal/ and custody/ that the signed tag manifests do not list.
    SealUnsealedFile = "SEAL-020", Invalid, "Everything outside data/, seal/ and custody/ is listed in the signed tag manifests when qoima seals a bag; this file is not, so it was added after sealing (a planted manifest, a note). Do not rely on it; remove it, or get a good copy from the sender.";
    /// A file in seal/ that is neither a tag manifest's signature nor a time-stamp.
    SealStrayFile = "SEAL-019", Invalid, "seal/ holds only the tag manifests' signatures (tagmanifest-ALG.txt.minisig) and time-stamps over them (*.tsr); anything else was put there after sealing. Remove it, or get a good copy from the sender.";
    // ---- custody log of sealed bags (src/seal/custody/) ----
    /// `qoima custody append` refused: the bag is not sealed, or its log does not verify.
    CustodyRefused = "SEAL-030", Refused, "Only a sealed bag whose custody log verifies takes a new entry: seal the bag (qoima seal), fix the problems listed (qoima custody verify), or, when a signer's key is not trusted, check it with its holder before adding it to --trusted-keys.";
    /// A custody entry is not a canonical qoima entry.
    CustodyEntryMalformed = "SEAL-031", Invalid, "Custody entries are written by qoima as one canonical JSON line; this one was edited or damaged. Do not rely on the log from this entry on; get a good copy from the previous custodian.";
    /// An entry's prev is not the digest of the entry before it (or of the signed tag manifest).
    CustodyChainBroken = "SEAL-032", Invalid, "The hash chain is broken: an entry was changed, removed, reordered, or taken from another bag's log. Do not rely on the log; get a good copy from the previous custodian.";
    /// A custody entry has no signature.
    CustodySignatureMissing = "SEAL-033", Invalid, "Every custody entry is signed by the custodian who wrote it (custody/NNNNNN.json.minisig); ask that custodian for the signature, or for a good copy of the log.";
    /// A custody entry's signature does not verify, or its statement does not match.
    CustodySignatureInvalid = "SEAL-034", Invalid, "The entry is not what its signer signed (or the signature belongs to another entry or bag). Do not rely on the log from this entry on.";
    /// A custody entry is signed by a key not in the trusted-keys list.
    CustodyUntrustedKey = "SEAL-035", Invalid, "The entry's signature may be sound, but its key is not one you trust: check the custodian's key through another channel before adding it to --trusted-keys.";
    /// Entry numbers are not contiguous from 1, or an entry holds another number.
    CustodySequenceGap = "SEAL-036", Invalid, "Entries are numbered 1, 2, 3… without a gap and each file holds its own number; entries were removed from the middle or reordered.";
    /// A file in custody/ that is neither an entry nor an entry's signature.
    CustodyStrayFile = "SEAL-037", Invalid, "custody/ holds only NNNNNN.json entries and their .minisig signatures; remove the stray file (a signature without its entry is left by an interrupted append and can be deleted).";
    /// The head the verifier expected is not in the log.
    CustodyHeadMissing = "SEAL-038", Invalid, "The log no longer holds the entry whose digest you kept (from a receipt): entries were removed from its end, or the log was replaced. Get the full log from the custodian who holds it.";
    /// The last entries are anchored by nothing outside the bag.
    CustodyUnanchored = "SEAL-W030", Warning, "Entries after the last anchor (a receipt or a trusted time-stamp) could be removed without detection; keep the head digest outside the bag (the receiver's signed receipt records it) and pass it to --expect-head.";
    // ---- encrypted bundles of sealed bags (src/seal/bundle/) ----
    /// The outer signature of an encrypted bundle is missing or does not verify.
    SealBundleSignature = "SEAL-050", Invalid, "The ciphertext is not the one the sealer signed (or its signed NAME.tar.age.sha256, or that file's .minisig, is missing or altered): it was altered, truncated or swapped. Do not decrypt and rely on it; get a good copy from the sender.";
    /// The envelope of an encrypted bundle is missing or disagrees with the ciphertext.
    SealBundleEnvelope = "SEAL-051", Invalid, "The envelope's digests do not match the ciphertext or its signed statement: the envelope (or the ciphertext) was altered or mixed up with another bundle's; the signature is what counts, but get a good copy.";
    /// None of the identities given can decrypt the bundle.
    SealBundleNoIdentity = "SEAL-052", Unreadable, "Give the age identity file (-i) of one of the bundle's recipients; the bundle is not encrypted to the keys given, so the bag inside could not be checked.";
    /// The ciphertext fails age's authentication.
    SealBundleDamaged = "SEAL-053", Invalid, "age's authentication failed: the ciphertext is damaged or was altered after encryption. Do not rely on anything decrypted from it; get a good copy from the sender.";
    /// The decrypted tar, or the bag in it, is not what the outer signature names.
    SealBundlePlaintext = "SEAL-054", Invalid, "The bag inside is not the one the outer signature names (its tag manifest differs), or the decrypted tar cannot be unpacked: do not rely on it; ask the sender.";
    /// The verify.sh beside an encrypted bundle is not the script its signed statement names.
    SealBundleScript = "SEAL-055", Invalid, "The verify.sh beside the bundle is not the script the sealer signed (its sha256 is not verify-sh-sha256 in the bundle's signed statement): do not run it. Use the verify.sh of a bag you already verified, or qoima verify-seal.";
    /// The private temporary folder a bundle is decrypted into could not be written.
    SealBundleScratch = "SEAL-057", Unreadable, "qoima could not write the decrypted bag to its private temporary folder: check the free space and permissions of $TMPDIR (or point TMPDIR at a larger disk), then verify again.";
    /// A bundle in a format this version does not read (the first, `qoima-bundle/1`).
    SealBundleFormat = "SEAL-056", Unreadable, "The bundle is in an earlier format (qoima-bundle/1) that this qoima does not check from the outside. The bag inside is sealed on its own: decrypt it (age -d -i IDENTITY -o b.tar NAME.tar.age), unpack it (tar -xf b.tar) and run qoima verify-seal on the bag folder.";
    /// A sealed bag that travels unencrypted names people or places in bag-info.txt.
    SealSensitiveUnencrypted = "SEAL-W050", Warning, "Whoever holds the bag reads bag-info.txt: seal with --to RECIPIENT -o DIR to encrypt it, or remove the field before sealing (the seal covers bag-info.txt, so it cannot be removed afterwards).";
    /// An encrypted bundle has an SSH recipient, whose stanza reveals a tag of the key.
    SealSshRecipient = "SEAL-W051", Warning, "An SSH recipient's stanza in the age header carries a 4-byte tag of the key: anyone holding the bundle can test whether it is for a key they know (a published SSH key, say). Prefer age X25519 recipients (age-keygen) when who receives the bundle must stay private.";
    // ---- RFC 3161 time-stamps (src/seal/tsp/, src/seal/timestamp.rs) ----
    /// A token file is not a granted RFC 3161 time-stamp reply.
    TimestampUnreadable = "SEAL-060", Invalid, "The .tsr file is not a granted RFC 3161 reply (damaged, truncated, or a refusal): it proves no time. Remove it, and time-stamp again with `qoima timestamp`.";
    /// A token time-stamps other data than the file it is named after.
    TimestampOtherData = "SEAL-061", Invalid, "The token was made for other data (its message imprint is not the file's digest): it was moved from another file or bag, or the file changed after it was stamped. It proves nothing about this file.";
    /// A token's signature does not verify with a time-stamping certificate chained to the trusted TSA roots.
    TimestampUntrusted = "SEAL-062", Invalid, "The token is not signed by a time-stamp authority you trust: check that --tsa-roots holds the TSA's root (and intermediate) certificates, obtained from the TSA itself; otherwise the token was forged or altered.";
    /// A token file whose data file is missing, or a .tsr file not named FILE.TSA.tsr.
    TimestampOrphan = "SEAL-063", Invalid, "A token is named after the file it time-stamps (FILE.TSA.tsr); that file is not there, so the bag was altered or the token was copied from elsewhere.";
    /// Tokens are present but were not checked.
    TimestampUnchecked = "SEAL-W060", Warning, "Give --tsa-roots FILE (the PEM certificates of the time-stamp authorities you trust, obtained from them) to check the time-stamps; until then they prove no time.";
    /// The time-stamp authority could not be reached, or answered with an HTTP error.
    TsaUnreachable = "SEAL-064", Unreadable, "Check the --tsa URL and the network (a proxy, a firewall), or time-stamp on another machine: send a request made with `openssl ts -query` and import the reply with `qoima timestamp --reply`.";
    /// A local file could not be read or written while time-stamping.
    TimestampIo = "SEAL-066", Unreadable, "Check the bag's permissions and free space, then run `qoima timestamp` again (tokens already written are kept).";
    /// The TSA's reply was refused: not granted, or not over the request.
    TsaRefused = "SEAL-065", Invalid, "The authority's reply is not a token over this file (refused, damaged, or for other data); nothing was added. Try again later or use another time-stamp authority.";
    /// The bag holds a temporary file left by an interrupted qoima run, which a seal would sign.
    SealLeftoverTemporary = "SEAL-067", Refused, "An interrupted qoima run left this temporary file: check it is not yours, delete it, validate the bag, then seal again.";
    /// `.qoima-seal.json` is not a journal qoima can finish.
    SealJournal = "SEAL-068", Refused, "qoima reserves `.qoima-seal.json` at the top of a bag for the journal of an interrupted seal. If the file is yours, rename it; if qoima wrote it, it is damaged: restore the bag from a copy, or remove the file and the `.NAME.qoima-seal-PID` files it names, validate, and seal again.";

    // ---- metadata (qoima check) ----
    /// The collection has no metadata sidecar.
    SidecarMissing = "META-001", Invalid, "Put a metadata.csv (or metadata.json) beside the photos, or name it with --metadata; docs/metadata.md shows the format.";
    /// The sidecar could not be read.
    SidecarUnreadable = "META-002", Unreadable, "Check the file's permissions and the storage, then check again.";
    /// The sidecar is not valid CSV or JSON.
    SidecarMalformed = "META-003", Invalid, "Fix the syntax at the line named (an unclosed quote is the usual cause in CSV); docs/metadata.md shows the format.";
    /// The sidecar is not UTF-8.
    SidecarEncoding = "META-004", Invalid, "Save the sidecar as UTF-8 (in a spreadsheet: \"CSV UTF-8\").";
    /// A CSV row has a different number of fields than the header.
    FieldCount = "META-005", Invalid, "A row has more or fewer cells than the header; look for an unquoted separator or a missing quote on that line.";
    /// A required element is missing or empty.
    RequiredMissing = "META-006", Invalid, "Fill in the named element on that line (the required elements are set with --require or a rules file).";
    /// An identifier is used twice.
    DuplicateIdentifier = "META-007", Invalid, "Give each item its own identifier.";
    /// A record's `file` is not a safe relative path.
    UnsafeFilePath = "META-008", Invalid, "Write `file` relative to the collection folder with `/`, without `..`, a leading `/` or a drive letter.";
    /// A record's `file` does not exist in the collection.
    DescribedFileMissing = "META-009", Invalid, "Correct the path (letter case matters), or add the missing photo to the collection.";
    /// A photo no record describes.
    Undescribed = "META-010", Invalid, "Add a row for the photo, remove it from the collection, or pass --allow-undescribed to accept it with a warning.";
    /// A file described by more than one record, or a record naming several files.
    DescribedTwice = "META-011", Invalid, "Each photo has exactly one record and each record one file; merge or correct the rows.";
    /// A date that is not ISO 8601 / EDTF level 0–1.
    BadDate = "META-012", Invalid, "Write dates as 2022-01-04, 2022-01, 2022-01-04T19:30+06:00, 2022-01-04/2022-01-05, 2022-01? (uncertain) or 2022-01~ (approximate).";
    /// A language that is not a BCP 47 tag.
    BadLanguage = "META-013", Invalid, "Use a BCP 47 language tag: ru, kk, en, ru-KZ, kk-Cyrl-KZ.";
    /// A type that is not a DCMI Type term.
    BadType = "META-014", Invalid, "Use a DCMI Type term: StillImage for photographs (also Image, Text, MovingImage, Sound, Dataset, Collection…).";
    /// A value holds a control character.
    ControlCharacter = "META-015", Invalid, "Remove the invisible control character from the value (tabs and line breaks are allowed).";
    /// The header names a column twice.
    DuplicateColumn = "META-016", Invalid, "Keep one column per element; put repeated values in one cell separated by `|`.";
    /// The sidecar or the collection description is a link leading outside the collection.
    LinkOutsideCollection = "META-020", Refused, "qoima reads a collection's own files only: replace the link with the file itself (a link to a file inside the collection is followed).";
    /// collection.toml or collection.json cannot be parsed.
    CollectionMalformed = "META-021", Invalid, "Fix the syntax at the line named (in TOML, text needs quotes: title = \"…\"); docs/metadata.md shows the format.";
    /// A Dublin Core key of the collection description holds a value that is not text.
    CollectionValueType = "META-022", Invalid, "Write the value as text in quotes (rights = \"CC0 1.0\"), as a TOML date (date = 2022-01-04), or as an array of those.";

    // ---- warnings ----
    /// md5sum-style `*path` in a manifest.
    Md5sumStyle = "BAG-W001", Warning, "Binary-mode `*` markers are not BagIt; rewrite the manifest (re-bag) to pass strict validation.";
    /// A manifest path starts with `./`.
    LeadingDotSlash = "BAG-W002", Warning, "Write paths without a leading `./`.";
    /// Only MD5 or SHA-1 manifests.
    WeakAlgorithmOnly = "BAG-W003", Warning, "MD5 and SHA-1 do not resist forgery; add a sha256 or sha512 manifest.";
    /// No tag manifest.
    NoTagManifest = "BAG-W004", Warning, "Without a tag manifest, edits to bag-info.txt and the manifests go unnoticed; add one (re-bag, or `qoima bag` writes them by default).";
    /// Operating-system junk files in the payload.
    OsJunkFile = "BAG-W005", Warning, "Files like .DS_Store, Thumbs.db, desktop.ini and AppleDouble ._ files are made by file browsers, not by the creator; consider removing them, or bag with `--exclude-junk`, which leaves them out.";
    /// A bag inside the payload.
    BagInBag = "BAG-W006", Warning, "The payload holds another bag; validate it separately if it matters.";
    /// A BagIt version older than 1.0.
    OldVersion = "BAG-W007", Warning, "Consider re-bagging as BagIt 1.0.";
    /// Names differ only by case.
    CaseOnlyDifference = "BAG-W008", Warning, "These names collide on case-insensitive filesystems (Windows, macOS); rename one before moving the bag there.";
    /// Manifests list different file sets (before 1.0, where this is allowed).
    ManifestSetsDiffer = "BAG-W009", Warning, "List every file in every manifest.";
    /// A name Windows cannot store.
    WindowsUnsafeName = "BAG-W010", Warning, "The name uses a character (< > : \" | ? * \\ or a control character) or a reserved name (CON, NUL, COM1…) that Windows refuses; rename it if the bag may travel there.";
    /// A manifest uses an algorithm qoima cannot compute.
    UnknownAlgorithm = "BAG-W011", Warning, "This manifest was not checked; the bag was judged by the manifests qoima can compute.";
    /// A UTF-8 tag file starts with a byte-order mark.
    TagFileBom = "BAG-W012", Warning, "Remove the byte-order mark; UTF-8 tag files must not start with one.";
    /// A name was found on disk in another Unicode normalization form.
    NormalizationMismatch = "BAG-W013", Warning, "The manifest and the filesystem spell the name in different Unicode forms (NFC/NFD); the file was checked under its on-disk name.";
    /// A manifest path was matched literally, not percent-decoded (bagit-python deviation).
    PercentLiteralFallback = "BAG-W014", Warning, "The manifest lists a name with an unencoded `%` (as bagit-python writes); the literal name was used. Re-bag with qoima for a strictly conforming bag.";
    /// A blank or comment line in a manifest.
    BlankManifestLine = "BAG-W015", Warning, "Blank and `#` lines are not part of the manifest grammar; they were skipped.";
    /// A tag file is not listed in any tag manifest.
    TagFileNotInTagManifest = "BAG-W016", Warning, "Tag manifests should list every tag file so that changes to it are detected.";
    /// Tag manifests and payload manifests use different algorithms.
    TagManifestAlgorithmsDiffer = "BAG-W017", Warning, "Use the same algorithms for tag and payload manifests.";
    /// A manifest path uses `\` as a separator.
    Backslash = "BAG-W018", Warning, "BagIt paths use `/`; a `\\` is read as part of the name, which is likely not what the bag's maker meant.";
    /// A bag-info element that should appear once is repeated.
    BagInfoRepeated = "BAG-W019", Warning, "Bag-Size, Bagging-Date, Bag-Group-Identifier and Bag-Count should appear once.";
    /// A reserved bag-info value has the wrong form.
    BagInfoValue = "BAG-W020", Warning, "Bagging-Date is YYYY-MM-DD; Bag-Count is `N of T` (T may be `?`).";
    /// A symbolic link inside the bag that stays inside it.
    SymlinkInBag = "BAG-W021", Warning, "A link to a file inside the bag is read through its target; a link to a folder inside the bag is not descended (its files count where they really are). Other tools may treat links differently: replace the link with the file.";
    /// The manifest spells one name in two Unicode forms.
    NormalizationDuplicate = "BAG-W022", Warning, "The manifest lists the same name in two Unicode forms; keep one.";
    /// The same path is listed twice with the same checksum (before 1.0, where it is tolerated).
    DuplicateEntryOld = "BAG-W024", Warning, "Remove the repeated line.";
    /// A blank line in bag-info.txt (Archivematica writes one).
    BagInfoBlankLine = "BAG-W070", Warning, "Blank lines are not part of the bag-info.txt grammar; the line was skipped, as bagit-python skips it. Remove it (and update the tag manifests) for a strictly conforming bag.";
    /// Two source names differ only by Unicode normalization; both are bagged.
    NormalizationOnlyDifference = "BAG-W071", Warning, "Both files are in the bag, but macOS (and some sync tools) treat the two names as one, so a copy there keeps only one: rename one of them (e.g. with a suffix) before the bag travels.";
    /// A payload name holds `%`, which bagit-python 1.9 and earlier misread.
    PercentInName = "BAG-W072", Warning, "The bag is correct and qoima reads it, but bagit-python 1.9 and earlier look for the literal `%25` name and report the file missing. If the bag will be checked with those versions, rename the file without `%` (e.g. `50pct`) and bag again.";
    /// An empty directory in the source cannot be represented in a bag.
    EmptyDirectory = "BAG-W025", Warning, "BagIt records files, not folders; put a placeholder file (e.g. `.keep`) in the folder if its existence matters.";
    /// The bag names another profile identifier than the one the user chose to check it against.
    ProfileIdOther = "BAG-W060", Warning, "The bag was checked against the profile you named, but its BagIt-Profile-Identifier names another; if the bag is meant for this profile, write the profile's identifier in bag-info.txt (and update the tag manifests).";
    /// Problems left out of the report: more than `--max-problems` of one code in one file.
    ProblemsOmitted = "BAG-W050", Warning, "Only the first problems of each code in each file are listed (100 unless --max-problems says otherwise); the count of the rest is exact and they weigh on the verdict as if listed. Fix the ones listed and validate again, or pass --max-problems 0 to list every one.";
    /// A column or key qoima does not know.
    UnknownColumn = "META-W001", Warning, "The column was ignored; rename it to a Dublin Core element if it should be kept (docs/metadata.md lists them).";
    /// A value that was not in Unicode NFC.
    NotNfc = "META-W002", Warning, "The value was normalised to NFC; save the sidecar in NFC to silence this.";
    /// The photo's EXIF date is more than a day away from the record's date.
    ExifDateDisagrees = "META-W003", Warning, "Check the record's date and the camera's clock; one of them is likely wrong.";
    /// The photo has a GPS position but the record has no coverage.
    GpsWithoutCoverage = "META-W004", Warning, "Add the place to `coverage` (the EXIF position can go in `spatial`).";
    /// A file that is neither a photo nor described.
    NotAPhoto = "META-W005", Warning, "The file is not an image and no record describes it; describe it or move it out of the collection.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The error of parsing a code.
#[derive(Debug, thiserror::Error)]
#[error("unknown problem code {0:?}; see docs/errors.md")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == up)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

/// Where a problem is: a file (bag-relative), a line in it, a field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, relative to the bag or collection root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// A field, column or label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// What a summary problem (`BAG-W050`) stands for: problems of one code in one file that
/// were counted but not listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Omitted {
    /// The code of the problems left out.
    pub code: Code,
    /// How many were left out.
    pub count: u64,
}

/// One finding about the material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The stable code.
    pub code: Code,
    /// Error or warning (a warning may be raised to an error by `--strict`).
    pub severity: Severity,
    /// What it does to the verdict.
    pub kind: Kind,
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What is wrong, naming the file.
    pub message: String,
    /// What to do.
    pub hint: &'static str,
    /// Set on a summary problem only: the problems of its group that were not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted: Option<Box<Omitted>>,
}

impl Problem {
    /// A problem with the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Problem {
        let kind = code.kind();
        Problem {
            code,
            severity: if kind == Kind::Warning {
                Severity::Warning
            } else {
                Severity::Error
            },
            kind,
            location: Location::default(),
            message: message.into(),
            hint: code.hint(),
            omitted: None,
        }
    }

    /// Names the file.
    pub fn file(mut self, file: impl Into<String>) -> Problem {
        self.location.file = Some(file.into());
        self
    }

    /// Names the line.
    pub fn line(mut self, line: u64) -> Problem {
        self.location.line = Some(line);
        self
    }

    /// Names the field.
    pub fn field(mut self, field: impl Into<String>) -> Problem {
        self.location.field = Some(field.into());
        self
    }

    /// Whether this problem counts against the material.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The code this problem counts as: its own, or for a summary the code of the problems
    /// it stands for (what `--allow` and the counts go by).
    pub fn counted_code(&self) -> Code {
        self.omitted.as_ref().map_or(self.code, |o| o.code)
    }

    /// How many problems this one counts for: 1, or for a summary the number it stands for.
    pub fn weight(&self) -> u64 {
        self.omitted.as_ref().map_or(1, |o| o.count)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]", self.code)?;
        // The message names the file already when it is the subject; the location adds the line.
        if let Some(file) = &self.location.file
            && (self.location.line.is_some() || !self.message.contains(file.as_str()))
        {
            write!(f, " {}", crate::paths::printable(file))?;
            if let Some(line) = self.location.line {
                write!(f, ":{line}")?;
            }
        }
        // Messages quote user content through `paths::excerpt`; escaping here too means no
        // message, whatever built it, can move the cursor or reverse the text of a terminal.
        if let Some(field) = &self.location.field {
            write!(f, " ({})", crate::paths::printable(field))?;
        }
        write!(f, ": {}", crate::paths::printable(&self.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert_eq!(c.as_str().parse::<Code>().unwrap(), *c);
            assert_eq!(c.as_str().contains("-W"), c.kind() == Kind::Warning, "{c}");
        }
        assert!("bag-036".parse::<Code>().is_ok());
        assert!("BAG-999".parse::<Code>().is_err());
    }

    /// docs/errors.md is written by hand; this keeps its sections and the table in step: one
    /// `### `CODE`` section per code, and no section for a code the table does not have.
    #[test]
    fn every_code_is_documented_once_and_no_other() {
        let doc = include_str!("../docs/errors.md");
        let headings: Vec<&str> = doc
            .lines()
            .filter_map(|line| line.strip_prefix("### `"))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        for code in Code::ALL {
            let sections = headings.iter().filter(|h| **h == code.as_str()).count();
            assert_eq!(sections, 1, "{code}: {sections} sections in docs/errors.md");
        }
        for heading in &headings {
            assert!(
                heading.parse::<Code>().is_ok(),
                "docs/errors.md has a section for {heading}, which src/error.rs does not define"
            );
        }
    }
}
