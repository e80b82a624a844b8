//! `pixgrab get -i LIST` with inline images (issue 23, "Real files"): a `data:` image URL
//! in a list file is saved like a download, with no server at all; a bad one is skipped
//! or fails with a reason, and no line shows the payload.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::process::Command;

#[test]
fn get_with_a_list_of_data_urls_saves_the_inline_image() {
    // PngSuite's tbbn3p08 (a palette PNG with transparency).
    let png = support::corpus_file("image-rs/png/tbbn3p08.png");
    let encoded = support::base64(&png);
    let list = format!(
        "data:image/png;base64,{encoded}\n\
         <img src=\"data:image/png;base64,{encoded}\">\n\
         data:text/html,%3Cb%3Ehi%3C%2Fb%3E\n\
         data:image/gif;base64,R0lGOD!!hAQABAIAAAAAAAA\n"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let list_file = tmp.path().join("list.txt");
    std::fs::write(&list_file, list).expect("write list");
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--no-gallery-dl", "-i"])
        .arg(&list_file)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run pixgrab");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("skipped data:text/html,%3Cb%3Ehi%3C%2Fb%3E: not an image (got text/html)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(": damaged data: URL: bad base64"),
        "{stderr}"
    );
    assert!(stderr.contains("Downloaded 1 of 2 images"), "{stderr}");
    assert!(
        !stderr.contains(&encoded[..40]),
        "the payload is never printed: {stderr}"
    );
    let sha = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(&png))
    };
    let name = format!("inline-{}.png", &sha[..12]);
    assert_eq!(std::fs::read(out.join(&name)).expect("saved"), png);
    let thumbs = std::fs::read_dir(out.join(".pixgrab/thumbs"))
        .expect("thumb cache")
        .count();
    assert_eq!(thumbs, 1);
}
