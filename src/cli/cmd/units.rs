//! Sizes, durations and archive limits as the command line writes them (`--max-size 4G`,
//! `--older-than 90d`, `--rate 50M/s`): parsed once here for every verb that takes them.

use std::time::Duration;

use anyhow::{Context, bail};

use qoima::store::Limits;

use super::super::args::LimitArgs;

/// `90d`, `12h`, `45m`, `30s`, `2w`.
pub(super) fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let trimmed = text.trim();
    let (num, unit) = trimmed.split_at(
        trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len()),
    );
    let number: u64 = num
        .parse()
        .with_context(|| format!("{text:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"))?;
    let seconds = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("{text:?} is not a duration: write 90d, 12h, 45m, 30s or 2w"),
    };
    let total = number.checked_mul(seconds).with_context(|| {
        format!(
            "{text:?} is too long a duration: at most {} seconds",
            u64::MAX
        )
    })?;
    Ok(Duration::from_secs(total))
}

/// `500G`, `200MiB`, `1T`, `4096` (bytes; K, M, G, T are powers of 1024).
pub(super) fn parse_size(text: &str) -> anyhow::Result<u64> {
    let trimmed = text.trim();
    let trimmed = trimmed.strip_suffix('B').unwrap_or(trimmed);
    let trimmed = trimmed.strip_suffix('i').unwrap_or(trimmed);
    let (num, unit) = trimmed.split_at(
        trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len()),
    );
    let number: u64 = num.parse().with_context(|| {
        format!("{text:?} is not a size: write 500G, 200MiB or a number of bytes")
    })?;
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => bail!("{text:?} is not a size: write 500G, 200MiB or a number of bytes"),
    };
    number
        .checked_mul(multiplier)
        .with_context(|| format!("{text:?} is too large a size: at most 16 EiB (16777215T)"))
}

/// `--max-ratio` and `--max-size`, parsed.
pub(super) fn limits(args: &LimitArgs) -> anyhow::Result<Limits> {
    let text = args.max_size.trim();
    let (num, mult) = match text.char_indices().last() {
        Some((index, suffix)) if suffix.is_ascii_alphabetic() => {
            let multiplier: u64 = match suffix.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => bail!(
                    "--max-size {text:?}: use a number of bytes, optionally with K, M, G or T"
                ),
            };
            (&text[..index], multiplier)
        }
        _ => (text, 1),
    };
    let number: u64 = num.parse().map_err(|_| {
        anyhow::anyhow!("--max-size {text:?}: use a number of bytes, optionally with K, M, G or T")
    })?;
    if args.max_ratio == 0 {
        bail!("--max-ratio must be at least 1");
    }
    let max_size = number
        .checked_mul(mult)
        .with_context(|| format!("--max-size {text:?} is too large: at most 16 EiB (16777215T)"))?;
    Ok(Limits {
        max_ratio: args.max_ratio,
        max_size,
    })
}
