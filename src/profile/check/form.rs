//! The rules on the bag's form: folder or archive and which archive (`Serialization`,
//! `Accept-Serialization`), the archive's folder name (`x-qoima-Folder-Named-Like-Archive`) and
//! the BagIt version (`Accept-BagIt-Version`).

use super::subject::{Subject, list};
use crate::error::{Code, Problem};
use crate::profile::model::Serialization;

/// `Serialization` and `Accept-Serialization`.
pub(super) fn serialization(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    let Subject {
        profile,
        facts,
        who,
        ..
    } = subject;
    match (&facts.serialization, profile.serialization) {
        (None, Serialization::Required) => out.push(Problem::new(
            Code::ProfileSerializationRequired,
            format!(
                "the bag is a folder; {who} requires it serialized as {}",
                list(&profile.accept_serialization)
            ),
        )),
        (Some(media_type), Serialization::Forbidden) => out.push(Problem::new(
            Code::ProfileSerializationForbidden,
            format!("the bag is an archive ({media_type}); {who} requires a folder"),
        )),
        (Some(media_type), _) if !profile.accept_serialization.is_empty() => {
            let canonical = canonical_media_type(media_type);
            if !profile
                .accept_serialization
                .iter()
                .any(|accepted| canonical_media_type(accepted) == canonical)
            {
                out.push(Problem::new(
                    Code::ProfileSerializationNotAccepted,
                    format!(
                        "the bag is serialized as {media_type}; {who} accepts only {}",
                        list(&profile.accept_serialization)
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// Media types that name the same serialization.
fn canonical_media_type(media_type: &str) -> String {
    let media_type = media_type.trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-tar" => "application/tar".into(),
        "application/x-gzip" | "application/x-gtar" | "application/tar+gzip" => {
            "application/gzip".into()
        }
        "application/x-zip" | "application/x-zip-compressed" => "application/zip".into(),
        _ => media_type,
    }
}

/// `x-qoima-Folder-Named-Like-Archive`.
pub(super) fn folder_named_like_archive(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    if subject.profile.folder_named_like_archive
        && subject.facts.folder_named_like_archive == Some(false)
    {
        out.push(Problem::new(
            Code::ProfileFolderName,
            format!(
                "the folder inside the archive is not named like the archive; {} requires \
                 the archive's name without its extension (see ARC-W001)",
                subject.who
            ),
        ));
    }
}

/// `Accept-BagIt-Version`. An unreadable `bagit.txt` is the validator's finding.
pub(super) fn bagit_version(subject: &Subject<'_>, out: &mut Vec<Problem>) {
    if let (Some(version), Some(accepted)) = (
        &subject.facts.version,
        &subject.profile.accept_bagit_version,
    ) && !accepted
        .iter()
        .any(|candidate| same_version(candidate, version))
    {
        out.push(
            Problem::new(
                Code::ProfileBagItVersion,
                format!(
                    "bagit.txt declares BagIt {version}; {} accepts only {}",
                    subject.who,
                    list(accepted)
                ),
            )
            .file("bagit.txt")
            .field("BagIt-Version"),
        );
    }
}

/// Whether two BagIt versions are the same (`1.0` and `1.00` are; `0.97` and `0.970` too).
fn same_version(first: &str, second: &str) -> bool {
    let parse = |text: &str| -> Option<(u32, u32)> {
        let (major, minor) = text.trim().split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    };
    match (parse(first), parse(second)) {
        (Some(first), Some(second)) => first == second,
        _ => first.trim() == second.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{facts, one, profile};
    use crate::error::Code;
    use crate::profile::{BagFacts, Profile, check};

    #[test]
    fn a_folder_named_unlike_the_archive_breaks_a_profile_that_says_so() {
        let mut spec = Profile::builtin("aptrust").unwrap();
        assert!(spec.folder_named_like_archive);
        let mut bag = BagFacts {
            serialization: Some("application/tar".into()),
            folder_named_like_archive: Some(false),
            ..BagFacts::default()
        };
        let codes = |spec: &Profile, bag: &BagFacts| -> Vec<&'static str> {
            check(spec, bag).iter().map(|x| x.code.as_str()).collect()
        };
        assert!(codes(&spec, &bag).contains(&"PROF-034"));
        bag.folder_named_like_archive = Some(true);
        assert!(!codes(&spec, &bag).contains(&"PROF-034"));
        bag.folder_named_like_archive = Some(false);
        spec.folder_named_like_archive = false;
        assert!(!codes(&spec, &bag).contains(&"PROF-034"));
    }

    #[test]
    fn serialization() {
        let required = profile(
            r#""Serialization": "required", "Accept-Serialization": ["application/zip", "application/tar"]"#,
        );
        let mut bag = facts();
        one(
            check(&required, &bag),
            Code::ProfileSerializationRequired,
            None,
            None,
        );
        bag.serialization = Some("application/x-tar".into());
        assert!(check(&required, &bag).is_empty(), "x-tar is tar");
        bag.serialization = Some("application/gzip".into());
        one(
            check(&required, &bag),
            Code::ProfileSerializationNotAccepted,
            None,
            None,
        );
        let forbidden = profile(r#""Serialization": "forbidden""#);
        one(
            check(&forbidden, &bag),
            Code::ProfileSerializationForbidden,
            None,
            None,
        );
        assert!(check(&forbidden, &facts()).is_empty());
        // Optional with no list: any archive, or a folder.
        assert!(check(&profile(r#""Serialization": "optional""#), &bag).is_empty());
        assert!(check(&profile(""), &facts()).is_empty());
    }

    #[test]
    fn accept_bagit_version() {
        let spec = profile(r#""Accept-BagIt-Version": ["0.97", "1.0"]"#);
        let mut bag = facts();
        assert!(check(&spec, &bag).is_empty());
        bag.version = Some("0.96".into());
        let problem = one(
            check(&spec, &bag),
            Code::ProfileBagItVersion,
            Some("bagit.txt"),
            Some("BagIt-Version"),
        );
        assert!(problem.message.contains("0.97, 1.0"), "{problem}");
        // An unreadable bagit.txt is the validator's finding, not a profile one.
        bag.version = None;
        assert!(check(&spec, &bag).is_empty());
    }
}
