//! File-name templates: `{host}/{num:03}-{name}.{ext}` and the like.
//!
//! A template is checked whole before any request ([`NameTemplate::parse`]): an unknown
//! field, a `..` component, an absolute path or an unbalanced brace is refused with the
//! reason. Rendering ([`NameTemplate::render`]) fills the fields, splits at `/` into
//! folders and a file name, and makes every component safe exactly as names are made
//! without a template ([`naming::sanitize_stem`]); a component that comes out empty is
//! dropped. The file always ends with its real extension (`{name}` gives `cat.jpg`,
//! `{name}.exe` gives `cat.exe.jpg`).
//!
//! Invariant: a rendered path is relative, has no `.`/`..` component and every
//! component passes [`naming::is_safe_component`], so it stays inside the output folder.

use std::fmt;

use thiserror::Error;

use super::naming;

/// The fields a template may use, as the user writes them.
pub const FIELDS: &str = "{name} {ext} {host} {num} {num:03} {page} {date} {sha8} {width} {height}";

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// `{something}` that is not a field.
    #[error("unknown field {{{0}}}; the fields are {FIELDS}")]
    UnknownField(String),
    /// A `{` without its `}`.
    #[error("a '{{' without its '}}'")]
    Unclosed,
    /// A `}` without its `{`.
    #[error("a '}}' without its '{{'")]
    StrayClose,
    /// A `..` component.
    #[error("'..' is not allowed: files stay inside the output folder")]
    ParentDir,
    /// A leading `/`, `\` or drive letter.
    #[error("an absolute path is not allowed: names are relative to the output folder")]
    Absolute,
    /// Nothing at all.
    #[error("the template is empty")]
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Ext,
    Host,
    /// Zero-padded to this many digits.
    Num(usize),
    Page,
    Date,
    Sha8,
    Width,
    Height,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    text: String,
    /// The components, split at `/` (or `\`).
    components: Vec<Vec<Piece>>,
}

/// What one file's name is made of.
#[derive(Debug, Clone, Default)]
pub struct NameFields<'a> {
    /// The safe name chosen without a template, without its extension.
    pub name: &'a str,
    /// The extension of the format judged from the bytes (`jpg`).
    pub ext: &'a str,
    /// The URL's host, without port.
    pub host: &'a str,
    /// The item's number (1-based).
    pub num: u64,
    /// The page the image came from (its `<title>` when it was read, else its last path
    /// segment); empty for a plain URL.
    pub page: &'a str,
    /// `YYYY-MM-DD`.
    pub date: &'a str,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: &'a str,
    /// Pixel size, if the header was readable.
    pub width: Option<u32>,
    /// Pixel size, if the header was readable.
    pub height: Option<u32>,
    /// A preview before download: fields known only then (`{sha8}`, `{width}`,
    /// `{height}`) show as written instead of empty.
    pub preview: bool,
}

/// A rendered name: folders under the output folder, then the file's stem and
/// extension (the store adds ` (2)` before the extension on a collision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Folder components, outermost first; each one safe.
    pub dirs: Vec<String>,
    /// The file name without extension; safe.
    pub stem: String,
    /// The extension, as given in the fields.
    pub ext: String,
}

impl Rendered {
    /// The path relative to the output folder, `/`-separated, as a preview shows it.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for dir in &self.dirs {
            out.push_str(dir);
            out.push('/');
        }
        out.push_str(&naming::numbered(&self.stem, 1, &self.ext));
        out
    }
}

impl NameTemplate {
    /// The template that gives today's names.
    pub const DEFAULT: &'static str = "{name}.{ext}";

    /// Checks `text` whole.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(TemplateError::Empty);
        }
        let bytes = trimmed.as_bytes();
        let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
        if trimmed.starts_with(['/', '\\']) || drive {
            return Err(TemplateError::Absolute);
        }
        let components = trimmed
            .split(['/', '\\'])
            .map(|component| {
                if component.trim() == ".." {
                    return Err(TemplateError::ParentDir);
                }
                pieces(component)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            text: trimmed.to_string(),
            components,
        })
    }

    /// Whether this is [`NameTemplate::DEFAULT`] (names as without a template).
    pub fn is_default(&self) -> bool {
        self.text == Self::DEFAULT
    }

    /// The name for one file.
    pub fn render(&self, fields: &NameFields<'_>) -> Rendered {
        let mut rendered: Vec<String> = self
            .components
            .iter()
            .map(|pieces| fill(pieces, fields))
            .collect();
        let file = rendered.pop().unwrap_or_default();
        let dirs = rendered
            .iter()
            .filter(|raw| !empty_when_safe(raw))
            .map(|raw| naming::sanitize_stem(raw))
            .collect();
        let suffix = format!(".{}", fields.ext);
        let raw_stem = file.strip_suffix(&suffix).unwrap_or(&file);
        let stem = if empty_when_safe(raw_stem) {
            naming::sanitize_stem(fields.name)
        } else {
            naming::sanitize_stem(raw_stem)
        };
        Rendered {
            dirs,
            stem,
            ext: fields.ext.to_string(),
        }
    }
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Default for NameTemplate {
    fn default() -> Self {
        Self::parse(Self::DEFAULT).unwrap_or_else(|_| Self {
            text: Self::DEFAULT.to_string(),
            components: vec![vec![
                Piece::Field(Field::Name),
                Piece::Text(".".into()),
                Piece::Field(Field::Ext),
            ]],
        })
    }
}

/// Nothing would be left of `raw` once made safe (so the component is dropped).
fn empty_when_safe(raw: &str) -> bool {
    raw.trim_matches(|c: char| c == '.' || c == '_' || c.is_whitespace())
        .is_empty()
}

fn pieces(component: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => return Err(TemplateError::Unclosed),
                        Some(c) => name.push(c),
                    }
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Field(field(&name)?));
            }
            '}' => return Err(TemplateError::StrayClose),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn field(name: &str) -> Result<Field, TemplateError> {
    let unknown = || TemplateError::UnknownField(name.to_string());
    Ok(match name.trim() {
        "name" => Field::Name,
        "ext" => Field::Ext,
        "host" => Field::Host,
        "num" => Field::Num(0),
        "page" => Field::Page,
        "date" => Field::Date,
        "sha8" => Field::Sha8,
        "width" => Field::Width,
        "height" => Field::Height,
        other => {
            // `{num:03}`: zero-padded to the given width (at most 9 digits).
            let digits = other.strip_prefix("num:").ok_or_else(unknown)?;
            let width: usize = digits
                .strip_prefix('0')
                .unwrap_or(digits)
                .parse()
                .map_err(|_| unknown())?;
            if !(1..=9).contains(&width) {
                return Err(unknown());
            }
            Field::Num(width)
        }
    })
}

fn fill(pieces: &[Piece], fields: &NameFields<'_>) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(field) => match field {
                Field::Name => out.push_str(fields.name),
                Field::Ext => out.push_str(fields.ext),
                Field::Host => out.push_str(fields.host),
                Field::Num(width) => out.push_str(&format!("{:0width$}", fields.num)),
                Field::Page => out.push_str(fields.page),
                Field::Date => out.push_str(fields.date),
                Field::Sha8 if fields.preview => out.push_str("{sha8}"),
                Field::Sha8 => out.push_str(fields.sha256.get(..8).unwrap_or(fields.sha256)),
                Field::Width if fields.preview => out.push_str("{width}"),
                Field::Height if fields.preview => out.push_str("{height}"),
                Field::Width | Field::Height => {
                    let value = if *field == Field::Width {
                        fields.width
                    } else {
                        fields.height
                    };
                    if let Some(v) = value {
                        out.push_str(&v.to_string());
                    }
                }
            },
        }
    }
    out
}

/// What `template` would name the file of `url`, number `num`, found on `page`, before
/// it is downloaded: the extension guessed from the URL (`jpg` when it names none),
/// `{sha8}`, `{width}` and `{height}` left as written.
pub fn preview(
    template: &NameTemplate,
    url: &url::Url,
    num: u64,
    page: Option<&url::Url>,
) -> String {
    let name = naming::stem_from_url(url);
    let ext = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|last| last.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| {
            matches!(
                ext.as_str(),
                "jpg"
                    | "jpeg"
                    | "png"
                    | "gif"
                    | "webp"
                    | "avif"
                    | "heic"
                    | "heif"
                    | "bmp"
                    | "tif"
                    | "tiff"
                    | "ico"
            )
        })
        .map_or("jpg".to_string(), |ext| {
            if ext == "jpeg" { "jpg".into() } else { ext }
        });
    let page = page.map(page_name).unwrap_or_default();
    let date = today();
    template
        .render(&NameFields {
            name: &name,
            ext: &ext,
            host: url.host_str().unwrap_or_default(),
            num,
            page: &page,
            date: &date,
            preview: true,
            ..NameFields::default()
        })
        .display()
}

/// What `{page}` says of a page: its last path segment without extension (`gallery` of
/// `https://example.org/albums/gallery.html`), else its host.
pub(crate) fn page_name(page: &url::Url) -> String {
    let last = page
        .path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))
        .map(|seg| {
            percent_encoding::percent_decode_str(seg)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let stem = last
        .rsplit_once('.')
        .map_or(last.as_str(), |(stem, _)| stem);
    if stem.is_empty() {
        page.host_str().unwrap_or_default().to_string()
    } else {
        stem.to_string()
    }
}

/// `YYYY-MM-DD` (UTC) of a time given as seconds since the Unix epoch.
pub(crate) fn date_of(unix_secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = i64::try_from(unix_secs / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Today's date, `YYYY-MM-DD` (UTC).
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    date_of(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> NameFields<'static> {
        NameFields {
            name: "cat",
            ext: "jpg",
            host: "img.example.org",
            num: 7,
            page: "Holiday 2026",
            date: "2026-11-30",
            sha256: "0123456789abcdef",
            width: Some(640),
            height: Some(480),
            preview: false,
        }
    }

    fn render(template: &str) -> String {
        NameTemplate::parse(template)
            .expect("valid")
            .render(&fields())
            .display()
    }

    #[test]
    fn every_field_renders() {
        assert_eq!(render("{name}.{ext}"), "cat.jpg");
        assert_eq!(
            render("{host}/{num:03}-{name}.{ext}"),
            "img.example.org/007-cat.jpg"
        );
        assert_eq!(
            render("{page}/{date} {sha8} {width}x{height}"),
            "Holiday 2026/2026-11-30 01234567 640x480.jpg"
        );
        assert_eq!(render("{num}"), "7.jpg");
        assert!(
            NameTemplate::parse("{name}.{ext}")
                .expect("ok")
                .is_default()
        );
    }

    #[test]
    fn the_file_keeps_its_real_extension() {
        assert_eq!(render("{name}.exe"), "cat.exe.jpg");
        assert_eq!(render("{name}"), "cat.jpg");
    }

    #[test]
    fn empty_components_are_dropped_and_unsafe_ones_made_safe() {
        let plain = NameFields {
            page: "",
            ..fields()
        };
        let t = NameTemplate::parse("{page}/{name}.{ext}").expect("ok");
        assert_eq!(t.render(&plain).display(), "cat.jpg");
        let hostile = NameFields {
            page: "../../etc",
            name: "a/b:c",
            ..fields()
        };
        let r = t.render(&hostile);
        assert!(r.dirs.iter().all(|d| naming::is_safe_component(d)), "{r:?}");
        assert!(naming::is_safe_component(&naming::numbered(
            &r.stem, 2, &r.ext
        )));
        assert_eq!(r.display(), "etc/a_b_c.jpg");
        // A stem that comes out empty falls back to the name.
        assert_eq!(render("{host}/..{width}").split('/').count(), 2);
        let no_size = NameFields {
            width: None,
            height: None,
            ..fields()
        };
        let t = NameTemplate::parse("{width}.{ext}").expect("ok");
        assert_eq!(t.render(&no_size).display(), "cat.jpg");
    }

    #[test]
    fn refusals_say_why() {
        use TemplateError::*;
        for (text, why) in [
            ("", Empty),
            ("  ", Empty),
            ("/tmp/{name}", Absolute),
            ("\\x\\{name}", Absolute),
            ("C:{name}", Absolute),
            ("{host}/../{name}", ParentDir),
            ("..", ParentDir),
            ("{nme}.{ext}", UnknownField("nme".into())),
            ("{num:x}", UnknownField("num:x".into())),
            ("{num:00}", UnknownField("num:00".into())),
            ("{name", Unclosed),
            ("{na{me}", Unclosed),
            ("name}", StrayClose),
        ] {
            assert_eq!(NameTemplate::parse(text), Err(why), "{text:?}");
        }
        let message = NameTemplate::parse("{nme}")
            .expect_err("refused")
            .to_string();
        assert!(
            message.contains("{nme}") && message.contains("{num:03}"),
            "{message}"
        );
    }

    #[test]
    fn a_preview_names_what_it_can_before_download() {
        let t = NameTemplate::parse("{host}/{page}/{num:02}-{name}-{width}.{ext}").expect("ok");
        let url =
            url::Url::parse("https://img.example.org:8443/a/Cat%20One.JPEG?x=1").expect("url");
        let page = url::Url::parse("https://example.org/albums/holiday.html").expect("url");
        assert_eq!(
            preview(&t, &url, 3, Some(&page)),
            "img.example.org/holiday/03-Cat One-{width}.jpg"
        );
        let bare = url::Url::parse("https://example.org/").expect("url");
        assert_eq!(page_name(&bare), "example.org");
        let no_ext = url::Url::parse("https://example.org/image?id=4").expect("url");
        assert_eq!(
            preview(&t, &no_ext, 1, None),
            "example.org/01-image-{width}.jpg"
        );
    }

    #[test]
    fn dates_are_civil_dates() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_796_000_000), "2026-11-30");
    }
}
