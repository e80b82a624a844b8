//! What the package installs from `assets/` is current and valid: the man pages and
//! shell completions in `assets/generated/` are what the binary's grammar makes now
//! (`pixgrab package-assets`), and the desktop entry names the icon and the binary the
//! package ships.

use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["man", "completions"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        names.sort();
        for name in names {
            let path = dir.join(sub).join(&name);
            let bytes = std::fs::read(&path).expect("read");
            out.push((format!("{sub}/{}", name.to_string_lossy()), bytes));
        }
    }
    out
}

#[test]
fn the_man_pages_and_completions_in_assets_are_current() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .arg("package-assets")
        .arg(tmp.path())
        .output()
        .expect("pixgrab package-assets");
    assert!(made.status.success(), "{made:?}");
    let now = files(tmp.path());
    let committed = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/generated"));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&now),
        "run: cargo run -- package-assets assets/generated"
    );
    for ((name, old), (_, new)) in committed.iter().zip(&now) {
        assert!(
            old == new,
            "assets/generated/{name} is stale: run `cargo run -- package-assets assets/generated`"
        );
    }
    // Every subcommand a user can run has its page; bash completes `pixgrab g` to `get`.
    for page in [
        "pixgrab.1",
        "pixgrab-get.1",
        "pixgrab-find.1",
        "pixgrab-install-browser-host.1",
    ] {
        assert!(names(&now).contains(&format!("man/{page}")), "{page}");
    }
    let bash = String::from_utf8_lossy(
        &now.iter()
            .find(|(n, _)| n == "completions/pixgrab.bash")
            .expect("bash")
            .1,
    )
    .to_string();
    assert!(bash.contains("get") && bash.contains("install-browser-host"));
}

#[test]
fn the_desktop_entry_names_what_the_package_ships() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let desktop = std::fs::read_to_string(root.join("assets/pixgrab.desktop")).expect("desktop");
    let line = |key: &str| {
        desktop
            .lines()
            .find(|l| l.starts_with(&format!("{key}=")))
            .map(|l| l[key.len() + 1..].to_string())
            .unwrap_or_default()
    };
    assert_eq!(line("Icon"), "pixgrab");
    assert!(line("Exec").starts_with("pixgrab "), "{}", line("Exec"));
    assert_eq!(line("MimeType"), "text/uri-list;");
    for size in [48, 64, 128, 256, 512] {
        let png = root.join(format!(
            "assets/icons/hicolor/{size}x{size}/apps/pixgrab.png"
        ));
        let image = image::open(&png).expect("icon");
        assert_eq!(
            (image.width(), image.height()),
            (size, size),
            "{}",
            png.display()
        );
    }
    assert!(
        root.join("assets/icons/hicolor/scalable/apps/pixgrab.svg")
            .is_file()
    );
    let metainfo =
        std::fs::read_to_string(root.join("assets/io.github.pixgrab.Pixgrab.metainfo.xml"))
            .expect("metainfo");
    assert!(metainfo.contains("<launchable type=\"desktop-id\">pixgrab.desktop</launchable>"));
    assert!(metainfo.contains("<binary>pixgrab</binary>"));
}
