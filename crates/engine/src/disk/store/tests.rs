//! Unit tests of `store`.

use super::*;
use std::io::Write;

#[test]
fn commit_never_overwrites_and_numbers_collisions() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(&tmp.path().join("new/nested"))?;
    fs::write(out.root().join("cat.jpg"), b"old")?;
    let mut part = out.create_part("cat", "jpg")?;
    part.file.write_all(b"new")?;
    assert!(part.path().ends_with("cat.jpg.part"));
    let path = out.commit(&mut part, "cat", "jpg")?;
    assert_eq!(path, out.root().join("cat (2).jpg"));
    assert_eq!(fs::read(out.root().join("cat.jpg"))?, b"old");
    assert_eq!(fs::read(&path)?, b"new");
    assert!(!out.root().join("cat.jpg.part").exists());
    Ok(())
}

#[test]
fn dropped_parts_leave_nothing_behind() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(tmp.path())?;
    let a = out.create_part("x", "png")?;
    let b = out.create_part("x", "png")?;
    assert!(b.path().ends_with("x (2).png.part"));
    drop((a, b));
    assert_eq!(fs::read_dir(out.root())?.count(), 0);
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_template_s_subfolders_are_made_but_never_through_a_symlink() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(&tmp.path().join("out"))?;
    let mut part = out.create_part("a", "jpg")?;
    part.file.write_all(b"data")?;
    let dirs = ["example.org".to_string(), "2026".to_string()];
    let path = out.commit_in(&mut part, &dirs, "a", "jpg")?;
    assert_eq!(path, out.root().join("example.org/2026/a.jpg"));
    assert_eq!(out.relative(&path), "example.org/2026/a.jpg");
    // A folder of that name that is a symlink (to outside) is refused, as is an
    // unsafe component.
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside)?;
    std::os::unix::fs::symlink(&outside, out.root().join("evil"))?;
    for dirs in [vec!["evil".to_string()], vec!["..".to_string()]] {
        let mut part = out.create_part("b", "jpg")?;
        part.file.write_all(b"data")?;
        assert!(
            out.commit_in(&mut part, &dirs, "b", "jpg").is_err(),
            "{dirs:?}"
        );
    }
    assert_eq!(fs::read_dir(&outside)?.count(), 0);
    Ok(())
}

#[cfg(unix)]
#[test]
fn symlinks_in_the_folder_are_not_followed() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(&tmp.path().join("out"))?;
    let victim = tmp.path().join("victim");
    fs::write(&victim, b"precious")?;
    std::os::unix::fs::symlink(&victim, out.root().join("a.jpg"))?;
    std::os::unix::fs::symlink(&victim, out.root().join("a.jpg.part"))?;
    let mut part = out.create_part("a", "jpg")?;
    part.file.write_all(b"data")?;
    let path = out.commit(&mut part, "a", "jpg")?;
    assert_eq!(path, out.root().join("a (2).jpg"));
    assert_eq!(fs::read(&victim)?, b"precious");
    Ok(())
}

#[test]
fn a_kept_part_survives_and_reopens_for_appending() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(tmp.path())?;
    let mut part = out.create_part("x", "png")?;
    part.file.write_all(b"abc")?;
    let name = part.name();
    part.keep();
    drop(part);
    let mut again = out.reopen_part(&name)?;
    again.file.write_all(b"def")?;
    again.keep();
    drop(again);
    assert_eq!(fs::read(out.root().join(&name))?, b"abcdef");
    // Not kept this time: dropping removes it.
    drop(out.reopen_part(&name)?);
    assert!(!out.root().join(&name).exists());
    assert!(out.reopen_part("../x.png.part").is_err());
    assert!(out.reopen_part("x.png").is_err());
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_part_that_is_a_symlink_is_never_opened_nor_its_target_touched() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(&tmp.path().join("out"))?;
    let victim = tmp.path().join("victim.txt");
    fs::write(&victim, b"precious")?;
    std::os::unix::fs::symlink(&victim, out.root().join("a.jpg.part"))?;
    let refused = out
        .reopen_part("a.jpg.part")
        .expect_err("a symlink is refused");
    assert_eq!(refused.raw_os_error(), Some(libc::ELOOP), "{refused}");
    assert_eq!(fs::read(&victim)?, b"precious");
    fs::create_dir(out.root().join("d.jpg.part"))?;
    assert!(
        out.reopen_part("d.jpg.part").is_err(),
        "a directory is refused"
    );
    Ok(())
}

#[test]
fn unsafe_names_are_refused() -> io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = OutputDir::open(tmp.path())?;
    assert!(out.create_part("../escape", "jpg").is_err());
    assert!(out.create_part("a/b", "jpg").is_err());
    Ok(())
}
