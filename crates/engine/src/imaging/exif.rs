//! What the viewer tells of a photo from its EXIF data: when it was taken and with
//! which camera (kamadak-exif reads JPEG, TIFF, HEIF/AVIF, PNG and WebP containers).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use exif::{In, Tag};

/// A photo's EXIF facts, as text for people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoInfo {
    /// When it was taken (`2024-05-01 10:20:30`), from DateTimeOriginal or DateTime.
    pub taken: Option<String>,
    /// The camera: make and model (`Canon PowerShot S40`).
    pub camera: Option<String>,
}

/// The EXIF facts of the image file at `path`; `None` when it has none (or none of
/// these), or cannot be read.
pub fn photo_info(path: &Path) -> Option<PhotoInfo> {
    let file = File::open(path).ok()?;
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .ok()?;
    let text = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .map(|f| f.display_value().to_string())
            .map(|s| {
                s.trim_matches(|c: char| c == '"' || c.is_whitespace())
                    .to_string()
            })
            .filter(|s| !s.is_empty())
    };
    let taken = text(Tag::DateTimeOriginal).or_else(|| text(Tag::DateTime));
    let camera = match (text(Tag::Make), text(Tag::Model)) {
        // Many cameras repeat the make in the model ("Canon" + "Canon EOS 5D").
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model)
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    };
    (taken.is_some() || camera.is_some()).then_some(PhotoInfo { taken, camera })
}

/// The small JPEG a camera embeds in a photo's EXIF data (IFD1), found in `head`, the
/// first bytes of the file; `None` when the photo has none or it lies past `head`.
pub(crate) fn embedded_thumbnail(head: &[u8]) -> Option<Vec<u8>> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(head))
        .ok()?;
    let number = |tag| {
        exif.get_field(tag, In::THUMBNAIL)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|n| usize::try_from(n).ok())
    };
    let offset = number(Tag::JPEGInterchangeFormat)?;
    let length = number(Tag::JPEGInterchangeFormatLength)?;
    let jpeg = exif.buf().get(offset..offset.checked_add(length)?)?;
    jpeg.starts_with(b"\xFF\xD8").then(|| jpeg.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/corpus")
            .join(path)
    }

    #[test]
    fn real_photos_say_when_and_with_what() {
        for (path, taken, camera) in [
            (
                "exif-samples/Canon_40D.jpg",
                Some("2008-05-30 15:56:01"),
                Some("Canon EOS 40D"),
            ),
            (
                "exif-samples/Nikon_D70.jpg",
                Some("2008-03-15 09:52:01"),
                Some("NIKON CORPORATION NIKON D70"),
            ),
            ("image-rs/jpg/cat.jpg", Some("2013-10-09 11:13:48"), None),
        ] {
            let info = photo_info(&corpus(path)).unwrap_or_default();
            assert_eq!(info.taken.as_deref(), taken, "{path}");
            assert_eq!(info.camera.as_deref(), camera, "{path}");
        }
        // No EXIF at all, or not an image.
        assert_eq!(photo_info(&corpus("image-rs/jpg/portrait_2.jpg")), None);
        assert_eq!(photo_info(&corpus("SOURCES.md")), None);
    }
}
