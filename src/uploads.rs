//! File storage for uploads: stream to a temporary file while hashing and
//! counting, decide the type from the content (magic bytes, never the
//! client's name or Content-Type), then move it to content-addressed storage
//! `<data_dir>/uploads/ab/cd/<sha256>` (identical files are stored once).
//! Image thumbnails are made once, at upload, on the blocking pool.
//!
//! Nothing here trusts the client's filename: it is kept (sanitised) for
//! display and `Content-Disposition` only, and never touches a path.

use std::io::Write;
use std::path::{Path, PathBuf};

use actix_web::web;
use anyhow::Context;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

/// Bytes kept from the start of a file to recognise its type.
const SNIFF_BYTES: usize = 8 * 1024;
/// Longest side of a thumbnail, in pixels.
pub const THUMB_MAX: u32 = 480;
/// Longest kept original filename, in characters.
const NAME_MAX_CHARS: usize = 120;

/// What kind of file an upload is, decided from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Audio,
    Video,
    Pdf,
    Text,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Pdf => "pdf",
            Kind::Text => "text",
        }
    }

    /// Images, audio and video play in the page; the rest download.
    pub fn inline(kind: &str) -> bool {
        matches!(kind, "image" | "audio" | "video")
    }
}

/// Why an upload was refused, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("The file is larger than the {0} MB limit.")]
    TooLarge(u64),
    #[error("The file is empty.")]
    Empty,
    #[error("{0}")]
    Unsupported(String),
    #[error("The upload was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// A file now in storage.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub kind: Kind,
    pub mime: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The storage layout under the data dir.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(data_dir: &Path) -> anyhow::Result<Self> {
        let root = data_dir.join("uploads");
        for dir in [root.join("tmp"), root.join("thumbs")] {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("Failed to create {}", dir.display()))?;
        }
        // Temporary files of an upload interrupted by a crash are garbage.
        if let Ok(entries) = std::fs::read_dir(root.join("tmp")) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Store { root })
    }

    /// `uploads/ab/cd/<sha256>`.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    pub fn thumb_of(&self, sha256: &str) -> PathBuf {
        self.root.join("thumbs").join(format!("{sha256}.jpg"))
    }

    /// Stream `body` to storage. Refuses, leaving nothing behind, when it
    /// passes `limit` bytes, is empty, or is not an allowed type.
    pub async fn save<S, E>(&self, mut body: S, limit: u64) -> Result<StoredFile, UploadError>
    where
        S: Stream<Item = Result<web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_dir = self.root.join("tmp");
        let file = web::block(move || tempfile::NamedTempFile::new_in(tmp_dir))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context("Failed to create a temporary upload file")?;
        let (file, tmp_path) = file.into_parts();
        // The TempPath deletes the file when dropped: on every early return.
        let mut file = Some(file);
        let mut hasher = Sha256::new();
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut text = TextCheck::default();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(UploadError::TooLarge(limit / (1024 * 1024)));
            }
            hasher.update(&chunk);
            text.feed(&chunk);
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            let mut f = file
                .take()
                .ok_or_else(|| anyhow::anyhow!("upload file lost"))?;
            let f = web::block(move || f.write_all(&chunk).map(|_| f))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("Failed to write the upload")?;
            file = Some(f);
        }
        if size == 0 {
            return Err(UploadError::Empty);
        }
        let (kind, mime) = sniff(&head, text.is_text())?;
        let sha256 = hex::encode(hasher.finalize());
        let target = self.path_of(&sha256);
        let thumb = self.thumb_of(&sha256);
        let stored = web::block(move || -> anyhow::Result<(Option<u32>, Option<u32>)> {
            if let Some(f) = file {
                f.sync_all().context("Failed to sync the upload")?;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if !target.exists() {
                tmp_path
                    .persist(&target)
                    .context("Failed to move the upload into storage")?;
            }
            if kind != Kind::Image {
                return Ok((None, None));
            }
            // Stored files have no extension: the format comes from the content.
            let (w, h) = image::ImageReader::open(&target)
                .and_then(|r| r.with_guessed_format())
                .ok()
                .and_then(|r| r.into_dimensions().ok())
                .context("unreadable image")?;
            if !thumb.exists() {
                if let Err(err) = make_thumbnail(&target, &thumb) {
                    tracing::warn!(error = %err, "could not make a thumbnail");
                }
            }
            Ok((Some(w), Some(h)))
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (width, height) = match stored {
            Ok(dims) => dims,
            Err(err) if err.to_string() == "unreadable image" => {
                return Err(UploadError::Unsupported(
                    "That image could not be read: it may be damaged.".into(),
                ))
            }
            Err(err) => return Err(UploadError::Io(err)),
        };
        Ok(StoredFile {
            sha256,
            size,
            kind,
            mime,
            width,
            height,
        })
    }
}

/// Decide the type from the first bytes. Only the allowed types pass.
fn sniff(head: &[u8], is_text: bool) -> Result<(Kind, &'static str), UploadError> {
    if let Some(found) = infer::get(head) {
        if found.mime_type().contains("html") || found.mime_type().contains("xml") {
            return Err(markup_refused());
        }
        let allowed = match found.mime_type() {
            "image/png" => Some((Kind::Image, "image/png")),
            "image/jpeg" => Some((Kind::Image, "image/jpeg")),
            "image/gif" => Some((Kind::Image, "image/gif")),
            "image/webp" => Some((Kind::Image, "image/webp")),
            "application/pdf" => Some((Kind::Pdf, "application/pdf")),
            "audio/mpeg" => Some((Kind::Audio, "audio/mpeg")),
            "audio/ogg" | "audio/opus" => Some((Kind::Audio, "audio/ogg")),
            "audio/x-wav" => Some((Kind::Audio, "audio/wav")),
            "audio/m4a" | "audio/x-m4a" => Some((Kind::Audio, "audio/mp4")),
            "video/mp4" => Some((Kind::Video, "video/mp4")),
            "video/webm" => Some((Kind::Video, "video/webm")),
            _ => None,
        };
        return allowed.ok_or_else(|| {
            UploadError::Unsupported(format!(
                "Files of type {} are not accepted. Allowed: images (PNG, JPEG, GIF, WebP), PDF, plain text, audio (MP3, Ogg, WAV, M4A) and video (MP4, WebM).",
                found.mime_type()
            ))
        });
    }
    if is_text {
        if looks_like_markup(head) {
            return Err(markup_refused());
        }
        return Ok((Kind::Text, "text/plain; charset=utf-8"));
    }
    Err(UploadError::Unsupported(
        "That type of file is not accepted. Allowed: images (PNG, JPEG, GIF, WebP), PDF, plain text, audio (MP3, Ogg, WAV, M4A) and video (MP4, WebM).".into(),
    ))
}

fn markup_refused() -> UploadError {
    UploadError::Unsupported(
        "HTML, SVG and XML files are not accepted: they can carry scripts.".into(),
    )
}

/// Markup a browser would render (and run scripts in) if it ever sniffed it.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let start = text.trim_start_matches('\u{feff}').trim_start();
    [
        "<!doctype",
        "<html",
        "<svg",
        "<?xml",
        "<script",
        "<head",
        "<body",
        "<iframe",
        "<!--",
    ]
    .iter()
    .any(|tag| start.starts_with(tag))
}

/// Streaming check that a file is UTF-8 text without control characters
/// (tab, newline and carriage return allowed).
#[derive(Default)]
struct TextCheck {
    carry: Vec<u8>,
    bad: bool,
}

impl TextCheck {
    fn feed(&mut self, chunk: &[u8]) {
        if self.bad {
            return;
        }
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let valid = match std::str::from_utf8(&bytes) {
            Ok(s) => s,
            Err(err) if err.error_len().is_none() => {
                // An incomplete character at the end: keep it for the next chunk.
                let (ok, rest) = bytes.split_at(err.valid_up_to());
                self.carry = rest.to_vec();
                std::str::from_utf8(ok).unwrap_or_default()
            }
            Err(_) => {
                self.bad = true;
                return;
            }
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            self.bad = true;
        }
    }

    fn is_text(&self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

fn make_thumbnail(original: &Path, thumb: &Path) -> anyhow::Result<()> {
    let img = image::ImageReader::open(original)?
        .with_guessed_format()?
        .decode()?;
    let small = img.thumbnail(THUMB_MAX, THUMB_MAX).to_rgb8();
    let tmp = thumb.with_extension("tmp");
    small.save_with_format(&tmp, image::ImageFormat::Jpeg)?;
    std::fs::rename(&tmp, thumb)?;
    Ok(())
}

/// A client filename made safe for display and `Content-Disposition`: the
/// last path component, without control characters or quotes, trimmed,
/// at most 120 characters; "file" when nothing is left.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ';'))
        .take(NAME_MAX_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_controls_and_quotes() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\\\Users\\\\me\\\\cat.png"), "cat.png");
        assert_eq!(sanitize_filename("a\0b\n\"c\".txt"), "abc.txt");
        assert_eq!(sanitize_filename(".."), "file");
        assert_eq!(sanitize_filename(""), "file");
        assert_eq!(sanitize_filename(".hidden"), "hidden");
        assert_eq!(sanitize_filename(&"x".repeat(500)).len(), 120);
    }

    #[test]
    fn types_come_from_the_content() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
        ];
        assert_eq!(sniff(&png, false).unwrap().0, Kind::Image);
        assert_eq!(sniff(b"%PDF-1.7\n", false).unwrap().0, Kind::Pdf);
        assert_eq!(
            sniff(b"just some notes\n", true).unwrap().1,
            "text/plain; charset=utf-8"
        );
        assert!(sniff(b"<!DOCTYPE html><script>alert(1)</script>", true).is_err());
        assert!(sniff(
            b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
            true
        )
        .is_err());
        assert!(
            sniff(b"MZ\x90\x00\x03", false).is_err(),
            "a Windows executable"
        );
        assert!(sniff(&[0, 1, 2, 3, 255], false).is_err());
    }

    #[test]
    fn the_text_check_handles_split_characters_and_rejects_binary() {
        let mut t = TextCheck::default();
        let euro = "€".as_bytes();
        t.feed(&euro[..1]);
        t.feed(&euro[1..]);
        t.feed(b" ok\n");
        assert!(t.is_text());
        let mut bin = TextCheck::default();
        bin.feed(b"abc\x00def");
        assert!(!bin.is_text());
        let mut bad = TextCheck::default();
        bad.feed(&[0xff, 0xfe]);
        assert!(!bad.is_text());
    }
}
