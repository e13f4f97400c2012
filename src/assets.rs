//! Templates and static files, embedded in the binary at build time.
//!
//! A `templates/` or `static/` directory inside the configured assets dir
//! (default: the directory holding the executable) overrides embedded files
//! of the same name, for theming. Static files are written out at start-up
//! to `<data_dir>/static-cache/` so actix-files can serve them with ETag,
//! Last-Modified and Range support.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct EmbeddedTemplates;

#[derive(RustEmbed)]
#[folder = "static/"]
struct EmbeddedStatic;

const STATIC_CACHE: &str = "static-cache";

/// Build the Tera engine: embedded templates, then overrides. Autoescape is
/// on for `.html` (Tera's default).
pub fn templates(assets_dir: Option<&Path>) -> anyhow::Result<tera::Tera> {
    let mut sources: Vec<(String, String)> = Vec::new();
    for name in EmbeddedTemplates::iter() {
        let file = EmbeddedTemplates::get(&name)
            .with_context(|| format!("embedded template {name} vanished"))?;
        let text = String::from_utf8(file.data.into_owned())
            .with_context(|| format!("template {name} is not UTF-8"))?;
        sources.push((name.into_owned(), text));
    }
    if let Some(dir) = assets_dir
        .map(|d| d.join("templates"))
        .filter(|d| d.is_dir())
    {
        for (name, text) in &mut sources {
            let path = dir.join(&*name);
            if path.is_file() {
                *text = std::fs::read_to_string(&path)
                    .with_context(|| format!("Failed to read {}", path.display()))?;
                tracing::info!(template = %path.display(), "using template override");
            }
        }
    }
    let mut tera = tera::Tera::default();
    tera.add_raw_templates(sources)
        .context("Failed to compile the templates")?;
    Ok(tera)
}

/// Write the static files (embedded, then overrides) under the data dir and
/// return that directory for actix-files to serve.
pub fn materialize_static(data_dir: &Path, assets_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let root = data_dir.join(STATIC_CACHE);
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("Failed to clear {}", root.display()))?;
    }
    for name in EmbeddedStatic::iter() {
        let file = EmbeddedStatic::get(&name)
            .with_context(|| format!("embedded static file {name} vanished"))?;
        write_file(&root.join(&*name), &file.data)?;
    }
    if let Some(dir) = assets_dir.map(|d| d.join("static")).filter(|d| d.is_dir()) {
        copy_tree(&dir, &root)?;
        tracing::info!(dir = %dir.display(), "using static overrides");
    }
    Ok(root)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("Failed to write {}", path.display()))
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(from).with_context(|| format!("Failed to read {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())?;
            write_file(&target, &bytes)?;
        }
    }
    Ok(())
}
