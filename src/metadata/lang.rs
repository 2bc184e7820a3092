//! Language tags: well-formed BCP 47 (RFC 5646 section 2.1), with the primary subtag an ISO 639
//! code of 2 or 3 letters (two-letter ones checked against ISO 639-1), so that `ru`, `kk`, `ru-KZ`, `kk-Cyrl-KZ` and `en-GB`
//! pass and `russian`, `ru_RU` or `zz` do not.

/// ISO 639-1 codes (the two-letter primary language subtags of the IANA registry).
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik in io is it iu iw ja ji jv jw ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// Why `tag` is not a well-formed BCP 47 language tag, if it is not.
pub fn invalid_reason(tag: &str) -> Option<String> {
    if tag.is_empty() {
        return Some("the language tag is empty".into());
    }
    if tag.contains('_') {
        return Some(format!(
            "{} uses `_`; BCP 47 separates subtags with `-` (e.g. ru-KZ)",
            crate::paths::quoted(tag)
        ));
    }
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags
        .iter()
        .any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Some(format!(
            "{}: subtags are 1 to 8 letters or digits, joined by `-`",
            crate::paths::quoted(tag)
        ));
    }
    let alpha = |s: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
    };
    let lower: Vec<String> = subtags.iter().map(|s| s.to_ascii_lowercase()).collect();
    let mut i = 0;
    if lower[0] == "x" {
        return (subtags.len() < 2).then(|| {
            format!(
                "{}: a private-use tag needs a subtag after x-",
                crate::paths::quoted(tag)
            )
        });
    }
    let lang = &lower[0];
    // 4- and 5-8-letter primary subtags are reserved by RFC 5646 and none is registered.
    if !alpha(lang, 2, 3) {
        return Some(format!(
            "{}: the language subtag {} must be an ISO 639 code of 2 or 3 letters",
            crate::paths::quoted(tag),
            crate::paths::quoted(subtags[0])
        ));
    }
    if lang.len() == 2 && !ISO_639_1.split(' ').any(|c| c == lang) {
        return Some(format!(
            "{}: {} is not an ISO 639-1 language code",
            crate::paths::quoted(tag),
            crate::paths::quoted(subtags[0])
        ));
    }
    i += 1;
    // extlang: up to three 3-letter subtags after a 2-3 letter language.
    let mut ext = 0;
    while i < lower.len() && lang.len() <= 3 && ext < 3 && alpha(&lower[i], 3, 3) {
        i += 1;
        ext += 1;
    }
    if i < lower.len() && alpha(&lower[i], 4, 4) {
        i += 1; // script
    }
    if i < lower.len()
        && (alpha(&lower[i], 2, 2)
            || (lower[i].len() == 3 && lower[i].bytes().all(|b| b.is_ascii_digit())))
    {
        i += 1; // region
    }
    let mut variants = Vec::new();
    while i < lower.len() {
        let s = &lower[i];
        let variant =
            (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
        if !variant {
            break;
        }
        if variants.contains(s) {
            return Some(format!(
                "{}: the variant {} is repeated",
                crate::paths::quoted(tag),
                crate::paths::quoted(s)
            ));
        }
        variants.push(s.clone());
        i += 1;
    }
    let mut singletons = Vec::new();
    while i < lower.len() {
        let s = &lower[i];
        if s.len() != 1 {
            return Some(format!(
                "{}: unexpected subtag {}",
                crate::paths::quoted(tag),
                crate::paths::quoted(subtags[i])
            ));
        }
        if s == "x" {
            return (i + 1 >= lower.len())
                .then(|| format!("{}: x- needs a subtag after it", crate::paths::quoted(tag)));
        }
        if singletons.contains(s) {
            return Some(format!(
                "{}: the extension {} is repeated",
                crate::paths::quoted(tag),
                crate::paths::quoted(s)
            ));
        }
        singletons.push(s.clone());
        i += 1;
        let start = i;
        while i < lower.len() && lower[i].len() >= 2 {
            i += 1;
        }
        if i == start {
            return Some(format!(
                "{}: the extension {} has no subtags",
                crate::paths::quoted(tag),
                crate::paths::quoted(s)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_tags() {
        for ok in [
            "ru",
            "kk",
            "ru-KZ",
            "kk-Cyrl-KZ",
            "en-GB",
            "zh-Hant-TW",
            "sr-Latn-RS",
            "de-CH-1996",
            "en-US-u-ca-gregory",
            "x-private",
            "es-419",
            "zh-yue-HK",
        ] {
            assert_eq!(invalid_reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn malformed_tags() {
        for bad in [
            "",
            "russian",
            "ru_RU",
            "zz",
            "r",
            "ru-",
            "ru--KZ",
            "en-GB-oed-oed-x",
            "de-CH-1996-1996",
            "en-a",
            "toolongsubtag",
            "ru KZ",
        ] {
            assert!(invalid_reason(bad).is_some(), "{bad:?} should be invalid");
        }
    }
}
