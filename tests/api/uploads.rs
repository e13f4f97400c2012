//! Uploads: the API and the no-JS form, types from content, limits, serving
//! with Range, and the room gallery.

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

fn image_bytes(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 20, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 12) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

fn padded(head: &[u8], total: usize) -> Vec<u8> {
    let mut bytes = head.to_vec();
    bytes.resize(total, 0x11);
    bytes
}

/// One small file of every allowed kind: (filename, bytes, kind, served type).
fn fixtures() -> Vec<(&'static str, Vec<u8>, &'static str, &'static str)> {
    vec![
        (
            "photo.png",
            image_bytes(image::ImageFormat::Png),
            "image",
            "image/png",
        ),
        (
            "photo.jpg",
            image_bytes(image::ImageFormat::Jpeg),
            "image",
            "image/jpeg",
        ),
        (
            "anim.gif",
            image_bytes(image::ImageFormat::Gif),
            "image",
            "image/gif",
        ),
        (
            "pic.webp",
            image_bytes(image::ImageFormat::WebP),
            "image",
            "image/webp",
        ),
        (
            "doc.pdf",
            b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec(),
            "pdf",
            "application/pdf",
        ),
        (
            "notes.txt",
            "Shopping: café, thé ☕\n".as_bytes().to_vec(),
            "text",
            "text/plain; charset=utf-8",
        ),
        (
            "song.mp3",
            padded(b"ID3\x03\x00\x00\x00\x00\x00\x00", 2048),
            "audio",
            "audio/mpeg",
        ),
        (
            "song.ogg",
            padded(b"OggS\x00\x02\x00\x00", 2048),
            "audio",
            "audio/ogg",
        ),
        (
            "sound.wav",
            padded(b"RIFF\x24\x08\x00\x00WAVEfmt ", 2048),
            "audio",
            "audio/wav",
        ),
        (
            "voice.m4a",
            padded(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", 2048),
            "audio",
            "audio/mp4",
        ),
        (
            "clip.mp4",
            padded(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", 4096),
            "video",
            "video/mp4",
        ),
        (
            "clip.webm",
            padded(
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm",
                4096,
            ),
            "video",
            "video/webm",
        ),
    ]
}

async fn api_upload(
    app: &TestApp,
    token: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
    caption: &str,
) -> reqwest::Response {
    let form = Form::new().text("caption", caption.to_string()).part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    app.api(Method::POST, &format!("/api/rooms/{room}/uploads"), token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Files under uploads/ other than thumbnails and the temp dir.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir.join("uploads"), &mut out);
    out.retain(|p| !p.to_string_lossy().contains("/thumbs/"));
    out
}

#[actix_web::test]
async fn every_allowed_kind_uploads_comes_back_byte_identical_and_goes_live() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    let bob = app.api_user("bob").await;
    app.api_create_room(&alice, "media").await;
    let mut b = app.joined(&bob, "media").await;
    for (name, bytes, kind, mime) in fixtures() {
        let res = api_upload(
            &app,
            &alice,
            "media",
            name,
            bytes.clone(),
            &format!("a {kind}"),
        )
        .await;
        assert_eq!(
            res.status().as_u16(),
            201,
            "{name}: {}",
            res.text().await.unwrap()
        );
        let body: Value = res.json().await.unwrap();
        let attachment = &body["message"]["attachment"];
        assert_eq!(attachment["kind"], kind, "{name}");
        assert_eq!(attachment["mime"], mime, "{name}");
        assert_eq!(attachment["name"], name);
        assert_eq!(attachment["size"], bytes.len());
        if kind == "image" {
            assert_eq!(
                (attachment["width"].as_i64(), attachment["height"].as_i64()),
                (Some(40), Some(20))
            );
        }
        // Bob's socket gets the message with its attachment.
        let live = expect_type(&mut b, "message").await;
        assert_eq!(live["attachment"]["id"], attachment["id"]);
        assert_eq!(live["body"], format!("a {kind}"));
        // Fetched back, byte for byte, with the stored type.
        let url = attachment["url"].as_str().unwrap();
        let res = app.api(Method::GET, url, &bob).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-type"], mime, "{name}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        let inline = matches!(kind, "image" | "audio" | "video");
        assert_eq!(
            disposition.starts_with("inline"),
            inline,
            "{name}: {disposition}"
        );
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        assert!(res.headers().contains_key("etag"));
        assert_eq!(res.bytes().await.unwrap().to_vec(), bytes, "{name}");
    }
    // History and resume include the attachments.
    let list: Value = app.get_json("/api/rooms/media/messages", &bob).await;
    assert_eq!(list["messages"].as_array().unwrap().len(), fixtures().len());
    assert!(list["messages"][0]["attachment"]["url"].is_string());
}

#[actix_web::test]
async fn identical_files_are_stored_once_and_images_get_thumbnails() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "dupes").await;
    let png = image_bytes(image::ImageFormat::Png);
    let first: Value = api_upload(&app, &alice, "dupes", "a.png", png.clone(), "")
        .await
        .json()
        .await
        .unwrap();
    let second: Value = api_upload(&app, &alice, "dupes", "b.png", png, "again")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        first["message"]["attachment"]["id"],
        second["message"]["attachment"]["id"]
    );
    assert_eq!(stored_files(&app).len(), 1, "{:?}", stored_files(&app));
    let thumb = first["message"]["attachment"]["thumb_url"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app.api(Method::GET, &thumb, &alice).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let bytes = res.bytes().await.unwrap();
    assert!(image::load_from_memory(&bytes).is_ok());
}

#[actix_web::test]
async fn range_requests_stream_and_seek_media() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "video").await;
    let video = padded(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", 4096);
    let body: Value = api_upload(&app, &alice, "video", "clip.mp4", video.clone(), "")
        .await
        .json()
        .await
        .unwrap();
    let url = body["message"]["attachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |range: &'static str| {
        let req = app.api(Method::GET, &url, &alice).header("range", range);
        async move { req.send().await.unwrap() }
    };
    let res = get("bytes=0-99").await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 0-99/4096");
    assert_eq!(res.bytes().await.unwrap().to_vec(), video[..100].to_vec());
    let res = get("bytes=-100").await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(
        res.bytes().await.unwrap().to_vec(),
        video[4096 - 100..].to_vec()
    );
    let res = get("bytes=4000-").await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.bytes().await.unwrap().len(), 96);
    // Several ranges: the first is served.
    let res = get("bytes=0-9,20-29").await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.bytes().await.unwrap().len(), 10);
    let res = get("bytes=5000-6000").await;
    assert_eq!(res.status().as_u16(), 416);
    assert_eq!(res.headers()["content-range"], "bytes */4096");
}

#[actix_web::test]
async fn bad_uploads_are_refused_clearly_and_leave_nothing_behind() {
    let app = spawn_app_with(|c| {
        c.max_upload_bytes = 64 * 1024;
    })
    .await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "bad").await;

    // Over the limit: 413, and no file in the data dir.
    let res = api_upload(&app, &alice, "bad", "big.png", vec![7u8; 200 * 1024], "").await;
    assert_eq!(res.status().as_u16(), 413);
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "evil.png",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
            415,
            "HTML",
        ),
        (
            "pic.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            415,
            "SVG",
        ),
        (
            "prog.exe",
            padded(b"MZ\x90\x00\x03\x00\x00\x00", 512),
            415,
            "not accepted",
        ),
        (
            "blob.bin",
            vec![0u8, 159, 146, 150, 0, 1],
            415,
            "not accepted",
        ),
        ("empty.txt", Vec::new(), 400, "empty"),
    ];
    for (name, bytes, status, says) in cases {
        let res = api_upload(&app, &alice, "bad", name, bytes, "").await;
        assert_eq!(res.status().as_u16(), status, "{name}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{name}: {body}"
        );
    }
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));

    // A caption is held to the rules of a message body.
    for caption in ["bell\u{7}", &"x".repeat(5000)] {
        let res = api_upload(&app, &alice, "bad", "a.txt", b"hello".to_vec(), caption).await;
        assert_eq!(res.status().as_u16(), 400, "{caption:.20}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().len() > 10,
            "{body}"
        );
    }

    // No file field at all.
    let form = Form::new().text("caption", "no file");
    let res = app
        .api(Method::POST, "/api/rooms/bad/uploads", &alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Choose a file"));

    // A truncated multipart body.
    let res = app
        .api(Method::POST, "/api/rooms/bad/uploads", &alice)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(stored_files(&app).is_empty());

    // Not logged in.
    let form = Form::new().part("file", Part::bytes(b"hi there".to_vec()).file_name("a.txt"));
    let res = reqwest::Client::new()
        .post(app.url("/api/rooms/bad/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[actix_web::test]
async fn hostile_filenames_are_only_ever_display_text() {
    let app = spawn_app().await;
    let alice = app.api_user("alice").await;
    app.api_create_room(&alice, "names").await;
    // A NUL in the part header is refused as unreadable, with a clear message.
    let res = api_upload(
        &app,
        &alice,
        "names",
        "pa\0ss.txt",
        b"plain words\n".to_vec(),
        "",
    )
    .await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]["message"].is_string());
    let res = api_upload(
        &app,
        &alice,
        "names",
        "../../etc/pass;wd<b>.txt",
        b"plain words\n".to_vec(),
        "",
    )
    .await;
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.unwrap();
    let name = body["message"]["attachment"]["name"].as_str().unwrap();
    assert!(
        !name.contains('/') && !name.contains('\0') && !name.contains('"') && !name.contains('<'),
        "{name}"
    );
    assert!(!app.data_dir.join("etc").exists());
    let url = body["message"]["attachment"]["url"].as_str().unwrap();
    let res = app.api(Method::GET, url, &alice).send().await.unwrap();
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
}

#[actix_web::test]
async fn the_no_js_form_uploads_needs_csrf_and_shows_the_image_on_the_page() {
    let app = spawn_app().await;
    app.signed_up("alice").await;
    app.create_room("pics").await;
    let page = app.get_text("/rooms/pics").await;
    let csrf = csrf_in(&page);
    let png = image_bytes(image::ImageFormat::Png);
    let form = Form::new()
        .text("csrf", csrf)
        .text("caption", "<b>sunset</b>")
        .part("file", Part::bytes(png.clone()).file_name("sunset.png"));
    let res = app
        .client
        .post(app.url("/rooms/pics/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/rooms/pics");
    let page = app.get_text("/rooms/pics").await;
    assert!(
        page.contains("<img src=\"&#x2F;uploads&#x2F;1&#x2F;thumb\""),
        "{page}"
    );
    assert!(
        page.contains("&lt;b&gt;sunset&lt;&#x2F;b&gt;"),
        "caption escaped"
    );
    let gallery = app.get_text("/rooms/pics/media").await;
    assert!(
        gallery.contains("&#x2F;uploads&#x2F;1&#x2F;thumb") && gallery.contains("&lt;b&gt;sunset")
    );

    // Without the token: refused before the file is read.
    let form = Form::new().part("file", Part::bytes(png).file_name("x.png"));
    let res = app
        .client
        .post(app.url("/rooms/pics/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // Not logged in: refused.
    let form = Form::new().part("file", Part::bytes(b"hi".to_vec()).file_name("x.txt"));
    let res = new_client()
        .post(app.url("/rooms/pics/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // Files are for logged-in users only.
    let res = new_client()
        .get(app.url("/uploads/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}
