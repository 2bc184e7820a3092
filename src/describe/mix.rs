//! NISO MIX 2.0 technical metadata for a still image: compression, size, colour space,
//! capture date and camera, bit depth, written as `mix:mix`, the root a METS
//! `techMD/mdWrap MDTYPE="NISOIMG"` holds.
//!
//! MIX's sequences are strict, so elements are written in `mix20.xsd` order:
//! `BasicDigitalObjectInformation` (`Compression`), `BasicImageInformation`
//! (`BasicImageCharacteristics`: width, height, `PhotometricInterpretation`),
//! `ImageCaptureMetadata` (`GeneralCaptureInformation`, `DigitalCameraCapture`) and
//! `ImageAssessmentMetadata` (`ImageColorEncoding`: `BitsPerSample`, `samplesPerPixel`).
//! Only what is known is written, and a container with nothing known is left out; a zero
//! width, height, bit depth or sample count is left out too (MIX types them as positive
//! integers).
//! Text is written as given, except characters XML 1.0 cannot carry, which become U+FFFD.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::BytesStart;

use super::xml::{XSI_NS, close, document, open, open_tag, start, text};
use crate::photo::{Exif, Technical};

/// The NISO MIX 2.0 namespace.
pub const MIX_NS: &str = "http://www.loc.gov/mix/v20";
/// The `xsi:schemaLocation` of a standalone MIX document (mapped by `schemas/catalog.xml`
/// to the vendored `mix20.xsd`).
pub const MIX_SCHEMA_LOCATION: &str =
    "http://www.loc.gov/mix/v20 http://www.loc.gov/standards/mix/mix20/mix20.xsd";

/// What MIX records about one image, as far as its header and Exif were read: the header's
/// technical values as [`photo::examine`](crate::photo::examine) found them, and the capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// Width, height, bits and samples, colour space and compression, from the header.
    pub technical: Technical,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Capture time as MIX's `dateTimeCreated` accepts it (`xs:dateTime`, `xs:date`,
    /// `xs:gYear` or `xs:gYearMonth`), e.g. `2022-01-04T19:30:00` or with its offset
    /// `2022-01-04T19:30:00+06:00`. Written as given: [`ImageFacts::from_photo`] only sets
    /// a valid one.
    pub date_time_created: Option<String>,
}

impl ImageFacts {
    /// The facts `qoima::photo::examine` found: the header's technical values and, from
    /// Exif, make, model and the capture time (`DateTimeOriginal`, with
    /// `OffsetTimeOriginal` when recorded; left out unless it is a well-formed date).
    pub fn from_photo(technical: &Technical, exif: Option<&Exif>) -> Self {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        ImageFacts {
            technical: technical.clone(),
            make: exif.and_then(|e| nonempty(&e.make)),
            model: exif.and_then(|e| nonempty(&e.model)),
            date_time_created: exif.and_then(|e| {
                exif_date_time(
                    e.date_time_original.as_deref()?,
                    e.offset_time_original.as_deref(),
                )
            }),
        }
    }

    fn has_capture(&self) -> bool {
        self.date_time_created.is_some() || self.make.is_some() || self.model.is_some()
    }
}

/// An Exif date and time (`2022:01:04 19:30:00`, optionally with an offset `+06:00`) as an
/// `xs:dateTime` (`2022-01-04T19:30:00+06:00`); `None` unless both are well formed and in
/// range (a blank `0000:00:00 00:00:00` included). A malformed offset is dropped, keeping the
/// local time.
pub fn exif_date_time(date_time: &str, offset: Option<&str>) -> Option<String> {
    let text = date_time.trim().trim_end_matches('\0');
    let bytes = text.as_bytes();
    if bytes.len() != 19 {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let separators = [(4, b':'), (7, b':'), (10, b' '), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|&(at, separator)| bytes[at] != separator)
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut out = format!(
        "{}-{}-{}T{}",
        &text[0..4],
        &text[5..7],
        &text[8..10],
        &text[11..19]
    );
    if let Some(offset) = offset.map(str::trim) {
        let offset_bytes = offset.as_bytes();
        let well_formed = offset_bytes.len() == 6
            && matches!(offset_bytes[0], b'+' | b'-')
            && offset_bytes[3] == b':'
            && [1, 2, 4, 5]
                .iter()
                .all(|&at| offset_bytes[at].is_ascii_digit());
        if well_formed {
            let hours: u32 = offset[1..3].parse().ok()?;
            let minutes: u32 = offset[4..6].parse().ok()?;
            if minutes <= 59 && (hours < 14 || (hours == 14 && minutes == 0)) {
                out.push_str(offset);
            }
        }
    }
    Some(out)
}

/// A MIX positive integer, or `None` for zero.
fn positive(n: Option<impl Into<u64>>) -> Option<u64> {
    n.map(Into::into).filter(|&n| n > 0)
}

/// Writes one `mix:mix` with its own `xmlns:mix`, as a METS `mdWrap MDTYPE="NISOIMG"`
/// holds it.
pub fn write_mix<W: Write>(writer: &mut Writer<W>, image: &ImageFacts) -> io::Result<()> {
    write_mix_element(writer, start("mix:mix", &[("xmlns:mix", MIX_NS)]), image)
}

fn write_mix_element<W: Write>(
    writer: &mut Writer<W>,
    root: BytesStart,
    image: &ImageFacts,
) -> io::Result<()> {
    open_tag(writer, root)?;

    if let Some(compression) = &image.technical.compression {
        open(writer, "mix:BasicDigitalObjectInformation")?;
        open(writer, "mix:Compression")?;
        text(writer, "mix:compressionScheme", compression)?;
        close(writer, "mix:Compression")?;
        close(writer, "mix:BasicDigitalObjectInformation")?;
    }

    let width = positive(image.technical.width);
    let height = positive(image.technical.height);
    if width.is_some() || height.is_some() || image.technical.colour_space.is_some() {
        open(writer, "mix:BasicImageInformation")?;
        open(writer, "mix:BasicImageCharacteristics")?;
        if let Some(width) = width {
            text(writer, "mix:imageWidth", &width.to_string())?;
        }
        if let Some(height) = height {
            text(writer, "mix:imageHeight", &height.to_string())?;
        }
        if let Some(colour_space) = &image.technical.colour_space {
            open(writer, "mix:PhotometricInterpretation")?;
            text(writer, "mix:colorSpace", colour_space)?;
            close(writer, "mix:PhotometricInterpretation")?;
        }
        close(writer, "mix:BasicImageCharacteristics")?;
        close(writer, "mix:BasicImageInformation")?;
    }

    if image.has_capture() {
        open(writer, "mix:ImageCaptureMetadata")?;
        if let Some(created) = &image.date_time_created {
            open(writer, "mix:GeneralCaptureInformation")?;
            text(writer, "mix:dateTimeCreated", created)?;
            close(writer, "mix:GeneralCaptureInformation")?;
        }
        if image.make.is_some() || image.model.is_some() {
            open(writer, "mix:DigitalCameraCapture")?;
            if let Some(make) = &image.make {
                text(writer, "mix:digitalCameraManufacturer", make)?;
            }
            if let Some(model) = &image.model {
                open(writer, "mix:DigitalCameraModel")?;
                text(writer, "mix:digitalCameraModelName", model)?;
                close(writer, "mix:DigitalCameraModel")?;
            }
            close(writer, "mix:DigitalCameraCapture")?;
        }
        close(writer, "mix:ImageCaptureMetadata")?;
    }

    let bits = positive(image.technical.bits_per_sample);
    let samples = positive(image.technical.samples_per_pixel);
    if bits.is_some() || samples.is_some() {
        open(writer, "mix:ImageAssessmentMetadata")?;
        open(writer, "mix:ImageColorEncoding")?;
        if let Some(bits) = bits {
            // One value per sample (8, 8, 8 for RGB); once when the count is unknown.
            open(writer, "mix:BitsPerSample")?;
            let value = bits.to_string();
            for _ in 0..samples.unwrap_or(1) {
                text(writer, "mix:bitsPerSampleValue", &value)?;
            }
            text(writer, "mix:bitsPerSampleUnit", "integer")?;
            close(writer, "mix:BitsPerSample")?;
        }
        if let Some(samples) = samples {
            text(writer, "mix:samplesPerPixel", &samples.to_string())?;
        }
        close(writer, "mix:ImageColorEncoding")?;
        close(writer, "mix:ImageAssessmentMetadata")?;
    }

    close(writer, "mix:mix")
}

/// One image's facts as a standalone `mix:mix` document: XML declaration, UTF-8, 2-space
/// indentation, LF line endings and a final newline; the same facts always give the same
/// bytes.
pub fn mix_document(image: &ImageFacts) -> String {
    document(|writer| {
        let root = start(
            "mix:mix",
            &[
                ("xmlns:mix", MIX_NS),
                ("xmlns:xsi", XSI_NS),
                ("xsi:schemaLocation", MIX_SCHEMA_LOCATION),
            ],
        );
        write_mix_element(writer, root, image)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::test_support::{assert_valid, fixture_photos, texts_of};

    fn facts(rel: &str, bytes: &[u8]) -> ImageFacts {
        let report = crate::photo::examine(rel, bytes, false);
        ImageFacts::from_photo(&report.technical, report.exif.as_ref())
    }

    /// Every field set, with hostile text in the free ones.
    fn hostile() -> ImageFacts {
        ImageFacts {
            technical: Technical {
                width: Some(4000),
                height: Some(3000),
                bits_per_sample: Some(8),
                samples_per_pixel: Some(3),
                colour_space: Some("YCbCr".into()),
                compression: Some("JPEG <baseline> & \"DCT\"".into()),
            },
            make: Some("Canon\u{7} 'EOS' العربية".into()),
            model: Some("📷 <R5> & עברית\r\n".into()),
            date_time_created: Some("2022-01-04T19:30:00+06:00".into()),
        }
    }

    #[test]
    fn fixture_photos_validate_against_the_official_schema() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut all = Vec::new();
        for (index, (rel, bytes)) in fixture_photos().iter().enumerate() {
            let image = facts(rel, bytes);
            let xml = mix_document(&image);
            assert_eq!(xml, mix_document(&image), "deterministic");
            let path = dir.path().join(format!("mix-{index:03}.xml"));
            std::fs::write(&path, &xml).unwrap();
            files.push(path);
            all.push(image);
        }
        assert!(
            all.iter()
                .all(|f| f.technical.width.is_some() && f.technical.compression.is_some())
        );
        assert!(
            all.iter()
                .any(|f| f.make.is_some() && f.date_time_created.is_some()),
            "some fixture photos have Exif: {all:?}"
        );
        for (index, image) in [hostile(), ImageFacts::default()].iter().enumerate() {
            let path = dir.path().join(format!("mix-extra-{index}.xml"));
            std::fs::write(&path, mix_document(image)).unwrap();
            files.push(path);
        }
        assert_valid("mix20.xsd", &files);
    }

    /// The validation is real: a unit outside MIX's enumeration is rejected.
    #[test]
    #[should_panic(expected = "xmllint rejected")]
    fn an_invalid_record_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mix-bad.xml");
        let xml = mix_document(&hostile()).replace(">integer<", ">bits<");
        std::fs::write(&path, xml).unwrap();
        assert_valid("mix20.xsd", &[path]);
    }

    #[test]
    fn full_document_in_schema_order() {
        let xml = mix_document(&hostile());
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<mix:mix xmlns:mix=\"http://www.loc.gov/mix/v20\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.loc.gov/mix/v20 http://www.loc.gov/standards/mix/mix20/mix20.xsd\">
  <mix:BasicDigitalObjectInformation>
    <mix:Compression>
      <mix:compressionScheme>JPEG &lt;baseline&gt; &amp; &quot;DCT&quot;</mix:compressionScheme>
    </mix:Compression>
  </mix:BasicDigitalObjectInformation>
  <mix:BasicImageInformation>
    <mix:BasicImageCharacteristics>
      <mix:imageWidth>4000</mix:imageWidth>
      <mix:imageHeight>3000</mix:imageHeight>
      <mix:PhotometricInterpretation>
        <mix:colorSpace>YCbCr</mix:colorSpace>
      </mix:PhotometricInterpretation>
    </mix:BasicImageCharacteristics>
  </mix:BasicImageInformation>
  <mix:ImageCaptureMetadata>
    <mix:GeneralCaptureInformation>
      <mix:dateTimeCreated>2022-01-04T19:30:00+06:00</mix:dateTimeCreated>
    </mix:GeneralCaptureInformation>
    <mix:DigitalCameraCapture>
      <mix:digitalCameraManufacturer>Canon\u{fffd} &apos;EOS&apos; العربية</mix:digitalCameraManufacturer>
      <mix:DigitalCameraModel>
        <mix:digitalCameraModelName>📷 &lt;R5&gt; &amp; עברית&#13;
</mix:digitalCameraModelName>
      </mix:DigitalCameraModel>
    </mix:DigitalCameraCapture>
  </mix:ImageCaptureMetadata>
  <mix:ImageAssessmentMetadata>
    <mix:ImageColorEncoding>
      <mix:BitsPerSample>
        <mix:bitsPerSampleValue>8</mix:bitsPerSampleValue>
        <mix:bitsPerSampleValue>8</mix:bitsPerSampleValue>
        <mix:bitsPerSampleValue>8</mix:bitsPerSampleValue>
        <mix:bitsPerSampleUnit>integer</mix:bitsPerSampleUnit>
      </mix:BitsPerSample>
      <mix:samplesPerPixel>3</mix:samplesPerPixel>
    </mix:ImageColorEncoding>
  </mix:ImageAssessmentMetadata>
</mix:mix>
";
        assert_eq!(xml, expected);
    }

    #[test]
    fn hostile_text_round_trips() {
        let image = hostile();
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        write_mix(&mut writer, &image).unwrap();
        let xml = String::from_utf8(writer.into_inner()).unwrap();
        assert!(xml.starts_with("<mix:mix xmlns:mix=\"http://www.loc.gov/mix/v20\">\n"));
        assert!(!xml.contains('\u{7}') && !xml.contains('\r'));
        assert_eq!(
            texts_of(&xml, "mix:compressionScheme"),
            [image.technical.compression.unwrap()]
        );
        assert_eq!(
            texts_of(&xml, "mix:digitalCameraManufacturer"),
            ["Canon\u{fffd} 'EOS' العربية"]
        );
        assert_eq!(
            texts_of(&xml, "mix:digitalCameraModelName"),
            [image.model.unwrap()]
        );
    }

    #[test]
    fn only_what_is_known() {
        let xml = mix_document(&ImageFacts {
            technical: Technical {
                width: Some(0),
                bits_per_sample: Some(16),
                ..Default::default()
            },
            model: Some("X".into()),
            ..Default::default()
        });
        assert!(!xml.contains("BasicImageInformation") && !xml.contains("BasicDigitalObject"));
        assert!(!xml.contains("GeneralCaptureInformation") && !xml.contains("samplesPerPixel"));
        assert_eq!(texts_of(&xml, "mix:bitsPerSampleValue"), ["16"]);
        assert_eq!(texts_of(&xml, "mix:digitalCameraModelName"), ["X"]);
        let empty = mix_document(&ImageFacts::default());
        assert!(empty.ends_with("/mix20.xsd\">\n</mix:mix>\n"), "{empty}");
    }

    #[test]
    fn exif_dates() {
        assert_eq!(
            exif_date_time("2022:01:04 19:30:00", None).as_deref(),
            Some("2022-01-04T19:30:00")
        );
        assert_eq!(
            exif_date_time("2022:01:04 19:30:00", Some("+06:00")).as_deref(),
            Some("2022-01-04T19:30:00+06:00")
        );
        assert_eq!(
            exif_date_time("2022:01:04 19:30:00", Some("   :  ")).as_deref(),
            Some("2022-01-04T19:30:00")
        );
        assert_eq!(
            exif_date_time("2024:02:29 00:00:00\0", Some("-14:00")).as_deref(),
            Some("2024-02-29T00:00:00-14:00")
        );
        for bad in [
            "0000:00:00 00:00:00",
            "    :  :     :  :  ",
            "2023:02:29 10:00:00",
            "2022:13:01 10:00:00",
            "2022:01:04 24:00:00",
            "2022-01-04 19:30:00",
            "2022:01:04",
            "2022:01:04 19:30:0x",
        ] {
            assert_eq!(exif_date_time(bad, None), None, "{bad}");
        }
    }
}
